/** `reprimage pack SRC -o OUT`: one image or archive from a directory, archive or image. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Command } from 'commander';
import { ReprimageError } from '../errors.js';
import { writeAtomically } from '../io/atomic-output.js';
import { StreamSink } from '../io/sink.js';
import { openTree } from '../image/open-tree.js';
import { chooseOutputFormat, OUTPUT_FORMATS } from '../image/output-formats.js';
import { packTree } from '../image/pack.js';
import { addPolicyOptions, pathInsideSource, shapeTree, type PolicyOptionValues } from './policy-options.js';
import type { Reporter } from './reporter.js';

interface PackOptionValues extends PolicyOptionValues {
  output: string;
  format?: string;
  tarFormat: string;
  gzipLevel: string;
  xattrs: boolean;
  workers?: string;
  json?: boolean;
}

export function packCommand(reporter: Reporter): Command {
  const cmd = new Command('pack')
    .description('write one image or archive from a directory, archive or image')
    .argument('<src>', 'a directory, or a tar/cpio archive (compressed or not)')
    .requiredOption('-o, --output <file>', "the image to write ('-' for standard output, with --format)")
    .option('--format <format>', `output format (${OUTPUT_FORMATS.join(', ')}); default: from the output name`)
    .option('--tar-format <gnu|pax|ustar>', 'tar header flavour', 'gnu')
    .option('--gzip-level <1-9>', 'deflate level of .gz outputs', '9')
    .option('--no-xattrs', 'do not read extended attributes from a source directory')
    .option('--workers <n>', 'parallel workers (never changes the output bytes)')
    .option('--json', 'print a JSON summary of what was written');
  addPolicyOptions(cmd);
  return cmd.action(async (src: string, values: PackOptionValues) => {
    const format = chooseOutputFormat(values.output === '-' ? '' : values.output, values.format);
    const tarFormat = parseTarFormat(values.tarFormat);
    const gzipLevel = parseIntOption(values.gzipLevel, '--gzip-level', 1, 9);
    if (values.workers !== undefined) parseIntOption(values.workers, '--workers', 1, 256);
    const warn = (m: string) => reporter.warn(m);
    const input = await openTree(src, { warn, xattrs: values.xattrs });
    try {
      if (input.format === 'directory' && values.output !== '-') {
        const self = pathInsideSource(src, values.output);
        if (self !== undefined && input.tree.remove(self)) warn(`${values.output}: the output is inside the source; left out`);
      }
      await shapeTree(input.tree, values, reporter);
      const options = { tarFormat, gzipLevel, warn };
      if (values.output === '-') {
        const sink = new StreamSink(process.stdout, '<stdout>');
        await packTree(input.tree, format, sink, options);
        return;
      }
      await writeAtomically(values.output, (sink) => packTree(input.tree, format, sink, options));
    } finally {
      await input.close();
    }
    if (values.json) {
      const { size } = await stat(values.output);
      const sha256 = await sha256File(values.output);
      process.stdout.write(`${JSON.stringify({ output: values.output, format, size, sha256, input: input.format })}\n`);
    }
  });
}

function parseTarFormat(value: string): 'gnu' | 'pax' | 'ustar' {
  if (value === 'gnu' || value === 'pax' || value === 'ustar') return value;
  throw new ReprimageError('USAGE', '--tar-format', `expected gnu, pax or ustar, got '${value}'`);
}

export function parseIntOption(value: string, option: string, min: number, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ReprimageError('USAGE', option, `expected a whole number from ${min} to ${max}, got '${value}'`);
  }
  return n;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
