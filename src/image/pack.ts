/**
 * Writes a Tree as one image or archive of the chosen output format. This is where formats meet
 * compression; the format modules themselves know nothing of each other.
 */
import type { Sink } from '../io/sink.js';
import type { Tree } from '../tree/tree.js';
import { GzipSink } from '../compress/gzip.js';
import { writeTar } from '../formats/tar/index.js';
import { writeCpio } from '../formats/cpio/index.js';
import type { OutputFormat } from './output-formats.js';

export interface PackOptions {
  /** Header flavour of tar outputs. */
  tarFormat: 'gnu' | 'pax' | 'ustar';
  /** Deflate level of `.gz` outputs. */
  gzipLevel: number;
  warn: (message: string) => void;
}

export async function packTree(tree: Tree, format: OutputFormat, sink: Sink, options: PackOptions): Promise<void> {
  switch (format) {
    case 'tar':
      return writeTar(tree, sink, { format: options.tarFormat, warn: options.warn });
    case 'cpio':
      return writeCpio(tree, sink, { warn: options.warn });
    case 'tar.gz':
    case 'cpio.gz': {
      const gz = new GzipSink(sink, { level: options.gzipLevel });
      await packTree(tree, format === 'tar.gz' ? 'tar' : 'cpio', gz, options);
      await gz.close();
      return;
    }
  }
}
