/**
 * The tar reader: ustar, GNU (long names and links, old sparse, base-256 numbers), pax (path,
 * linkpath, sizes, ids, fractional mtimes, SCHILY/LIBARCHIVE xattrs, GNU sparse 0.0, 0.1, 1.0)
 * and v7 headers. Member contents stay in the archive: the Tree points at byte ranges of it.
 */
import { ReprimageError, corruptError, truncatedError } from '../../errors.js';
import type { RandomAccessSource } from '../../io/source.js';
import { rangeContent, streamContent, type Content, type DataRegion } from '../../tree/content.js';
import { nameFromBytes, toTreePath } from '../../tree/names.js';
import { DuplicateNames } from '../../tree/duplicates.js';
import { Tree, newMeta, type Meta, type Node } from '../../tree/tree.js';
import { BLOCK, F, TYPE, checksumOf, cString, field, parseNumber } from './layout.js';

/** A header as read, after long names and pax records were folded in. */
export interface TarRecord {
  /** Byte offset of the entry's own header (after any L/K/x records). */
  offset: number;
  name: string;
  linkname: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: { sec: number; nsec: number };
  devmajor: number;
  devminor: number;
  xattrs: Map<string, Uint8Array>;
  /** Where the member's stored bytes start, and the data runs for sparse members. */
  dataOffset: number;
  storedSize: number;
  sparse?: { realSize: number; map: DataRegion[] };
}

/** Entries that describe the next entry instead of being one ('X' is Solaris' old name for 'x'). */
const META_TYPES = new Set<string>([TYPE.gnuLongName, TYPE.gnuLongLink, TYPE.paxLocal, TYPE.paxGlobal, TYPE.solarisPax]);

/** Metadata records (long names, pax headers) larger than this are refused as hostile. */
const MAX_META_RECORD = 16 << 20;

/** Whether a file's first block looks like tar: ustar/GNU magic, or a v7 header with a valid checksum. */
export function sniffTar(head: Uint8Array): boolean {
  if (head.length < BLOCK) return false;
  const magic = Buffer.from(head.subarray(257, 263)).toString('latin1');
  if (magic === 'ustar\0' || magic === 'ustar ') return true;
  // a v7 header has no magic: accept a valid checksum over a non-empty header
  if (head.subarray(0, BLOCK).every((b) => b === 0)) return false;
  try {
    const stored = parseNumber(field(head, 'chksum'), '', 148, 'checksum');
    const sums = checksumOf(head);
    return stored === sums.unsigned || stored === sums.signed;
  } catch {
    return false;
  }
}

/** Every entry of the archive, in order, with long names and pax records applied. */
export async function* readTarEntries(source: RandomAccessSource, warn: (m: string) => void = () => undefined): AsyncGenerator<TarRecord> {
  const subject = source.name;
  let offset = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax = new Map<string, Uint8Array>();
  const globalPax = new Map<string, Uint8Array>();
  while (true) {
    if (offset + BLOCK > source.size) {
      if (offset === source.size) {
        warn(`${subject}: archive ends without its end-of-archive blocks`);
        return;
      }
      throw truncatedError(subject, 'tar header', offset, offset + BLOCK - source.size);
    }
    const h = await source.read(offset, BLOCK);
    if (h.every((b) => b === 0)) return;
    const stored = parseNumber(field(h, 'chksum'), subject, offset + F.chksum[0], 'checksum');
    const sums = checksumOf(h);
    if (stored !== sums.unsigned && stored !== sums.signed) {
      throw corruptError(subject, 'tar header', offset, `bad header checksum (stored ${stored}, computed ${sums.unsigned})`);
    }
    const type = String.fromCharCode(h[F.typeflag[0]]!);
    let size = parseNumber(field(h, 'size'), subject, offset + F.size[0], 'size');
    if (size < 0) throw corruptError(subject, 'tar header', offset, `negative member size ${size}`);
    const dataOffset = offset + BLOCK;
    const isMeta = META_TYPES.has(type);
    if (!isMeta && pax.has('size')) size = paxNumber(pax, 'size', subject, offset);
    // only files have contents; but as GNU tar does, the data a symlink, device or fifo header
    // declares is skipped over, while after a hard link or a directory the next header follows
    const hasData = !isMeta && ![TYPE.hardlink, TYPE.symlink, TYPE.char, TYPE.block, TYPE.dir, TYPE.fifo].includes(type as never);
    const storedSize = type === TYPE.hardlink || type === TYPE.dir ? 0 : size;
    if (dataOffset + storedSize > source.size) {
      throw truncatedError(subject, `tar member data (size ${storedSize})`, dataOffset, dataOffset + storedSize - source.size);
    }
    const next = dataOffset + Math.ceil(storedSize / BLOCK) * BLOCK;
    if (isMeta) {
      if (size > MAX_META_RECORD) throw new ReprimageError('OVERFLOW', subject, `tar ${type} record of ${size} bytes at byte ${offset}`);
      const data = await source.read(dataOffset, size);
      if (type === TYPE.gnuLongName) longName = nameFromBytes(cString(data));
      else if (type === TYPE.gnuLongLink) longLink = nameFromBytes(cString(data));
      else parsePaxRecords(data, type === TYPE.paxGlobal ? globalPax : pax, subject, dataOffset);
      offset = next;
      continue;
    }
    if (type === TYPE.gnuVolume) {
      // a volume label names the archive, not a member; extraction ignores it
      offset = next;
      pax = new Map();
      continue;
    }
    const records = new Map([...globalPax, ...pax]);
    const magic = Buffer.from(h.subarray(257, 263)).toString('latin1');
    let name = text(records.get('path')) ?? longName;
    if (name === undefined) {
      name = nameFromBytes(cString(field(h, 'name')));
      const prefix = magic === 'ustar\0' ? nameFromBytes(cString(field(h, 'prefix'))) : '';
      if (prefix !== '') name = `${prefix}/${name}`;
    }
    const gnuSparseName = text(records.get('GNU.sparse.name'));
    if (gnuSparseName !== undefined) name = gnuSparseName;
    const mtime = records.has('mtime')
      ? parsePaxTime(text(records.get('mtime'))!, subject, offset)
      : { sec: parseNumber(field(h, 'mtime'), subject, offset + F.mtime[0], 'mtime'), nsec: 0 };
    const record: TarRecord = {
      offset,
      name,
      linkname: text(records.get('linkpath')) ?? longLink ?? nameFromBytes(cString(field(h, 'linkname'))),
      type,
      mode: parseNumber(field(h, 'mode'), subject, offset + F.mode[0], 'mode') & 0o7777,
      uid: records.has('uid') ? paxNumber(records, 'uid', subject, offset) : parseNumber(field(h, 'uid'), subject, offset + F.uid[0], 'uid'),
      gid: records.has('gid') ? paxNumber(records, 'gid', subject, offset) : parseNumber(field(h, 'gid'), subject, offset + F.gid[0], 'gid'),
      size: hasData ? size : 0,
      mtime,
      devmajor: type === TYPE.char || type === TYPE.block ? parseNumber(field(h, 'devmajor'), subject, offset + F.devmajor[0], 'devmajor') : 0,
      devminor: type === TYPE.char || type === TYPE.block ? parseNumber(field(h, 'devminor'), subject, offset + F.devminor[0], 'devminor') : 0,
      xattrs: paxXattrs(records, subject, offset),
      dataOffset,
      storedSize,
    };
    if (type === TYPE.gnuSparse) record.sparse = await oldGnuSparseMap(source, h, record, subject);
    else if (records.has('GNU.sparse.major') || records.has('GNU.sparse.map') || records.has('GNU.sparse.numblocks')) {
      record.sparse = await paxSparseMap(source, records, record, subject);
    }
    yield record;
    offset = type === TYPE.gnuSparse ? record.dataOffset + Math.ceil(record.storedSize / BLOCK) * BLOCK : next;
    longName = undefined;
    longLink = undefined;
    pax = new Map();
  }
}

/**
 * Reads a whole archive into a Tree, lazily: file contents stay byte ranges of `source`.
 * Later entries replace earlier ones at the same path, as extraction would (with one warning
 * naming the path, unless both are directories); a hard link becomes
 * the very node of its target; directories the archive leaves out are created root-owned 0755
 * at time 0. An absolute name is PATH_ESCAPE and an unknown entry type UNSUPPORTED: an image
 * builder should not guess. With `lenient`, both are read as GNU tar reads them: a leading `/`
 * is stripped (with one warning) and an unknown type becomes a regular file (with a warning).
 * A `..` component is always PATH_ESCAPE; every other bad input is a ReprimageError naming the
 * archive and the byte offset.
 */
export async function loadTar(source: RandomAccessSource, options: { warn?: (m: string) => void; lenient?: boolean } = {}): Promise<Tree> {
  const warn = options.warn ?? (() => undefined);
  const lenient = options.lenient ?? false;
  const tree = new Tree();
  let warnedAbsolute = false;
  const treePath = (raw: string, where: string): string => {
    const path = toTreePath(raw, where, { allowAbsolute: lenient });
    if (raw.startsWith('/') && !warnedAbsolute) {
      warnedAbsolute = true;
      warn(`${source.name}: removing leading '/' from member names (first at ${where})`);
    }
    return path;
  };
  const duplicates = new DuplicateNames(source.name, 'member');
  for await (const r of readTarEntries(source, warn)) {
    const where = `${source.name} (entry at byte ${r.offset})`;
    const path = treePath(r.name, where);
    duplicates.see(path, r.type === TYPE.dir || r.type === TYPE.gnuDumpDir);
    const meta: Meta = newMeta({ mode: r.mode, uid: r.uid, gid: r.gid, mtime: r.mtime, xattrs: r.xattrs });
    let node: Node;
    switch (r.type) {
      case TYPE.file:
      case TYPE.oldFile:
      case TYPE.contiguous:
      case TYPE.gnuSparse:
        if (r.type === TYPE.oldFile && r.name.endsWith('/')) node = { kind: 'dir', ...meta, children: new Map() };
        else node = { kind: 'file', ...meta, content: memberContent(source, r, path) };
        break;
      case TYPE.hardlink: {
        const targetPath = treePath(r.linkname, where);
        const target = tree.get(targetPath);
        if (!target) throw new ReprimageError('NOT_FOUND', where, `hard link ${JSON.stringify(r.name)} to ${JSON.stringify(r.linkname)}, which is not earlier in the archive`);
        if (target.kind === 'dir') throw new ReprimageError('CORRUPT_IMAGE', where, `hard link ${JSON.stringify(r.name)} to a directory`);
        if (path === '') throw new ReprimageError('CORRUPT_IMAGE', where, 'the root cannot be a hard link');
        tree.set(path, target);
        continue;
      }
      case TYPE.symlink:
        node = { kind: 'symlink', ...meta, target: r.linkname };
        break;
      case TYPE.char:
      case TYPE.block:
        node = { kind: r.type === TYPE.char ? 'char' : 'block', ...meta, major: r.devmajor, minor: r.devminor };
        break;
      case TYPE.dir:
      case TYPE.gnuDumpDir:
        node = { kind: 'dir', ...meta, children: new Map() };
        break;
      case TYPE.fifo:
        node = { kind: 'fifo', ...meta };
        break;
      case TYPE.gnuMultiVolume:
        throw new ReprimageError('UNSUPPORTED', where, `${JSON.stringify(r.name)} continues a member of a previous volume (multi-volume archives are not read)`);
      default:
        if (!lenient) {
          throw new ReprimageError('UNSUPPORTED', where, `unknown tar entry type ${JSON.stringify(r.type)} for ${JSON.stringify(r.name)} (GNU tar would read it as a regular file)`);
        }
        // GNU tar extracts an unknown type as a regular file; its data was skipped over as one
        warn(`${where}: unknown entry type ${JSON.stringify(r.type)} for ${JSON.stringify(r.name)}, read as a regular file`);
        node = { kind: 'file', ...meta, content: memberContent(source, r, path) };
    }
    if (path === '' && node.kind !== 'dir') throw new ReprimageError('CORRUPT_IMAGE', where, 'the root entry is not a directory');
    tree.set(path, node);
  }
  duplicates.report(warn);
  return tree;
}

function memberContent(source: RandomAccessSource, r: TarRecord, path: string): Content {
  const origin = `${source.name} ▸ ${path}`;
  if (!r.sparse) return rangeContent(source, r.dataOffset, r.size, origin);
  const { realSize, map } = r.sparse;
  const dataStart = r.dataOffset;
  return streamContent(
    realSize,
    origin,
    async function* () {
      let pos = 0;
      let stored = 0;
      for (const region of map) {
        if (region.offset > pos) yield* zeros(region.offset - pos);
        for (let done = 0; done < region.length; done += 1 << 20) {
          const n = Math.min(1 << 20, region.length - done);
          yield await source.read(dataStart + stored + done, n);
        }
        stored += region.length;
        pos = region.offset + region.length;
      }
      if (realSize > pos) yield* zeros(realSize - pos);
    },
    map,
  );
}

function* zeros(n: number): Generator<Uint8Array> {
  const chunk = new Uint8Array(Math.min(n, 1 << 20));
  for (let left = n; left > 0; left -= chunk.length) yield left >= chunk.length ? chunk : chunk.subarray(0, left);
}

// ---- pax -------------------------------------------------------------------------------------

/** Parses `"%d %s=%s\n"` records; values stay bytes (xattr values may be binary). */
export function parsePaxRecords(data: Uint8Array, into: Map<string, Uint8Array>, subject: string, at: number): void {
  let pos = 0;
  const sparse00: string[] = [];
  let pendingOffset: string | undefined;
  while (pos < data.length) {
    if (data[pos] === 0) break; // some writers pad with NULs
    const space = data.indexOf(0x20, pos);
    const lenText = space < 0 ? '' : Buffer.from(data.subarray(pos, space)).toString('latin1');
    const len = /^\d{1,8}$/.test(lenText) ? Number(lenText) : NaN;
    if (!(len > 0) || pos + len > data.length || data[pos + len - 1] !== 0x0a) {
      throw corruptError(subject, 'pax extended header', at + pos, 'malformed record');
    }
    const record = data.subarray(space + 1, pos + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq < 0) throw corruptError(subject, 'pax extended header', at + pos, 'record without "="');
    const key = nameFromBytes(record.subarray(0, eq));
    const value = record.subarray(eq + 1);
    if (key === 'GNU.sparse.offset' || key === 'GNU.sparse.numbytes') {
      // GNU sparse 0.0 repeats these pairs, which a keyword map cannot hold: collect them
      if ((key === 'GNU.sparse.offset') !== (pendingOffset === undefined)) {
        throw corruptError(subject, 'pax extended header', at + pos, `${key} out of order`);
      }
      if (pendingOffset === undefined) pendingOffset = text(value);
      else {
        sparse00.push(pendingOffset, text(value)!);
        pendingOffset = undefined;
      }
    } else if (value.length === 0 && !key.startsWith('SCHILY.xattr.')) {
      // an empty value deletes a standard keyword, but an xattr may legitimately be empty
      into.delete(key);
    } else {
      into.set(key, value.slice());
    }
    pos += len;
  }
  if (pendingOffset !== undefined) throw corruptError(subject, 'pax extended header', at, 'GNU.sparse.offset without GNU.sparse.numbytes');
  // … and hand them on in the form of sparse 0.1's GNU.sparse.map
  if (sparse00.length > 0) into.set('GNU.sparse.map', Buffer.from(sparse00.join(',')));
}

/**
 * A record's value as text. pax says path and linkpath are UTF-8, but GNU tar and bsdtar store a
 * name that is not (`hdrcharset=BINARY`) as its bytes: it is kept as those bytes (names.ts).
 */
function text(value: Uint8Array | undefined): string | undefined {
  return value === undefined ? undefined : nameFromBytes(value);
}

function paxNumber(records: Map<string, Uint8Array>, key: string, subject: string, at: number): number {
  const t = text(records.get(key))!;
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n)) throw corruptError(subject, `pax ${key} record`, at, `bad number ${JSON.stringify(t)}`);
  return n;
}

/** A pax time (`-1.25`, `1600000000.5`) as seconds and nanoseconds; CORRUPT_IMAGE when malformed. */
export function parsePaxTime(t: string, subject: string, at: number): { sec: number; nsec: number } {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(t);
  if (!m) throw corruptError(subject, 'pax mtime record', at, `bad time ${JSON.stringify(t)}`);
  const whole = Number(m[2]);
  const frac = Number((m[3] ?? '').padEnd(9, '0').slice(0, 9));
  if (!Number.isSafeInteger(whole)) throw corruptError(subject, 'pax mtime record', at, `time out of range ${JSON.stringify(t)}`);
  if (m[1] === '-') return frac === 0 ? { sec: -whole, nsec: 0 } : { sec: -whole - 1, nsec: 1e9 - frac };
  return { sec: whole, nsec: frac };
}

function paxXattrs(records: Map<string, Uint8Array>, subject: string, at: number): Map<string, Uint8Array> {
  const xattrs = new Map<string, Uint8Array>();
  for (const [key, value] of records) {
    if (key.startsWith('SCHILY.xattr.')) xattrs.set(key.slice('SCHILY.xattr.'.length), value);
    else if (key.startsWith('LIBARCHIVE.xattr.')) {
      let name: string;
      try {
        name = decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length));
      } catch {
        throw corruptError(subject, 'pax LIBARCHIVE.xattr record', at, `bad name ${JSON.stringify(key)}`);
      }
      if (!xattrs.has(name)) xattrs.set(name, Buffer.from(Buffer.from(value).toString('latin1'), 'base64'));
    }
  }
  return xattrs;
}

// ---- sparse members --------------------------------------------------------------------------

function checkMap(map: DataRegion[], realSize: number, stored: number, subject: string, at: number): void {
  let pos = 0;
  let total = 0;
  for (const r of map) {
    if (!Number.isSafeInteger(r.offset) || !Number.isSafeInteger(r.length) || r.offset < pos || r.length < 0 || r.offset + r.length > realSize) {
      throw corruptError(subject, 'sparse map', at, 'regions overlap, go backwards or lie past the end');
    }
    pos = r.offset + r.length;
    total += r.length;
  }
  if (total > stored) throw corruptError(subject, 'sparse map', at, `maps ${total} bytes but the member stores ${stored}`);
}

/** GNU's old sparse format: four (offset, size) pairs in the header, more in extension blocks. */
async function oldGnuSparseMap(source: RandomAccessSource, h: Uint8Array, r: TarRecord, subject: string) {
  const map: DataRegion[] = [];
  const readPairs = (block: Uint8Array, start: number, count: number, base: number) => {
    for (let i = 0; i < count; i++) {
      const at = start + i * 24;
      const off = block.subarray(at, at + 12);
      if (off[0] === 0) return;
      map.push({
        offset: parseNumber(off, subject, base + at, 'sparse offset'),
        length: parseNumber(block.subarray(at + 12, at + 24), subject, base + at + 12, 'sparse size'),
      });
    }
  };
  readPairs(h, F.gnuSparse[0], 4, r.offset);
  let extended = h[F.gnuIsExtended[0]] !== 0;
  let ext = r.dataOffset;
  while (extended) {
    if (ext + BLOCK > source.size) throw truncatedError(subject, 'sparse extension block', ext);
    const block = await source.read(ext, BLOCK);
    readPairs(block, 0, 21, ext);
    extended = block[504] !== 0;
    ext += BLOCK;
    if (map.length > 1 << 20) throw new ReprimageError('OVERFLOW', subject, `sparse map too long at byte ${r.offset}`);
  }
  const realSize = parseNumber(field(h, 'gnuRealSize'), subject, r.offset + F.gnuRealSize[0], 'sparse real size');
  r.dataOffset = ext;
  if (r.dataOffset + r.storedSize > source.size) throw truncatedError(subject, 'sparse member data', r.dataOffset);
  checkMap(map, realSize, r.storedSize, subject, r.offset);
  return { realSize, map };
}

/** GNU sparse formats 0.0 and 0.1 (`GNU.sparse.map`) and 1.0 (map at the start of the data). */
async function paxSparseMap(source: RandomAccessSource, records: Map<string, Uint8Array>, r: TarRecord, subject: string) {
  const realText = text(records.get('GNU.sparse.realsize')) ?? text(records.get('GNU.sparse.size'));
  if (realText === undefined || !/^\d+$/.test(realText)) throw corruptError(subject, 'pax sparse records', r.offset, 'no real size');
  const realSize = Number(realText);
  const map: DataRegion[] = [];
  const major = text(records.get('GNU.sparse.major'));
  if (major === '1') {
    // the data starts with decimal lines: the count, then offset/size pairs; padded to a block
    let pos = r.dataOffset;
    const end = r.dataOffset + r.storedSize;
    let buffered = '';
    const nextNumber = async (): Promise<number> => {
      while (!buffered.includes('\n')) {
        if (pos >= end || buffered.length > 64) throw corruptError(subject, 'sparse map', pos, 'malformed');
        const n = Math.min(BLOCK, end - pos);
        buffered += Buffer.from(await source.read(pos, n)).toString('latin1');
        pos += n;
      }
      const nl = buffered.indexOf('\n');
      const t = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (!/^\d+$/.test(t)) throw corruptError(subject, 'sparse map', pos, `bad number ${JSON.stringify(t)}`);
      return Number(t);
    };
    const count = await nextNumber();
    if (count > 1 << 20) throw new ReprimageError('OVERFLOW', subject, `sparse map of ${count} regions at byte ${r.offset}`);
    for (let i = 0; i < count; i++) map.push({ offset: await nextNumber(), length: await nextNumber() });
    const consumed = pos - buffered.length - r.dataOffset;
    const mapBytes = Math.ceil(consumed / BLOCK) * BLOCK;
    r.dataOffset += mapBytes;
    r.storedSize -= mapBytes;
  } else {
    const flat = text(records.get('GNU.sparse.map'));
    if (flat === undefined) throw corruptError(subject, 'pax sparse records', r.offset, 'neither GNU.sparse.map nor a map in the data');
    const nums = flat === '' ? [] : flat.split(',').map(Number);
    if (nums.length % 2 !== 0 || nums.some((n) => !Number.isSafeInteger(n))) throw corruptError(subject, 'GNU.sparse.map', r.offset, 'odd or bad numbers');
    for (let i = 0; i < nums.length; i += 2) map.push({ offset: nums[i]!, length: nums[i + 1]! });
  }
  checkMap(map, realSize, r.storedSize, subject, r.offset);
  r.size = realSize;
  return { realSize, map };
}
