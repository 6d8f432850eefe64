/**
 * The tar writer. It writes a Tree as it is (the caller has applied the metadata policy) in
 * `tree.walk()` order, which is the order of `tar --sort=name`. For the GNU flavour the bytes
 * equal GNU tar 1.34's for
 *   tar --sort=name --mtime=@E --clamp-mtime --owner=0 --group=0 --numeric-owner --format=gnu -C DIR -cf OUT .
 * and for pax those of the same with `--format=pax --pax-option=exthdr.name=%d/PaxHeaders/%f,
 * delete=atime,delete=ctime [--xattrs]`, except where docs/formats/tar.md says why not.
 */
import { ReprimageError } from '../../errors.js';
import type { Sink } from '../../io/sink.js';
import type { Node, Tree } from '../../tree/tree.js';
import { clampedToBuildTime } from '../../tree/copy.js';
import { copyToSink, type Content } from '../../tree/content.js';
import { compareNames, displayName, nameBytes, nameFromBytes } from '../../tree/names.js';
import { BLOCK, MAGIC_GNU, MAGIC_USTAR, RECORD, TYPE, putBytes, putNumber, putString, sealChecksum } from './layout.js';

/** Which tar dialect to write; docs/formats/tar.md gives the GNU tar command each one equals. */
export type TarFlavour = 'gnu' | 'pax' | 'ustar';

/** Options of writeTar. */
export interface TarWriteOptions {
  format: TarFlavour;
  /** `./` (default) names entries as `tar -C DIR -cf OUT .` does, the root included as `./`; `''` omits the root. */
  namePrefix?: './' | '';
  /**
   * The build time (SOURCE_DATE_EPOCH), in seconds: entry mtimes later than it are stored as it,
   * and it is the mtime of pax extended headers (where GNU tar writes its `--mtime` value).
   */
  buildTime: number;
  warn?: (message: string) => void;
}

const ZERO_BLOCK = new Uint8Array(BLOCK);

const NODE_TYPE: Record<Exclude<Node['kind'], 'socket'>, string> = {
  file: TYPE.file,
  dir: TYPE.dir,
  symlink: TYPE.symlink,
  char: TYPE.char,
  block: TYPE.block,
  fifo: TYPE.fifo,
};

interface HeaderFields {
  name: Uint8Array;
  linkname: Uint8Array;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  type: string;
  devmajor?: number;
  devminor?: number;
}

/**
 * Writes `tree` as it is, in walk order, then two zero end blocks and zeros to a whole 10240-byte
 * record. The bytes depend on the tree and the options only. Throws UNSUPPORTED (naming the
 * entry) for what the flavour cannot hold, IO when a content yields more or fewer bytes than its
 * size; sockets are skipped with a warning.
 */
export async function writeTar(given: Tree, sink: Sink, options: TarWriteOptions): Promise<void> {
  checkBuildTime(options.buildTime);
  const tree = clampedToBuildTime(given, options.buildTime);
  const prefix = options.namePrefix ?? './';
  const warn = options.warn ?? (() => undefined);
  const start = sink.position;
  const out = new HeaderOutput(sink);
  let xattrsDropped = false;
  for (const { path, node, linkTo } of tree.walk()) {
    if (path === '' && prefix === '') continue;
    // named only in messages: escaping every name up front cost as much as a header
    const display = () => displayName(prefix + path);
    if (node.kind === 'socket') {
      warn(`${display()}: socket ignored`);
      continue;
    }
    const name = path === '' ? prefix : prefix + path + (node.kind === 'dir' ? '/' : '');
    const fields: HeaderFields = {
      name: nameBytes(name),
      linkname: new Uint8Array(0),
      mode: node.mode & 0o7777,
      uid: node.uid,
      gid: node.gid,
      size: 0,
      mtime: node.mtime.sec,
      type: linkTo !== undefined ? TYPE.hardlink : NODE_TYPE[node.kind],
    };
    if (linkTo !== undefined) fields.linkname = nameBytes(prefix + linkTo);
    else if (node.kind === 'symlink') fields.linkname = nameBytes(node.target);
    else if (node.kind === 'file') fields.size = node.content.size;
    else if (node.kind === 'char' || node.kind === 'block') {
      fields.devmajor = node.major;
      fields.devminor = node.minor;
    }
    if (options.format !== 'pax' && node.xattrs.size > 0 && !xattrsDropped) {
      xattrsDropped = true;
      warn(`the ${options.format} tar format cannot hold extended attributes (first: ${display()}); use --tar-format pax to keep them`);
    }
    switch (options.format) {
      case 'gnu':
        await writeGnuEntry(out, fields);
        break;
      case 'pax':
        await writePaxEntry(out, fields, node, linkTo === undefined, options.buildTime);
        break;
      case 'ustar':
        await out.write(ustarHeader(out.header(), fields, display()));
        break;
    }
    if (node.kind === 'file' && linkTo === undefined) await writeFileBody(sink, node.content);
  }
  await sink.write(ZERO_BLOCK);
  await sink.write(ZERO_BLOCK);
  const written = sink.position - start;
  const pad = (RECORD - (written % RECORD)) % RECORD;
  if (pad > 0) await sink.write(new Uint8Array(pad));
}

/**
 * Where headers are built and how they reach the sink: one header block reused for every entry
 * (an allocation per entry cost more than building it). A sink that lends its buffer (`fill`)
 * gets the block copied in; any other sink may keep what it is handed, so it gets a copy.
 */
class HeaderOutput {
  readonly #block = new Uint8Array(BLOCK);
  constructor(readonly sink: Sink) {}

  /** The header block, zeroed; valid until the next call. */
  header(): Uint8Array {
    return this.#block.fill(0);
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.sink.fill === undefined) return this.sink.write(bytes.slice());
    let at = 0;
    await this.sink.fill(bytes.length, (view) => {
      view.set(bytes.subarray(at, at + view.length));
      at += view.length;
    });
  }
}

/** Views of 0 to 511 zero bytes, made once: the padding after each file. */
const ZERO_PADS: readonly Uint8Array[] = Array.from({ length: BLOCK }, (_, n) => ZERO_BLOCK.subarray(0, n));

/** A file's bytes and padding: straight from disk into the sink's buffer where both allow it. */
async function writeFileBody(sink: Sink, content: Content): Promise<void> {
  if (!(await copyToSink(content, sink))) return writeBody(sink, content.chunks(), content.size, content.origin);
  const pad = (BLOCK - (content.size % BLOCK)) % BLOCK;
  if (pad > 0) await sink.write(ZERO_PADS[pad]!);
}

async function writeBody(sink: Sink, chunks: AsyncIterable<Uint8Array>, size: number, origin: string): Promise<void> {
  let seen = 0;
  for await (const chunk of chunks) {
    seen += chunk.length;
    if (seen > size) throw new ReprimageError('IO', origin, `grew beyond ${size} bytes while being archived`);
    await sink.write(chunk);
  }
  if (seen !== size) throw new ReprimageError('IO', origin, `shrank to ${seen} of ${size} bytes while being archived`);
  const pad = (BLOCK - (size % BLOCK)) % BLOCK;
  if (pad > 0) await sink.write(new Uint8Array(pad));
}

/** The common part of every header, written into the zeroed block `h`; `magic` picks the flavour. */
function baseHeader(h: Uint8Array, f: HeaderFields, magic: string, allowBase256: boolean, subject: string): Uint8Array {
  putBytes(h, 'name', f.name);
  putBytes(h, 'linkname', f.linkname);
  putHeaderNumber(h, 'mode', f.mode, allowBase256, subject);
  putHeaderNumber(h, 'uid', f.uid, allowBase256, subject);
  putHeaderNumber(h, 'gid', f.gid, allowBase256, subject);
  putHeaderNumber(h, 'size', f.size, allowBase256, subject);
  putHeaderNumber(h, 'mtime', f.mtime, allowBase256, subject);
  putString(h, 'typeflag', f.type);
  putString(h, 'magic', magic.slice(0, 6));
  putString(h, 'version', magic.slice(6));
  return h;
}

function putHeaderNumber(h: Uint8Array, key: 'mode' | 'uid' | 'gid' | 'size' | 'mtime', value: number, allowBase256: boolean, subject: string): void {
  if (!putNumber(h, key, value, allowBase256)) {
    throw new ReprimageError('UNSUPPORTED', subject, `${key} ${value} does not fit a ustar header; use --tar-format pax or gnu`);
  }
}

function putDevices(h: Uint8Array, f: HeaderFields): void {
  putNumber(h, 'devmajor', f.devmajor ?? 0, true);
  putNumber(h, 'devminor', f.devminor ?? 0, true);
}

// ---- GNU -------------------------------------------------------------------------------------

async function writeGnuEntry(out: HeaderOutput, f: HeaderFields): Promise<void> {
  if (f.linkname.length > 100) await writeGnuLong(out, TYPE.gnuLongLink, f.linkname);
  if (f.name.length > 100) await writeGnuLong(out, TYPE.gnuLongName, f.name);
  const h = baseHeader(out.header(), f, MAGIC_GNU, true, '');
  // GNU tar fills the device fields only for devices; elsewhere they stay zero bytes
  if (f.devmajor !== undefined) putDevices(h, f);
  sealChecksum(h);
  await out.write(h);
}

/** A ././@LongLink record carrying a name or link target longer than 100 bytes. */
async function writeGnuLong(out: HeaderOutput, type: string, bytes: Uint8Array): Promise<void> {
  const data = new Uint8Array(bytes.length + 1);
  data.set(bytes);
  const h = baseHeader(
    out.header(),
    { name: Buffer.from('././@LongLink'), linkname: new Uint8Array(0), mode: 0o644, uid: 0, gid: 0, size: data.length, mtime: 0, type },
    MAGIC_GNU,
    true,
    '',
  );
  sealChecksum(h);
  await out.write(h);
  await writeBody(out.sink, oneChunk(data), data.length, '././@LongLink');
}

async function* oneChunk(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

// ---- pax -------------------------------------------------------------------------------------

async function writePaxEntry(out: HeaderOutput, f: HeaderFields, node: Node, withXattrs: boolean, buildTime: number): Promise<void> {
  const records: Uint8Array[] = [];
  // GNU tar stores the link target before it starts the header, so `linkpath` comes first; it
  // moves a target only when it is too long, but a name also when it is not plain ASCII
  if (f.linkname.length > 100) records.push(paxRecord('linkpath', f.linkname));
  if (f.name.length > 100 || !isAscii(f.name)) records.push(paxRecord('path', f.name));
  const fits = (v: number, digits: number) => v >= 0 && v < 8 ** digits;
  if (!fits(f.uid, 7)) records.push(paxRecord('uid', Buffer.from(String(f.uid))));
  if (!fits(f.gid, 7)) records.push(paxRecord('gid', Buffer.from(String(f.gid))));
  if (!fits(f.size, 11)) records.push(paxRecord('size', Buffer.from(String(f.size))));
  if (node.mtime.nsec !== 0 || !fits(f.mtime, 11)) records.push(paxRecord('mtime', Buffer.from(paxTime(node.mtime.sec, node.mtime.nsec))));
  if (withXattrs) {
    // GNU tar writes xattrs in llistxattr order, which depends on the file system; we sort them
    for (const key of [...node.xattrs.keys()].sort(compareNames)) {
      records.push(paxRecord(`SCHILY.xattr.${key}`, node.xattrs.get(key)!));
    }
  }
  if (records.length > 0) {
    const body = Buffer.concat(records);
    const h = baseHeader(
      out.header(),
      { name: paxHeaderName(f.name), linkname: new Uint8Array(0), mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: buildTime, type: TYPE.paxLocal },
      MAGIC_USTAR,
      true,
      '',
    );
    sealChecksum(h);
    await out.write(h);
    await writeBody(out.sink, oneChunk(body), body.length, 'pax header');
  }
  const clipped: HeaderFields = {
    ...f,
    name: f.name.subarray(0, 100),
    linkname: f.linkname.subarray(0, 100),
    // a value carried by a record is 0 in the header, as GNU tar writes it
    uid: fits(f.uid, 7) ? f.uid : 0,
    gid: fits(f.gid, 7) ? f.gid : 0,
    size: fits(f.size, 11) ? f.size : 0,
    mtime: fits(f.mtime, 11) ? f.mtime : 0,
  };
  const h = baseHeader(out.header(), clipped, MAGIC_USTAR, true, '');
  putDevices(h, f);
  sealChecksum(h);
  await out.write(h);
}

function isAscii(bytes: Uint8Array): boolean {
  return bytes.every((b) => b < 0x80);
}

/** `%d/PaxHeaders/%f`: the entry's directory, `PaxHeaders`, its base name; cut to 100 bytes. */
function paxHeaderName(name: Uint8Array): Uint8Array {
  let text = nameFromBytes(name);
  if (text.length > 1 && text.endsWith('/')) text = text.slice(0, -1);
  const slash = text.lastIndexOf('/');
  const dir = slash < 0 ? '.' : slash === 0 ? '/' : text.slice(0, slash);
  const base = text.slice(slash + 1);
  return nameBytes(`${dir}/PaxHeaders/${base}`).subarray(0, 100);
}

/** `"%d %s=%s\n"` where the leading length counts the whole record, itself included. */
export function paxRecord(key: string, value: Uint8Array): Uint8Array {
  const keyBytes = nameBytes(key); // an xattr name is bytes too
  const rest = keyBytes.length + value.length + 3; // space, '=', newline
  let len = rest + String(rest).length;
  if (String(len).length !== String(rest).length) len = rest + String(len).length;
  return Buffer.concat([Buffer.from(`${len} `), keyBytes, Buffer.from('='), value, Buffer.from('\n')]);
}

/** Seconds and nanoseconds as pax writes them: a decimal fraction without trailing zeros. */
export function paxTime(sec: number, nsec: number): string {
  if (nsec === 0) return String(sec);
  const frac = String(nsec).padStart(9, '0').replace(/0+$/, '');
  if (sec < 0) {
    // pax times are signed decimals: -1.25 means 1.25 s before the epoch
    const whole = sec + 1;
    const fracNeg = String(1e9 - nsec).padStart(9, '0').replace(/0+$/, '');
    return `${whole === 0 ? '-0' : whole}.${fracNeg}`;
  }
  return `${sec}.${frac}`;
}

// ---- ustar -----------------------------------------------------------------------------------

function ustarHeader(block: Uint8Array, f: HeaderFields, subject: string): Uint8Array {
  let name = f.name;
  let prefix: Uint8Array = new Uint8Array(0);
  if (name.length > 100) {
    const split = ustarSplit(name);
    if (split < 0) throw new ReprimageError('UNSUPPORTED', subject, 'name too long for ustar (over 100 bytes and no split into prefix/name); use --tar-format gnu or pax');
    prefix = name.subarray(0, split);
    name = name.subarray(split + 1);
  }
  if (f.linkname.length > 100) throw new ReprimageError('UNSUPPORTED', subject, 'link target longer than 100 bytes cannot be stored in ustar; use --tar-format gnu or pax');
  const h = baseHeader(block, { ...f, name }, MAGIC_USTAR, false, subject);
  putBytes(h, 'prefix', prefix);
  putDevices(h, f);
  sealChecksum(h);
  return h;
}

/**
 * Where GNU tar splits a long ustar name: at the last '/' that leaves at most 155 bytes of
 * prefix (a directory's own trailing '/' does not count), provided the rest fits the 100-byte
 * name field; -1 when no such split exists.
 */
export function ustarSplit(name: Uint8Array): number {
  let end = name.length;
  if (end > 156) end = 156;
  else if (name[end - 1] === 0x2f) end--;
  let i = end - 1;
  while (i > 0 && name[i] !== 0x2f) i--;
  if (i <= 0 || name.length - i - 1 > 100) return -1;
  return i;
}

function checkBuildTime(t: number): void {
  if (!Number.isSafeInteger(t) || t < 0) throw new ReprimageError('USAGE', 'buildTime', `must be a non-negative whole number of seconds since 1970, got ${t}`);
}
