/**
 * Builds the xattr table the way mksquashfs 4.5 does: identical key/value lists share one id;
 * values longer than 128 bytes (less when a list would exceed 64 KiB) are stored out of line;
 * a value of 8 bytes or more that was stored before is referenced instead of repeated. Names
 * are taken by prefix (user., trusted., security.: the order ext4 lists them, which mksquashfs
 * keeps) and then bytewise, so the order never depends on the host.
 */
import { ReprimageError } from '../../errors.js';
import { compareNames, utf8 } from '../../tree/names.js';
import { SQUASHFS_INVALID_XATTR, XATTR_VALUE_OOL } from './constants.js';
import { MetadataWriter, type MetadataCompressor } from './metadata-writer.js';
import { splitXattrName, type XattrIdEntry } from './layout/xattr.js';

const INLINE_MAX = 128;
const TARGET_MAX = 65536;
const OOL_SIZE = 8;

interface Item {
  full: string;
  prefix: number;
  name: Uint8Array;
  value: Uint8Array;
  ool: boolean;
  /** Reference of a stored `{size, value}` to point at, once known. */
  ref: bigint | undefined;
  valueKey: string | undefined;
}

export class XattrWriter {
  readonly stream: MetadataWriter;
  readonly ids: XattrIdEntry[] = [];
  #lists = new Map<string, number>();
  #values = new Map<string, { ref: bigint | undefined }>();

  constructor(compress: MetadataCompressor | undefined, private readonly warn: (m: string) => void) {
    this.stream = new MetadataWriter(compress);
  }

  #ref(): bigint {
    const r = this.stream.nextRef();
    return (BigInt(r.block) << 16n) | BigInt(r.offset);
  }

  /** The xattr index of a set of attributes, adding them to the table if new. */
  async add(xattrs: ReadonlyMap<string, Uint8Array>, subject: string): Promise<number> {
    if (xattrs.size === 0) return SQUASHFS_INVALID_XATTR;
    const items: Item[] = [];
    const named: Array<{ full: string; prefix: number; rest: string }> = [];
    for (const full of xattrs.keys()) {
      const split = splitXattrName(full);
      if (split) named.push({ full, ...split });
      else this.warn(`${subject}: xattr ${full} has a prefix squashfs cannot store (only user., trusted., security.); left out`);
    }
    named.sort((a, b) => a.prefix - b.prefix || compareNames(a.rest, b.rest));
    for (const { full, ...split } of named) {
      const value = xattrs.get(full)!;
      const name = utf8(split.rest);
      if (name.length > 0xffff || value.length > 0xffffffff) throw new ReprimageError('UNSUPPORTED', subject, `xattr ${full} is too large for squashfs`);
      items.push({ full, prefix: split.prefix, name, value, ool: false, ref: undefined, valueKey: undefined });
    }
    if (items.length === 0) return SQUASHFS_INVALID_XATTR;
    const listKey = JSON.stringify(items.map((i) => [i.full, Buffer.from(i.value).toString('base64')]));
    const known = this.#lists.get(listKey);
    if (known !== undefined) return known;

    for (let max = INLINE_MAX; ; ) {
      let total = 0;
      for (const it of items) {
        it.ool = it.value.length > max;
        total += 8 + it.name.length + (it.ool ? OOL_SIZE : it.value.length);
      }
      if (total <= TARGET_MAX || max === OOL_SIZE) break;
      max = Math.max(OOL_SIZE, max >> 1);
    }
    // Values seen before are referenced; new ones are remembered where they get stored.
    for (const it of items) {
      if (it.value.length < OOL_SIZE) continue;
      const key = Buffer.from(it.value).toString('base64');
      const seen = this.#values.get(key);
      if (seen?.ref !== undefined) {
        it.ool = true;
        it.ref = seen.ref;
      } else if (!seen) {
        this.#values.set(key, { ref: undefined });
        it.valueKey = key;
      }
    }
    for (const it of items) {
      if (it.ool && it.ref === undefined) {
        it.ref = this.#ref();
        if (it.valueKey) this.#values.get(it.valueKey)!.ref = it.ref;
        await this.stream.append(encodeValue(it.value));
      }
    }
    const listRef = this.#ref();
    let size = 0;
    for (const it of items) {
      const head = new Uint8Array(4 + it.name.length);
      const v = new DataView(head.buffer);
      v.setUint16(0, it.prefix | (it.ool ? XATTR_VALUE_OOL : 0), true);
      v.setUint16(2, it.name.length, true);
      head.set(it.name, 4);
      await this.stream.append(head);
      if (it.ool) {
        const ptr = new Uint8Array(12);
        const pv = new DataView(ptr.buffer);
        pv.setUint32(0, OOL_SIZE, true);
        pv.setBigUint64(4, it.ref!, true);
        await this.stream.append(ptr);
      } else {
        if (it.valueKey && this.#values.get(it.valueKey)!.ref === undefined) this.#values.get(it.valueKey)!.ref = this.#ref();
        await this.stream.append(encodeValue(it.value));
      }
      size += utf8(it.full).length + 1 + it.value.length;
    }
    const id = this.ids.length;
    this.ids.push({ ref: listRef, count: items.length, size });
    this.#lists.set(listKey, id);
    return id;
  }
}

function encodeValue(value: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + value.length);
  new DataView(out.buffer).setUint32(0, value.length, true);
  out.set(value, 4);
  return out;
}
