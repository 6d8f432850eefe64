// Shared pieces of the tar oracle tests: GNU tar's reproducible flag set, our writer run the way
// `reprimage pack` runs it, and a sink that keeps only the head of a huge archive.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeTar, type TarFlavour } from '../../src/formats/tar/index.js';
import { writeAtomically } from '../../src/io/atomic-output.js';
import type { Sink } from '../../src/io/sink.js';
import { loadDirectory } from '../../src/tree/load-dir.js';
import { applyPolicy } from '../../src/tree/policy.js';
import type { Tree } from '../../src/tree/tree.js';

/** The flags that make GNU tar 1.34 reproducible (docs/formats/tar.md). */
export function gnuFlags(epoch: number, owner: 'root' | 'keep' = 'root'): string[] {
  const owners = owner === 'root' ? ['--owner=0', '--group=0'] : [];
  return ['--sort=name', `--mtime=@${epoch}`, '--clamp-mtime', ...owners, '--numeric-owner'];
}

/** What pax needs on top: no pid in header names, no atime/ctime, and every xattr. */
export const PAX_FLAGS = ['--format=pax', '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime', '--xattrs', '--xattrs-include=*'];

export function formatFlags(format: TarFlavour): string[] {
  return format === 'pax' ? PAX_FLAGS : [`--format=${format}`];
}

/** Loads `src`, applies the policy `reprimage pack` would, and writes `out`. */
export async function ourTar(src: string, out: string, format: TarFlavour, epoch: number, owner: 'root' | 'keep' = 'root', warn?: (m: string) => void): Promise<Tree> {
  const tree = await loadDirectory(src);
  applyPolicy(tree, { buildTime: epoch, clampMtime: true, owner, permissions: 'keep', excludes: [], emptyFiles: [] });
  await writeAtomically(out, (sink) => writeTar(tree, sink, { format, buildTime: epoch, ...(warn ? { warn } : {}) }));
  return tree;
}

export const sha256File = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');

/** Keeps the first `keep` bytes and counts the rest: archives of multi-GiB members stay cheap. */
export class HeadSink implements Sink {
  readonly head: Uint8Array;
  #position = 0;
  constructor(keep: number) {
    this.head = new Uint8Array(keep);
  }
  get position(): number {
    return this.#position;
  }
  async write(bytes: Uint8Array): Promise<void> {
    if (this.#position < this.head.length) this.head.set(bytes.subarray(0, this.head.length - this.#position), this.#position);
    this.#position += bytes.length;
  }
  async writeAt(): Promise<void> {
    throw new Error('HeadSink cannot seek');
  }
  async flush(): Promise<void> {}
}
