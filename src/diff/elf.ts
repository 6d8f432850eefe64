/**
 * A small reader of ELF headers for the differ: the file header, program headers and section
 * headers (with names), enough to show what changed in a binary when readelf is not installed,
 * and to pick the sections worth disassembling or dumping when it is. Never throws on a
 * malformed file: `parseElf` returns undefined and the differ falls back to other views.
 */

export interface ElfSection {
  name: string;
  type: number;
  flags: bigint;
  addr: bigint;
  offset: number;
  size: number;
}

export interface ElfSegment {
  type: number;
  flags: number;
  offset: bigint;
  vaddr: bigint;
  filesz: bigint;
  memsz: bigint;
  align: bigint;
}

export interface ElfFile {
  bits: 32 | 64;
  littleEndian: boolean;
  osabi: number;
  type: number;
  machine: number;
  entry: bigint;
  flags: number;
  segments: ElfSegment[];
  sections: ElfSection[];
}

export const SHF_EXECINSTR = 0x4n;
/** Section types without bytes in the file. */
export const SHT_NOBITS = 8;

export function isElf(head: Uint8Array): boolean {
  return head.length >= 16 && head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46 && (head[4] === 1 || head[4] === 2) && (head[5] === 1 || head[5] === 2);
}

/** The headers of an ELF file held in memory; undefined when they do not fit in it. */
export function parseElf(bytes: Uint8Array): ElfFile | undefined {
  if (!isElf(bytes)) return undefined;
  const bits = bytes[4] === 2 ? 64 : 32;
  const le = bytes[5] === 1;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const within = (at: number, n: number) => at >= 0 && at + n <= bytes.length;
  const u16 = (at: number) => v.getUint16(at, le);
  const u32 = (at: number) => v.getUint32(at, le);
  const addr = (at: number) => (bits === 64 ? v.getBigUint64(at, le) : BigInt(v.getUint32(at, le)));
  const w = bits === 64 ? 8 : 4;
  if (!within(0, bits === 64 ? 64 : 52)) return undefined;
  const phoff = Number(addr(24 + w));
  const shoff = Number(addr(24 + 2 * w));
  const at = 24 + 3 * w;
  const file: ElfFile = { bits, littleEndian: le, osabi: bytes[7]!, type: u16(16), machine: u16(18), entry: addr(24), flags: u32(at), segments: [], sections: [] };
  const phentsize = u16(at + 6);
  const phnum = u16(at + 8);
  const shentsize = u16(at + 10);
  const shnum = u16(at + 12);
  const shstrndx = u16(at + 14);
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (!within(p, bits === 64 ? 56 : 32)) return undefined;
    file.segments.push(
      bits === 64
        ? { type: u32(p), flags: u32(p + 4), offset: addr(p + 8), vaddr: addr(p + 16), filesz: addr(p + 32), memsz: addr(p + 40), align: addr(p + 48) }
        : { type: u32(p), offset: addr(p + 4), vaddr: addr(p + 8), filesz: addr(p + 16), memsz: addr(p + 20), flags: u32(p + 24), align: addr(p + 28) },
    );
  }
  const raw: Array<ElfSection & { nameAt: number }> = [];
  for (let i = 0; i < shnum; i++) {
    const s = shoff + i * shentsize;
    if (!within(s, bits === 64 ? 64 : 40)) return undefined;
    raw.push({ nameAt: u32(s), name: '', type: u32(s + 4), flags: addr(s + 8), addr: addr(s + 8 + w), offset: Number(addr(s + 8 + 2 * w)), size: Number(addr(s + 8 + 3 * w)) });
  }
  const strtab = raw[shstrndx];
  for (const s of raw) {
    let name = '';
    if (strtab && within(strtab.offset + s.nameAt, 1)) {
      const start = strtab.offset + s.nameAt;
      const end = bytes.indexOf(0, start);
      name = Buffer.from(bytes.subarray(start, end < 0 ? bytes.length : end)).toString('latin1');
    }
    const { nameAt: _ignored, ...section } = s;
    file.sections.push({ ...section, name });
  }
  return file;
}

/** A section's bytes, empty for sections that take no room in the file. */
export function sectionBytes(bytes: Uint8Array, s: ElfSection): Uint8Array {
  if (s.type === SHT_NOBITS || s.offset >= bytes.length) return new Uint8Array(0);
  return bytes.subarray(s.offset, Math.min(bytes.length, s.offset + s.size));
}

const hex = (n: bigint | number) => `0x${n.toString(16)}`;
const TYPES: Record<number, string> = { 0: 'NONE', 1: 'REL', 2: 'EXEC', 3: 'DYN', 4: 'CORE' };
const MACHINES: Record<number, string> = { 3: 'i386', 40: 'ARM', 62: 'x86-64', 183: 'AArch64', 243: 'RISC-V', 8: 'MIPS', 21: 'PowerPC64', 22: 's390' };

/** The file header as `key: value` lines, with the GNU build ID when there is one. */
export function describeElfHeader(f: ElfFile, bytes: Uint8Array): string {
  const lines = [
    `class: ELF${f.bits}`,
    `data: ${f.littleEndian ? 'little' : 'big'} endian`,
    `OS/ABI: ${f.osabi}`,
    `type: ${TYPES[f.type] ?? hex(f.type)}`,
    `machine: ${MACHINES[f.machine] ?? f.machine}`,
    `entry point: ${hex(f.entry)}`,
    `flags: ${hex(f.flags)}`,
    `program headers: ${f.segments.length}`,
    `section headers: ${f.sections.length}`,
  ];
  const note = f.sections.find((s) => s.name === '.note.gnu.build-id');
  if (note) {
    const b = sectionBytes(bytes, note);
    // namesz, descsz, type, "GNU\0", then the ID
    if (b.length >= 16) lines.push(`build ID: ${Buffer.from(b.subarray(16)).toString('hex')}`);
  }
  return `${lines.join('\n')}\n`;
}

export function describeElfSegments(f: ElfFile): string {
  const flags = (x: number) => `${x & 4 ? 'R' : ' '}${x & 2 ? 'W' : ' '}${x & 1 ? 'E' : ' '}`;
  return f.segments.map((p) => `type ${hex(p.type)} offset ${hex(p.offset)} vaddr ${hex(p.vaddr)} filesz ${hex(p.filesz)} memsz ${hex(p.memsz)} ${flags(p.flags)} align ${hex(p.align)}\n`).join('');
}

/** One line per section: name, type, address, offset, size, flags, and a digest of its bytes. */
export function describeElfSections(f: ElfFile, bytes: Uint8Array, digest: (b: Uint8Array) => string): string {
  return f.sections.map((s) => `${s.name || '(no name)'} type ${s.type} addr ${hex(s.addr)} offset ${hex(s.offset)} size ${hex(s.size)} flags ${hex(s.flags)} bytes ${digest(sectionBytes(bytes, s))}\n`).join('');
}
