/**
 * `reprimage verify-disk DISK IMAGE|MANIFEST` (docs/installer.md): does a disk (or a disk image
 * file) hold a published disk image byte for byte, in the image's extent? The only bytes allowed
 * to differ are those the installer's backup-GPT relocation changes (gpt-relocate.ts): in the
 * primary header the alternate LBA, the last usable LBA and the header CRC. When the disk is
 * larger and its primary header says so, the backup GPT at its end must be the relocated one.
 *
 * Against an image file the comparison names the first differing byte and the partition holding
 * it; against a manifest (which has only the image's SHA-256 and size) the disk's extent, with
 * the relocation undone, is hashed. Streamed in 4 MiB pieces: memory stays bounded.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ReprimageError } from '../errors.js';
import { GPT_HEADER_FIELDS as F, hasGptSignature } from '../formats/gpt/gpt.js';
import { readPartitionTable } from '../formats/gpt/index.js';
import { openFileSource, type RandomAccessSource } from '../io/source.js';
import { relocateGpt } from './gpt-relocate.js';

const SECTOR = 512;
const PIECE = 4 << 20;

export interface VerifyDiskResult {
  equal: boolean;
  imageSize: number;
  diskSize: number;
  imageSha256?: string;
  /** The disk's primary GPT header points at a backup at the disk's end (moved by the installer). */
  relocated: boolean;
  /** Why the disk differs: a sentence naming the first differing offset (and partition), or the hashes. */
  difference?: string;
  firstDifference?: number;
}

interface Reference {
  /** The image's bytes, when an image file was given. */
  image?: RandomAccessSource;
  size: number;
  sha256?: string;
}

/** The image a manifest publishes: a raw disk output, or the image an installer-iso output carries. */
async function referenceOf(path: string): Promise<Reference> {
  const source = await openFileSource(path);
  if (source.size === 0 || (await source.read(0, 1))[0] !== 0x7b) return { image: source, size: 0 };
  await source.close();
  let manifest: { reproducible?: { outputs?: Array<{ type?: string; format?: string; sha256?: string; size?: number; image?: { sha256: string; size: number } }> } };
  try {
    manifest = JSON.parse(await readFile(path, 'utf8')) as typeof manifest;
  } catch (e) {
    throw new ReprimageError('USAGE', path, `not a disk image or a build manifest (${(e as Error).message})`);
  }
  for (const o of manifest.reproducible?.outputs ?? []) {
    if (o.type === 'disk' && o.format?.startsWith('raw ') && o.sha256 && o.size) return { size: o.size, sha256: o.sha256 };
    if (o.type === 'installer-iso' && o.image) return { size: o.image.size, sha256: o.image.sha256 };
  }
  throw new ReprimageError('USAGE', path, 'the manifest lists no raw disk image (a disk output in raw format, or an installer-iso output)');
}

/** Compares `diskPath` with the image or manifest at `referencePath`. */
export async function verifyDisk(diskPath: string, referencePath: string, onProgress?: (done: number, total: number) => void): Promise<VerifyDiskResult> {
  const reference = await referenceOf(referencePath);
  const disk = await openFileSource(diskPath);
  try {
    const image = reference.image;
    const size = image ? image.size : reference.size;
    if (size === 0 || size % SECTOR !== 0) throw new ReprimageError('USAGE', referencePath, `an image of ${size} bytes is not a disk image (a whole number of 512-byte sectors)`);
    const result: VerifyDiskResult = { equal: false, imageSize: size, diskSize: disk.size, relocated: false };
    if (disk.size < size) return { ...result, difference: `the disk has ${disk.size} bytes, fewer than the image's ${size}`, firstDifference: disk.size };

    // the primary GPT header as the image had it, and the relocated backup the disk must then hold
    const diskHeader = await disk.read(SECTOR, SECTOR);
    let expectedHeader: Uint8Array | undefined;
    if (hasGptSignature(diskHeader) && disk.size > size) {
      const alternate = new DataView(diskHeader.buffer, diskHeader.byteOffset).getBigUint64(F.alternateLba, true);
      if (alternate === BigInt(disk.size / SECTOR - 1)) {
        result.relocated = true;
        expectedHeader = relocateGpt(diskHeader, size / SECTOR).primary;
      }
    }
    // the image's extent first (its first difference is the most telling), then the moved backup
    const extent = await compareExtent(disk, reference, expectedHeader, onProgress);
    if (extent.difference !== undefined) return { ...result, ...extent };
    const problem = result.relocated ? await checkBackup(disk, diskHeader) : undefined;
    if (problem) return { ...result, difference: problem, firstDifference: disk.size - SECTOR };
    return { ...result, equal: true, imageSha256: extent.sha256 ?? reference.sha256 };
  } finally {
    await disk.close();
    await reference.image?.close();
  }
}

/** The first difference in the image's extent, or (against a manifest) the extent's hash. */
async function compareExtent(disk: RandomAccessSource, reference: Reference, expectedHeader: Uint8Array | undefined, onProgress?: (done: number, total: number) => void): Promise<{ difference?: string; firstDifference?: number; sha256?: string }> {
  const image = reference.image;
  const size = image ? image.size : reference.size;
  const hash = createHash('sha256');
  for (let offset = 0; offset < size; offset += PIECE) {
    const length = Math.min(PIECE, size - offset);
    const bytes = await disk.read(offset, length);
    if (expectedHeader && offset === 0) bytes.set(expectedHeader, SECTOR);
    if (image) {
      const at = firstMismatch(bytes, await image.read(offset, length));
      if (at >= 0) return { firstDifference: offset + at, difference: `first difference at byte ${offset + at}${await placeOf(image, offset + at)}` };
    } else {
      hash.update(bytes);
    }
    onProgress?.(offset + length, size);
  }
  if (image) return {};
  const sha256 = hash.digest('hex');
  return sha256 === reference.sha256 ? { sha256 } : { difference: `the disk's first ${size} bytes hash to ${sha256}, the manifest's image to ${reference.sha256}` };
}

/** Why the backup GPT at the end of a relocated disk is not the one relocation writes, or undefined. */
async function checkBackup(disk: RandomAccessSource, primary: Uint8Array): Promise<string | undefined> {
  const { backup, backupEntriesLba, entrySectors } = relocateGpt(primary, disk.size / SECTOR);
  const entriesLba = Number(new DataView(primary.buffer, primary.byteOffset).getBigUint64(F.entriesLba, true));
  if (firstMismatch(await disk.read(disk.size - SECTOR, SECTOR), backup) >= 0) return 'the backup GPT header at the end of the disk is not the relocated primary header';
  const entries = await disk.read(entriesLba * SECTOR, entrySectors * SECTOR);
  if (firstMismatch(await disk.read(backupEntriesLba * SECTOR, entrySectors * SECTOR), entries) >= 0) return 'the backup GPT entries at the end of the disk differ from the primary entries';
  return undefined;
}

function firstMismatch(a: Uint8Array, b: Uint8Array): number {
  if (Buffer.compare(a, b) === 0) return -1;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return a.length;
}

/** " (partition 3, root-x86-64)", " (GPT header)", … for an offset of the image. */
async function placeOf(image: RandomAccessSource, offset: number): Promise<string> {
  if (offset < SECTOR) return ' (MBR)';
  if (offset < 2 * SECTOR) return ' (primary GPT header)';
  try {
    const table = await readPartitionTable(image);
    const p = table.partitions.find((q) => offset >= q.offset && offset < q.offset + q.size);
    if (p) return ` (partition ${p.number}, ${p.typeName ?? p.typeGuid ?? 'unknown type'}, its byte ${offset - p.offset})`;
  } catch {
    // not a partitioned image: the offset alone says it
  }
  return offset >= image.size - 33 * SECTOR ? ' (backup GPT)' : ' (outside the partitions)';
}
