/**
 * The outputs `pack` can write, named and recognized from an output file name: every writable
 * format of the registry (src/formats/registry.ts), and each compressible one (tar, cpio) also
 * as `.gz`, `.xz` and `.zst`. A new writable format appears here by its registry line alone.
 */
import { ReprimageError } from '../errors.js';
import { FORMATS } from '../formats/registry.js';
import type { FormatDefinition } from '../formats/format.js';

/** Whole-output compressions: the name part and the file name endings that choose it. */
export const OUTPUT_COMPRESSIONS = [
  { codec: 'gzip', name: 'gz', suffix: '.gz', tarShort: '.tgz' },
  { codec: 'xz', name: 'xz', suffix: '.xz', tarShort: '.txz' },
  { codec: 'zstd', name: 'zst', suffix: '.zst', tarShort: '.tzst' },
] as const;
export type OutputCompression = (typeof OUTPUT_COMPRESSIONS)[number]['codec'];

/** An output of `pack`: the format written and the compression around it, if any. */
export interface OutputChoice {
  /** As `--format` takes it and `pack --json` reports it: `tar`, `tar.zst`, `iso` … */
  name: string;
  format: FormatDefinition;
  compression?: OutputCompression;
}

function outputs(): OutputChoice[] {
  const out: OutputChoice[] = [];
  for (const format of FORMATS.filter((f) => f.writable)) {
    for (const [i, name] of format.outputNames.entries()) {
      // aliases name the format only; each compressed form is listed once, under the first name
      out.push({ name, format });
      if (format.compressible && i === 0) for (const c of OUTPUT_COMPRESSIONS) out.push({ name: `${name}.${c.name}`, format, compression: c.codec });
    }
  }
  // the order people know them in: archives first, then file systems
  return out.sort((a, b) => rank(a.format) - rank(b.format));
}

const LISTING_ORDER = ['tar', 'cpio', 'squashfs', 'iso9660', 'fat', 'ext4'];
const rank = (f: FormatDefinition) => (LISTING_ORDER.includes(f.id) ? LISTING_ORDER.indexOf(f.id) : LISTING_ORDER.length);

export const OUTPUT_FORMATS: readonly string[] = outputs().map((o) => o.name);
export type OutputFormat = string;

/** Name endings, longest first, so `.tar.gz` wins over `.gz`; `.tgz`, `.txz` and `.tzst` for tar. */
function suffixTable(): Array<[string, OutputChoice]> {
  const table: Array<[string, OutputChoice]> = [];
  for (const o of outputs()) {
    const c = OUTPUT_COMPRESSIONS.find((c) => c.codec === o.compression);
    for (const s of o.format.suffixes) table.push([s + (c?.suffix ?? ''), o]);
    if (c && o.format.id === 'tar') table.push([c.tarShort, o]);
  }
  return table.sort((a, b) => b[0].length - a[0].length);
}

/** The output named by `--format`, or else the one the output name's suffix implies. */
export function chooseOutput(output: string, explicit: string | undefined): OutputChoice {
  const all = outputs();
  if (explicit !== undefined) {
    const found = all.find((o) => o.name === explicit);
    if (found) return found;
    throw new ReprimageError('USAGE', '--format', `unknown format '${explicit}' (known: ${OUTPUT_FORMATS.join(', ')})`);
  }
  const lower = output.toLowerCase();
  for (const [suffix, choice] of suffixTable()) if (lower.endsWith(suffix)) return choice;
  throw new ReprimageError('USAGE', output, `cannot tell the format from the name; pass --format (${OUTPUT_FORMATS.join(', ')})`);
}

/** The format named by `--format`, or else the one the output name's suffix implies. */
export function chooseOutputFormat(output: string, explicit: string | undefined): OutputFormat {
  return chooseOutput(output, explicit).name;
}
