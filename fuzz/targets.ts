/**
 * The fuzz targets: one per reader or parser. Each takes the bytes of one input and reads it the
 * way reprimage does (open, build the Tree, read every member's bytes), so that errors in lazily
 * read parts surface too. The library is imported from `lib` (the instrumented copy of dist/src
 * while fuzzing, dist/src itself when a finding is replayed).
 *
 * Limits a target enforces itself (the others are enforced by the fuzz loop, src/fuzz/loop.ts):
 * - every byte source is a `MeteredSource`: reading more than READ_BUDGET bytes for one input
 *   breaks the rules (a reader that re-reads its input without bound);
 * - decompressed output is read up to OUTPUT_CAP bytes and then dropped: a small stream may
 *   honestly expand to gigabytes, so only the decoder's own memory is the reader's concern.
 */
import type { ReprimageError } from '../src/errors.js';
import type { RandomAccessSource } from '../src/io/source.js';
import type { Tree } from '../src/tree/tree.js';
import type { Content } from '../src/tree/content.js';

export const READ_BUDGET = 256 * 1024 * 1024;
export const OUTPUT_CAP = 32 * 1024 * 1024;
const CONTENT_CAP = 32 * 1024 * 1024;

/** A rule of the fuzz harness was broken (not a reader error: a finding). */
export class RuleBroken extends Error {
  override readonly name = 'RuleBroken';
}

export interface FuzzTarget {
  name: string;
  /** What is read, for docs/fuzzing.md and --list. */
  what: string;
  /** Seed files: paths relative to the repository root, directories taken whole. */
  seeds: string[];
  /** Prepares a runner for one worker (imports the library once). */
  setup(lib: string): Promise<(input: Uint8Array) => Promise<void>>;
}

/** Prepares `target` to run against the library at `lib`. */
export async function prepare(target: FuzzTarget, lib: string): Promise<(input: Uint8Array) => Promise<void>> {
  Err = await errors(lib);
  return target.setup(lib);
}

type Lib<T> = Promise<T>;
const load = <T>(lib: string, path: string): Lib<T> => import(`${lib}/${path}`) as Promise<T>;

type ErrorClass = typeof ReprimageError;
/** The library's own error class (the instrumented copy has its own). */
const errors = async (lib: string): Promise<ErrorClass> => (await load<typeof import('../src/errors.js')>(lib, 'errors.js')).ReprimageError;
let Err: ErrorClass | undefined;

function meteredSource(bytes: Uint8Array, name: string): RandomAccessSource {
  let read = 0;
  return {
    name,
    size: bytes.length,
    async read(offset, length) {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
        throw new RuleBroken(`bad read range ${offset}+${length} reached the source (a reader must check it first)`);
      }
      read += length;
      if (read > READ_BUDGET) throw new RuleBroken(`read more than ${READ_BUDGET} bytes of a ${bytes.length}-byte input`);
      if (offset + length > bytes.length) throw new Err!('TRUNCATED', name, `truncated data at byte ${Math.min(offset, bytes.length)}`);
      return bytes.subarray(offset, offset + length);
    },
    close: () => Promise.resolve(),
  };
}

async function drain(chunks: AsyncIterable<Uint8Array>, cap: number): Promise<number> {
  let total = 0;
  for await (const chunk of chunks) {
    total += chunk.length;
    if (total >= cap) break;
  }
  return total;
}

/** Reads every member of a Tree, as a writer or the differ would. */
async function readTree(tree: Tree): Promise<void> {
  let budget = CONTENT_CAP;
  for (const { node } of tree.walk()) {
    if (node.kind !== 'file' || budget <= 0) continue;
    budget -= await drain((node.content as Content).chunks(), budget);
  }
}

function inChunks(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  // two chunks, split where the input says, so stream decoders meet a boundary mid-structure
  const cut = bytes.length > 0 ? bytes[bytes.length - 1]! % (bytes.length + 1) : 0;
  return (async function* () {
    yield bytes.subarray(0, cut);
    yield bytes.subarray(cut);
  })();
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const quiet = (): void => undefined;

/** The disk a VM image holds, read in 64 KiB steps up to DISK_CAP (a small image may claim terabytes of zeros). */
const DISK_CAP = 4 * 1024 * 1024;

function vmImage(name: string, what: string, module: string, opener: string): FuzzTarget {
  return {
    name,
    what,
    seeds: [`fuzz/seeds/${name}`],
    async setup(lib) {
      const open = (await load<Record<string, (s: RandomAccessSource) => Promise<{ disk: RandomAccessSource }>>>(lib, module))[opener]!;
      return async (input) => {
        const { disk } = await open(meteredSource(input, `fuzz.${name}`));
        for (let at = 0; at < Math.min(disk.size, DISK_CAP); at += 65536) await disk.read(at, Math.min(65536, disk.size - at));
      };
    },
  };
}

function decoder(kind: 'gzip' | 'xz' | 'zstd' | 'lz4' | 'lzma', seeds: string[]): FuzzTarget {
  return {
    name: kind,
    what: `the ${kind} stream decoder (decompressChunks)`,
    seeds,
    async setup(lib) {
      const { decompressChunks } = await load<typeof import('../src/compress/decompress.js')>(lib, 'compress/decompress.js');
      return async (input) => {
        await drain(decompressChunks(inChunks(input), kind, 'fuzz'), OUTPUT_CAP);
      };
    },
  };
}

export const TARGETS: FuzzTarget[] = [
  {
    name: 'tar',
    what: 'tar archives (loadTar, every member read)',
    seeds: ['test/fixtures/tar', 'fuzz/seeds/tar'],
    async setup(lib) {
      const { loadTar } = await load<typeof import('../src/formats/tar/index.js')>(lib, 'formats/tar/index.js');
      return async (input) => readTree(await loadTar(meteredSource(input, 'fuzz.tar'), { warn: quiet }));
    },
  },
  {
    name: 'cpio',
    what: 'cpio archives, newc/crc/odc (loadCpio)',
    seeds: ['test/fixtures/cpio', 'fuzz/seeds/cpio'],
    async setup(lib) {
      const { loadCpio } = await load<typeof import('../src/formats/cpio/index.js')>(lib, 'formats/cpio/index.js');
      return async (input) => {
        // compressed segments are spooled and kept open for the Tree (loadCpio's contract): close them after
        const spooled: RandomAccessSource[] = [];
        try {
          await readTree(await loadCpio(meteredSource(input, 'fuzz.cpio'), { warn: quiet, onSegment: (s) => void (s.compression && spooled.push(s.source)) }));
        } finally {
          for (const s of spooled) await s.close();
        }
      };
    },
  },
  {
    name: 'initramfs',
    what: 'concatenated and compressed cpio segments (loadCpioSegments)',
    seeds: ['test/fixtures/cpio', 'fuzz/seeds/initramfs'],
    async setup(lib) {
      const { loadCpioSegments } = await load<typeof import('../src/formats/cpio/index.js')>(lib, 'formats/cpio/index.js');
      return async (input) => {
        const segments = await loadCpioSegments(meteredSource(input, 'fuzz.img'), { warn: quiet });
        try {
          for (const s of segments) await readTree(s.tree);
        } finally {
          for (const s of segments) await s.segment.source?.close();
        }
      };
    },
  },
  {
    name: 'squashfs',
    what: 'SquashFS images, every compressor (openSquashfs)',
    seeds: ['fuzz/seeds/squashfs'],
    async setup(lib) {
      const { openSquashfs } = await load<typeof import('../src/formats/squashfs/index.js')>(lib, 'formats/squashfs/index.js');
      return async (input) => readTree(await (await openSquashfs(meteredSource(input, 'fuzz.sqfs'))).tree());
    },
  },
  {
    name: 'iso9660',
    what: 'ISO 9660 images with Rock Ridge, Joliet, El Torito (openIso)',
    seeds: ['fuzz/seeds/iso9660'],
    async setup(lib) {
      const { openIso } = await load<typeof import('../src/formats/iso9660/index.js')>(lib, 'formats/iso9660/index.js');
      return async (input) => readTree(await (await openIso(meteredSource(input, 'fuzz.iso'))).tree());
    },
  },
  {
    name: 'fat',
    what: 'FAT12/16/32 images with long names (openFat)',
    seeds: ['fuzz/seeds/fat'],
    async setup(lib) {
      const { openFat } = await load<typeof import('../src/formats/fat/index.js')>(lib, 'formats/fat/index.js');
      return async (input) => readTree(await (await openFat(meteredSource(input, 'fuzz.fat'))).tree());
    },
  },
  {
    name: 'ext4',
    what: 'ext2/3/4 images (openExt4)',
    seeds: ['fuzz/seeds/ext4'],
    async setup(lib) {
      const { openExt4 } = await load<typeof import('../src/formats/ext4/reader.js')>(lib, 'formats/ext4/reader.js');
      return async (input) => readTree(await (await openExt4(meteredSource(input, 'fuzz.ext4'), { warn: quiet })).tree());
    },
  },
  {
    name: 'gpt',
    what: 'GPT and MBR partition tables (readPartitionTable)',
    seeds: ['fuzz/seeds/gpt'],
    async setup(lib) {
      const { readPartitionTable } = await load<typeof import('../src/formats/gpt/reader.js')>(lib, 'formats/gpt/reader.js');
      return async (input) => {
        await readPartitionTable(meteredSource(input, 'fuzz.disk'), { warn: quiet });
      };
    },
  },
  vmImage('qcow2', 'qcow2 images, plain, compressed and version 2 (openQcow2, the disk read)', 'formats/qcow2/reader.js', 'openQcow2'),
  vmImage('vhd', 'VHD images, fixed and dynamic (openVhd, the disk read)', 'formats/vhd/reader.js', 'openVhd'),
  vmImage('vmdk', 'VMDK images, monolithicSparse and streamOptimized (openVmdk, the disk read)', 'formats/vmdk/reader.js', 'openVmdk'),
  {
    name: 'zip',
    what: 'zip archives, stored and deflated (openZip, every entry read)',
    seeds: ['test/fixtures/normalize/jar-openjdk.jar', 'test/fixtures/normalize/zip-infozip.zip', 'fuzz/seeds/zip'],
    async setup(lib) {
      const { openZip } = await load<typeof import('../src/formats/zip/index.js')>(lib, 'formats/zip/index.js');
      return async (input) => {
        const zip = await openZip(meteredSource(input, 'fuzz.zip'));
        let budget = CONTENT_CAP;
        for (const entry of zip.entries) if (budget > 0) budget -= await drain(zip.content(entry).chunks(), budget);
      };
    },
  },
  {
    name: 'ar',
    what: 'ar archives, GNU and BSD names (readArMembers)',
    seeds: ['test/fixtures/normalize/ar-static.a', 'fuzz/seeds/ar'],
    async setup(lib) {
      const { readArMembers } = await load<typeof import('../src/formats/ar/index.js')>(lib, 'formats/ar/index.js');
      return async (input) => {
        const source = meteredSource(input, 'fuzz.a');
        for (const m of await readArMembers(source)) await source.read(m.dataOffset, m.size);
      };
    },
  },
  decoder('gzip', ['test/fixtures/normalize/gzip-named.gz', 'fuzz/seeds/gzip']),
  decoder('xz', ['fuzz/seeds/xz']),
  decoder('zstd', ['fuzz/seeds/zstd']),
  decoder('lz4', ['test/fixtures/cpio/seq-linked.lz4', 'fuzz/seeds/lz4']),
  decoder('lzma', ['fuzz/seeds/lzma']),
  {
    name: 'recipe',
    what: 'recipe YAML (parseRecipe)',
    seeds: ['examples/bookworm-minimal/recipe.yaml', 'examples/live-minimal/recipe.yaml', 'fuzz/seeds/recipe'],
    async setup(lib) {
      const { parseRecipe } = await load<typeof import('../src/recipe/recipe.js')>(lib, 'recipe/recipe.js');
      return async (input) => {
        parseRecipe(text(input), 'fuzz.yaml');
      };
    },
  },
  {
    name: 'lock',
    what: 'lock files (parseLock)',
    seeds: ['examples/bookworm-minimal/recipe.yaml.lock', 'examples/live-minimal/recipe.yaml.lock'],
    async setup(lib) {
      const { parseLock } = await load<typeof import('../src/recipe/lock.js')>(lib, 'recipe/lock.js');
      return async (input) => {
        parseLock(text(input), 'fuzz.lock');
      };
    },
  },
  {
    name: 'deb822',
    what: 'deb822 stanzas: Release checksums and Packages indexes (parseStanzas, releaseChecksums, parsePackages)',
    seeds: ['fuzz/seeds/deb822'],
    async setup(lib) {
      const { parseStanzas, releaseChecksums } = await load<typeof import('../src/recipe/deb822.js')>(lib, 'recipe/deb822.js');
      const { parsePackages } = await load<typeof import('../src/recipe/apt-index.js')>(lib, 'recipe/apt-index.js');
      return async (input) => {
        const t = text(input);
        if (/^Package:/m.test(t)) {
          parsePackages(t, 'fuzz-Packages');
        } else {
          const stanzas = parseStanzas(t, 'fuzz-Release');
          if (stanzas[0]) releaseChecksums(stanzas[0], 'fuzz-Release');
        }
      };
    },
  },
  {
    name: 'inrelease',
    what: 'signed InRelease files (verifyInRelease, with a key made at start)',
    seeds: ['fuzz/seeds/inrelease'],
    async setup(lib) {
      const { verifyInRelease } = await load<typeof import('../src/recipe/signature.js')>(lib, 'recipe/signature.js');
      const openpgp = await import('openpgp');
      const key = await readSeedKey(openpgp);
      return async (input) => {
        await verifyInRelease(text(input), [key], 'fuzz-InRelease', 'fuzz-key.asc', undefined);
      };
    },
  },
  {
    name: 'file-list',
    what: 'file lists (parseFileList)',
    seeds: ['examples/hello.file-list', 'fuzz/seeds/file-list'],
    async setup(lib) {
      const { parseFileList } = await load<typeof import('../src/tree/file-list.js')>(lib, 'tree/file-list.js');
      return async (input) => {
        parseFileList(text(input), 'fuzz.list');
      };
    },
  },
];

/** The public key whose private half signed fuzz/seeds/inrelease (made by fuzz/make-seeds.sh). */
async function readSeedKey(openpgp: typeof import('openpgp')) {
  const { readFile } = await import('node:fs/promises');
  const armored = await readFile(new URL('../../fuzz/seeds/inrelease-key.asc', import.meta.url), 'utf8');
  return openpgp.readKey({ armoredKey: armored });
}

export function findTarget(name: string): FuzzTarget {
  const t = TARGETS.find((x) => x.name === name);
  if (!t) throw new Error(`no fuzz target "${name}" (have: ${TARGETS.map((x) => x.name).join(', ')})`);
  return t;
}
