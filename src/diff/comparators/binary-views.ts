/**
 * Views of binaries that are neither text nor a format we open, before the hex dump: for ELF
 * files the views diffoscope shows (readelf headers, symbols, relocations, dynamic section,
 * notes, version info; `strings`; objdump disassembly of the code sections that differ; readelf
 * hex dumps of the other sections that differ), named by their command line as diffoscope names
 * them; our own ELF header and section views when readelf is not installed; and `file`'s verdict
 * for any binary. The hex dump of the whole file stays the last resort.
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Blob } from '../blob.js';
import { Difference } from '../difference.js';
import { describeElfHeader, describeElfSections, describeElfSegments, isElf, parseElf, sectionBytes, SHF_EXECINSTR, SHT_NOBITS, type ElfFile, type ElfSection } from '../elf.js';
import { runTool, toolInstalled } from '../external-tools.js';
import type { UnifiedDiffOptions } from '../unified.js';
import { makeTemporaryDirectory } from '../../io/temporaries.js';
import { binaryDifference } from './binary.js';
import { readAll } from './text.js';

/** Binaries larger than this get only the hex dump (the tools' output would be unbounded). */
export const VIEW_LIMIT = 64 << 20;

export interface BinaryViews {
  /** View nodes that differ. */
  details: Difference[];
  comments: string[];
  /** Whether the views explain the difference (else the hex dump follows). */
  explains: boolean;
}

const READELF_VIEWS = ['--file-header', '--program-header', '--sections', '--symbols', '--relocs', '--dynamic', '--notes', '--version-info'];
/** Section types readelf's views above already show: symbol tables, relocations, dynamic, notes. */
const SHOWN_TYPES = new Set([2, 4, 6, 7, 9, 11, 0x6ffffffd, 0x6ffffffe, 0x6fffffff]);
/** At most this many sections are disassembled or dumped (the largest differences are usually in the first). */
const MAX_SECTIONS = 24;
/** Views run at once (each runs its tool on both sides). */
const TOOLS_AT_ONCE = 3;

export async function binaryViews(a: Blob, b: Blob, names: [string, string], options: UnifiedDiffOptions): Promise<BinaryViews> {
  const out: BinaryViews = { details: [], comments: [], explains: false };
  if (a.size > VIEW_LIMIT || b.size > VIEW_LIMIT) return out;
  const [ha, hb] = await Promise.all([a.head(64), b.head(64)]);
  const elf = isElf(ha) && isElf(hb);
  // file(1) needs an ELF file whole (its section headers are at the end); of others, the start
  const [ba, bb] = await Promise.all([a, b].map((x) => (elf ? readAll(x) : x.head(1 << 20))));
  if (elf) await elfViews([ba!, bb!], names, options, out);
  if (toolInstalled('file')) {
    const [fa, fb] = await Promise.all([ba!, bb!].map(async (bytes) => (await runTool('file', ['--brief', '-'], bytes)).text));
    const d = Difference.fromText('filetype from file(1)', 'filetype from file(1)', fa!, fb!, options);
    if (d) out.details.unshift(d);
  }
  return out;
}

async function elfViews([ba, bb]: [Uint8Array, Uint8Array], names: [string, string], options: UnifiedDiffOptions, out: BinaryViews): Promise<void> {
  const [ea, eb] = [parseElf(ba), parseElf(bb)];
  if (!ea || !eb) {
    out.comments.push('ELF headers could not be read: compared as bytes');
    return;
  }
  const changed = differingSections(ea, ba, eb, bb);
  if (toolInstalled('readelf')) {
    await toolViews([ba, bb], names, changed, options, out);
  } else {
    out.comments.push("readelf not found (Debian package binutils): showing reprimage's own view of the ELF headers");
    const digest = (x: Uint8Array) => createHash('sha256').update(x).digest('hex').slice(0, 16);
    const views: Array<[string, string, string]> = [
      ['ELF header', describeElfHeader(ea, ba), describeElfHeader(eb, bb)],
      ['program headers', describeElfSegments(ea), describeElfSegments(eb)],
      ['section headers', describeElfSections(ea, ba, digest), describeElfSections(eb, bb, digest)],
    ];
    for (const [name, x, y] of views) {
      const d = Difference.fromText(name, name, x, y, options);
      if (d) out.details.push(d);
    }
    // the bytes of each differing section, as a hex dump of that section alone
    for (const [sa, sb] of changed) {
      const label = `section ${sa.name} (hex dump)`;
      const bytes = (x: Uint8Array, s: ElfSection) => ({ size: sectionBytes(x, s).length, chunks: async function* () { yield sectionBytes(x, s); }, head: async (n: number) => sectionBytes(x, s).subarray(0, n), open: () => Promise.reject(new Error('not needed')) }) as Blob;
      const d = await binaryDifference(bytes(ba, sa), bytes(bb, sb), [label, label], options);
      if (d.unifiedDiff !== null) out.details.push(d);
    }
  }
  out.explains = out.details.length > 0;
}

/** Sections present on both sides (by name) whose bytes differ, in file order; at most MAX_SECTIONS. */
function differingSections(ea: ElfFile, ba: Uint8Array, eb: ElfFile, bb: Uint8Array): Array<[ElfSection, ElfSection]> {
  const byName = new Map(eb.sections.map((s) => [s.name, s]));
  const out: Array<[ElfSection, ElfSection]> = [];
  for (const sa of ea.sections) {
    const sb = byName.get(sa.name);
    if (!sb || sa.name === '' || sa.type === SHT_NOBITS) continue;
    if (Buffer.compare(sectionBytes(ba, sa), sectionBytes(bb, sb)) !== 0) out.push([sa, sb]);
    if (out.length >= MAX_SECTIONS) break;
  }
  return out;
}

/** Runs readelf, strings and objdump on both sides (written to a temporary directory) and diffs their outputs. */
async function toolViews(bytes: [Uint8Array, Uint8Array], names: [string, string], changed: Array<[ElfSection, ElfSection]>, options: UnifiedDiffOptions, out: BinaryViews): Promise<void> {
  const dir = await makeTemporaryDirectory('reprimage-diff-');
  try {
    const paths = await Promise.all(
      bytes.map(async (b, i) => {
        const p = join(dir.path, `${i}-${basename(names[i]!).replace(/[^\w.+-]/g, '_') || 'file'}`);
        await writeFile(p, b);
        return p;
      }),
    );
    const views: Array<[label: string, cmd: string, args: string[]]> = READELF_VIEWS.map((o) => [`readelf --wide ${o} {}`, 'readelf', ['--wide', o]]);
    if (toolInstalled('strings')) views.push(['strings --all --bytes=8 {}', 'strings', ['--all', '--bytes=8']]);
    for (const [s] of changed) {
      if ((s.flags & SHF_EXECINSTR) !== 0n && toolInstalled('objdump')) {
        const args = ['--line-numbers', '--disassemble', '--demangle', '--reloc', '--no-show-raw-insn', `--section=${s.name}`];
        views.push([`objdump ${args.join(' ')} {}`, 'objdump', args]);
      } else if (!SHOWN_TYPES.has(s.type)) {
        views.push([`readelf --wide --decompress --hex-dump=${s.name} {}`, 'readelf', ['--wide', '--decompress', `--hex-dump=${s.name}`]]);
      }
    }
    // a few tools at a time; results keep the order of the views
    const results: Array<Difference | undefined> = [];
    for (let i = 0; i < views.length; i += TOOLS_AT_ONCE) {
      results.push(
        ...(await Promise.all(
          views.slice(i, i + TOOLS_AT_ONCE).map(async ([label, cmd, args]) => {
            const [ra, rb] = await Promise.all(paths.map((p) => runTool(cmd, [...args, p])));
            const clean = (text: string, path: string) => tidy(cmd, text.split(path).join('{}'));
            const d = Difference.fromText(label, label, clean(ra!.text, paths[0]!), clean(rb!.text, paths[1]!), options);
            for (const r of [ra!, rb!]) if (r.problem && d) d.comments.push(`${cmd}: ${r.problem}`);
            return d;
          }),
        )),
      );
    }
    for (const d of results) if (d) out.details.push(d);
  } finally {
    await dir.remove();
  }
}

/**
 * objdump prints each instruction's address: drop it, so that code moved by a few bytes does not
 * make every later line differ (the instructions themselves still show).
 */
function tidy(cmd: string, text: string): string {
  return cmd === 'objdump' ? text.replace(/^ *[0-9a-f]+:\t/gm, '') : text;
}
