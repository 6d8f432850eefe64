/**
 * The formats `pack` can write, how each is recognized from an output file name, and which
 * writer makes it. Adding an output format is adding one row here.
 */
import { ReprimageError } from '../errors.js';

export const OUTPUT_FORMATS = ['tar', 'tar.gz', 'cpio', 'cpio.gz', 'squashfs', 'iso', 'fat', 'ext4'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Longest suffix first, so `.tar.gz` wins over `.gz`. */
const SUFFIXES: Array<[string, OutputFormat]> = [
  ['.tar.gz', 'tar.gz'],
  ['.cpio.gz', 'cpio.gz'],
  ['.tgz', 'tar.gz'],
  ['.tar', 'tar'],
  ['.cpio', 'cpio'],
  ['.sqfs', 'squashfs'],
  ['.squashfs', 'squashfs'],
  ['.iso', 'iso'],
  ['.fat', 'fat'],
  ['.esp', 'fat'],
  ['.vfat', 'fat'],
  ['.ext4', 'ext4'],
];

/** The format named by `--format`, or else the one the output name's suffix implies. */
export function chooseOutputFormat(output: string, explicit: string | undefined): OutputFormat {
  if (explicit !== undefined) {
    if ((OUTPUT_FORMATS as readonly string[]).includes(explicit)) return explicit as OutputFormat;
    throw new ReprimageError('USAGE', '--format', `unknown format '${explicit}' (known: ${OUTPUT_FORMATS.join(', ')})`);
  }
  const lower = output.toLowerCase();
  for (const [suffix, format] of SUFFIXES) if (lower.endsWith(suffix)) return format;
  throw new ReprimageError('USAGE', output, `cannot tell the format from the name; pass --format (${OUTPUT_FORMATS.join(', ')})`);
}
