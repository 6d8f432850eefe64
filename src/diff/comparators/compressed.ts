/**
 * Compressed streams (gzip, xz, zstd, and bzip2/lz4/lzma/lzop, which are recognized but not yet
 * decompressed). The header is compared as text; the decompressed data is one transparent
 * member, spooled to a temporary file so that the format inside can be read in place.
 */
import type { Comparator, Container } from '../comparator.js';
import { decompressSegment, detectCompression, type Compression } from '../../compress/decompress.js';
import { sniffCpio } from '../../formats/cpio/index.js';
import type { RandomAccessSource } from '../../io/source.js';
import { cpioComparator } from './cpio.js';
import { rangeContent } from '../../tree/content.js';
import { formatTime } from '../metadata.js';
import { describeFields } from './tree-members.js';

const SUFFIXES: Record<Compression, string[]> = {
  gzip: ['.gz', '.tgz:.tar', '.cpgz:.cpio', '.z'],
  xz: ['.xz', '.txz:.tar'],
  zstd: ['.zst', '.zstd', '.tzst:.tar'],
  bzip2: ['.bz2', '.tbz2:.tar', '.tbz:.tar'],
  lz4: ['.lz4'],
  lzma: ['.lzma'],
  lzop: ['.lzo'],
};

/** The name of the decompressed data: the name without its compression suffix, as diffoscope shows it. */
export function decompressedName(name: string, kind: Compression): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  for (const rule of SUFFIXES[kind]) {
    const [suffix, replacement = ''] = rule.split(':') as [string, string?];
    if (base.toLowerCase().endsWith(suffix) && base.length > suffix.length) return base.slice(0, base.length - suffix.length) + replacement;
  }
  return `${base} (${kind}-decompressed)`;
}

export function compressedComparator(kind: Compression): Comparator {
  return {
    id: kind,
    recognizes: (head) => detectCompression(head) === kind,
    async open(input): Promise<Container> {
      const head = await input.blob.head(1024);
      // the first stream only: what follows it may be the next segment of an initramfs
      const source = await input.blob.open();
      let spooled: RandomAccessSource;
      let more: boolean;
      try {
        const segment = await decompressSegment(source, 0, kind, input.path);
        const inner = segment.source;
        spooled = { name: `${input.path} ▸ ${kind}`, size: inner.size, read: (o, n) => inner.read(o, n), close: () => inner.close() };
        more = (await firstNonZero(source, segment.compressedLength)) < source.size;
      } finally {
        await source.close();
      }
      if (more && spooled.size > 0 && sniffCpio(await spooled.read(0, Math.min(16, spooled.size)))) {
        // a concatenated initramfs that starts compressed: its segments, each with its codec
        await spooled.close();
        return cpioComparator.open(input);
      }
      return {
        describe: async () => ({ [`${kind} header`]: describeHeader(kind, head) }),
        members: async () => [
          {
            name: decompressedName(input.name, kind),
            key: 'decompressed',
            transparent: true,
            fields: [],
            content: rangeContent(spooled, 0, spooled.size, spooled.name),
          },
        ],
        close: () => spooled.close(),
      };
    },
  };
}

async function firstNonZero(source: RandomAccessSource, at: number): Promise<number> {
  for (let p = at; p < source.size; p += 1 << 16) {
    const chunk = await source.read(p, Math.min(1 << 16, source.size - p));
    const i = chunk.findIndex((b) => b !== 0);
    if (i >= 0) return p + i;
  }
  return source.size;
}

const GZIP_OS = ['FAT', 'Amiga', 'VMS', 'Unix', 'VM/CMS', 'Atari TOS', 'HPFS', 'Macintosh', 'Z-System', 'CP/M', 'TOPS-20', 'NTFS', 'QDOS', 'Acorn RISCOS'];
const XZ_CHECKS: Record<number, string> = { 0: 'none', 1: 'crc32', 4: 'crc64', 10: 'sha256' };

/** The header fields that vary between builds: gzip's MTIME, name and OS; xz's check; zstd's frame flags. */
export function describeHeader(kind: Compression, head: Uint8Array): string {
  if (kind === 'gzip' && head.length >= 10) {
    const flags = head[3]!;
    const mtime = (head[4]! | (head[5]! << 8) | (head[6]! << 16) | (head[7]! << 24)) >>> 0;
    let at = 10;
    if (flags & 4 && at + 2 <= head.length) at += 2 + (head[at]! | (head[at + 1]! << 8));
    const cString = (): string | undefined => {
      const end = head.indexOf(0, at);
      if (end < 0) return undefined;
      const s = Buffer.from(head.subarray(at, end)).toString('latin1');
      at = end + 1;
      return s;
    };
    const name = flags & 8 ? cString() : undefined;
    const comment = flags & 16 ? cString() : undefined;
    return describeFields({
      method: head[2] === 8 ? 'deflate' : `unknown (${head[2]})`,
      flags: `0x${flags.toString(16).padStart(2, '0')}`,
      mtime: mtime === 0 ? '0 (not set)' : formatTime({ sec: mtime, nsec: 0 }),
      'extra flags': head[8] === 2 ? '2 (maximum compression)' : head[8] === 4 ? '4 (fastest)' : String(head[8]),
      os: `${head[9]} (${GZIP_OS[head[9]!] ?? (head[9] === 255 ? 'unknown' : 'other')})`,
      'original name': name,
      comment,
    });
  }
  if (kind === 'xz' && head.length >= 8) return describeFields({ check: XZ_CHECKS[head[7]! & 0x0f] ?? `type ${head[7]! & 0x0f}` });
  if (kind === 'zstd' && head.length >= 5) {
    const fhd = head[4]!;
    return describeFields({
      'content size field': ['absent or 1 byte', '2 bytes', '4 bytes', '8 bytes'][fhd >> 6],
      'single segment': (fhd & 0x20) !== 0,
      checksum: (fhd & 0x04) !== 0,
      'dictionary id field': ['none', '1 byte', '2 bytes', '4 bytes'][fhd & 3],
    });
  }
  return describeFields({ magic: Buffer.from(head.subarray(0, 6)).toString('hex') });
}
