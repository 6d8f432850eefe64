/**
 * Reads the member list of an ar archive: GNU long names (`//` table and `/N` references), BSD
 * long names (`#1/N`, the name stored before the data), and the symbol tables (`/`, `/SYM64/`,
 * `__.SYMDEF`), which are listed like any member. Data stays in the archive.
 */
import { ReprimageError, corruptError, truncatedError } from '../../errors.js';
import type { RandomAccessSource } from '../../io/source.js';
import { nameFromBytes } from '../../tree/names.js';
import { AR_FIELDS, AR_FMAG, AR_HEADER_SIZE, AR_MAGIC } from './layout.js';

export interface ArMember {
  /** The name as ar shows it: GNU's trailing `/` removed, long names resolved. */
  name: string;
  mtime: number;
  uid: number;
  gid: number;
  /** st_mode as stored (type bits included). */
  mode: number;
  size: number;
  headerOffset: number;
  dataOffset: number;
}

const MAX_MEMBERS = 1 << 20;
const MAX_NAME_TABLE = 16 << 20;

export function sniffAr(head: Uint8Array): boolean {
  return head.length >= 8 && Buffer.from(head.subarray(0, 8)).toString('latin1') === AR_MAGIC;
}

export async function readArMembers(source: RandomAccessSource): Promise<ArMember[]> {
  const name = source.name;
  if (source.size < 8) throw truncatedError(name, 'ar header', 0, 8 - source.size);
  if (!sniffAr(await source.read(0, 8))) throw corruptError(name, 'ar header', 0, 'no "!<arch>" magic');
  const out: ArMember[] = [];
  let longNames: Buffer | undefined;
  let at = 8;
  while (at < source.size) {
    if (out.length >= MAX_MEMBERS) throw new ReprimageError('OVERFLOW', name, `more than ${MAX_MEMBERS} ar members`);
    if (at + AR_HEADER_SIZE > source.size) {
      // some tools pad the archive with a newline; anything else is a cut header
      if (at + 1 === source.size && (await source.read(at, 1))[0] === 0x0a) break;
      throw truncatedError(name, 'ar member header', at, at + AR_HEADER_SIZE - source.size);
    }
    const raw = Buffer.from(await source.read(at, AR_HEADER_SIZE));
    const h = raw.toString('latin1');
    const field = (f: keyof typeof AR_FIELDS) => h.slice(AR_FIELDS[f][0], AR_FIELDS[f][0] + AR_FIELDS[f][1]);
    if (field('fmag') !== AR_FMAG) throw corruptError(name, 'ar member header', at, 'bad terminator (not "`\\n")');
    const number = (f: keyof typeof AR_FIELDS, radix: number) => {
      const text = field(f).trim();
      if (text === '') return 0;
      if (!(radix === 8 ? /^[0-7]+$/ : /^\d+$/).test(text)) throw corruptError(name, 'ar member header', at + AR_FIELDS[f][0], `${f} is not a number: ${JSON.stringify(text)}`);
      return parseInt(text, radix);
    };
    let size = number('size', 10);
    let dataOffset = at + AR_HEADER_SIZE;
    if (dataOffset + size > source.size) throw truncatedError(name, 'ar member data', dataOffset, dataOffset + size - source.size);
    // the name field is bytes (names.ts), the other fields ASCII
    let memberName = nameFromBytes(raw.subarray(AR_FIELDS.name[0], AR_FIELDS.name[0] + AR_FIELDS.name[1])).trimEnd();
    if (memberName.startsWith('#1/')) {
      // BSD: the name is the first N bytes of the data
      const n = Number(memberName.slice(3));
      if (!Number.isSafeInteger(n) || n > size) throw corruptError(name, 'ar member header', at, `bad BSD name length ${JSON.stringify(memberName)}`);
      memberName = nameFromBytes(await source.read(dataOffset, n)).replace(/\0+$/, '');
      dataOffset += n;
      size -= n;
    } else if (memberName === '//') {
      if (size > MAX_NAME_TABLE) throw new ReprimageError('OVERFLOW', name, `ar long-name table of ${size} bytes`);
      longNames = Buffer.from(await source.read(dataOffset, size));
    } else if (/^\/\d+$/.test(memberName)) {
      const offset = Number(memberName.slice(1));
      if (longNames === undefined || offset >= longNames.length) throw corruptError(name, 'ar member header', at, `long name ${memberName} without a name table entry`);
      // the offset counts bytes: cut the table as bytes, then decode the one name
      const end = longNames.indexOf('/\n', offset);
      memberName = nameFromBytes(longNames.subarray(offset, end < 0 ? undefined : end));
    } else if (memberName !== '/' && memberName !== '/SYM64/' && memberName.endsWith('/')) {
      memberName = memberName.slice(0, -1);
    }
    out.push({ name: memberName, mtime: number('mtime', 10), uid: number('uid', 10), gid: number('gid', 10), mode: number('mode', 8), size, headerOffset: at, dataOffset });
    at = dataOffset + size + ((dataOffset + size) % 2);
  }
  return out;
}
