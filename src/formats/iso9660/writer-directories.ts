/**
 * The directory extents of writeIso: ISO 9660 directories with their Rock Ridge (and AAIP)
 * entries, spilling into continuation areas that follow each directory, and the Joliet
 * directories; plus the path tables' entries. Each directory is encoded twice: pass 1 only
 * measures (writer-layout.ts places the extents from the sizes), pass 2 emits the bytes.
 */
import type { Node } from '../../tree/tree.js';
import { TYPE_BITS } from '../../tree/tree.js';
import { nameBytes } from '../../tree/names.js';
import { encodeAl } from './aaip.js';
import { FLAG_DIRECTORY, FLAG_MULTI_EXTENT, ISO_MAX_EXTENT_SIZE, ISO_SECTOR_SIZE } from './constants.js';
import { DIR_RECORD_MAX_SIZE, DOTDOT_ID, DOT_ID, dirRecordSize, encodeDirRecord, systemUseOffset } from './dir-record.js';
import { encodeUcs2 } from './joliet.js';
import type { PathTableEntry } from './path-table.js';
import type { DataPlan, DirPlan, Plan, RecordPlan } from './plan.js';
import { encodeCl, encodeNm, encodePl, encodePn, encodePx, encodeRe, encodeRripEr, encodeSl, encodeTf } from './rock-ridge.js';
import { encodeCe, encodeSp, layoutSusp } from './susp.js';

/** What the directory encoders share between records and passes. */
export interface Ctx {
  plan: Plan;
  now: number;
  rockRidge: boolean;
  /** Write AAIP AL entries for nodes with xattrs. */
  xattrs: boolean;
  /** First sector of the continuation areas, and the next free byte within them. */
  ceBase: number;
  ceAt: number;
  /** Pass 2 only: the bytes of every continuation area. */
  ceBytes: Uint8Array | undefined;
  catalogSector: number;
}

export function clamp(node: Node, now: number): number {
  return Math.min(node.mtime.sec, now);
}

export type TableEntry = PathTableEntry & { dir: DirPlan };

export function pathTable(dirs: DirPlan[], id: (d: DirPlan) => string, parent: (d: DirPlan) => DirPlan | undefined, number: (d: DirPlan) => number, ns: 'iso' | 'joliet'): TableEntry[] {
  return dirs.map((d) => {
    const p = parent(d);
    const idBytes = p === undefined ? DOT_ID : ns === 'iso' ? Buffer.from(id(d), 'latin1') : encodeUcs2(id(d));
    return { id: idBytes, extent: 0, parent: p === undefined ? 1 : number(p), dir: d };
  });
}

/** Appends records to a directory's extent; a record never crosses a sector boundary. */
class DirectoryBytes {
  readonly #parts: Uint8Array[] = [];
  #size = 0;

  /** `measure`: keep only the size (pass 1); finish() then returns zeros of that size. */
  constructor(private readonly measure = false) {}

  add(record: Uint8Array): void {
    const used = this.#size % ISO_SECTOR_SIZE;
    if (used + record.length > ISO_SECTOR_SIZE) this.#pad(ISO_SECTOR_SIZE - used);
    if (!this.measure) this.#parts.push(record);
    this.#size += record.length;
  }

  #pad(n: number): void {
    if (n > 0 && !this.measure) this.#parts.push(new Uint8Array(n));
    this.#size += n;
  }

  finish(): Uint8Array {
    this.#pad((ISO_SECTOR_SIZE - (this.#size % ISO_SECTOR_SIZE)) % ISO_SECTOR_SIZE);
    if (this.#size === 0) this.#pad(ISO_SECTOR_SIZE);
    return this.measure ? new Uint8Array(this.#size) : Buffer.concat(this.#parts);
  }
}

/**
 * The Rock Ridge entries of a record for `node` named `name` (name undefined for . and ..); a
 * fresh array the caller may extend. Encoded again in each pass rather than kept: kept for every
 * node of a 44,657-entry tree they took 57 MiB, and encoding is cheaper than the collections
 * they caused.
 */
function rripEntries(ctx: Ctx, node: Node, name: string | undefined): Uint8Array[] {
  return encodeRripEntries(ctx, node, name);
}

function encodeRripEntries(ctx: Ctx, node: Node, name: string | undefined): Uint8Array[] {
  const { plan, now } = ctx;
  const type = TYPE_BITS[node.kind];
  const entries = [encodePx(type | (node.mode & 0o7777), plan.linkCounts.get(node) ?? 1, node.uid, node.gid, plan.inodes.get(node) ?? 0), encodeTf(clamp(node, now))];
  if (name !== undefined) entries.push(...encodeNm(nameBytes(name)));
  if (node.kind === 'symlink') entries.push(...encodeSl(node.target));
  if (node.kind === 'block' || node.kind === 'char') entries.push(encodePn(node.major, node.minor));
  // A directory's attributes go with its record in the parent (and the root's with its "."), not "." and "..".
  if (ctx.xattrs && name !== undefined) entries.push(...encodeAl(node.xattrs));
  return entries;
}

/** Stands in for records whose bytes pass 1 does not need: only their length counts. */
const SIZE_ONLY = new Uint8Array(256);

/** Encodes a record, spilling system use entries into continuation areas when they do not fit. */
function recordWithSusp(ctx: Ctx, fields: { extent: number; dataLength: number; recordingDate: number; flags: number; fileId: Uint8Array }, entries: Uint8Array[], emit: boolean): Uint8Array {
  const space = DIR_RECORD_MAX_SIZE - 1 - systemUseOffset(fields.fileId.length);
  const layout = layoutSusp(entries, space, ISO_SECTOR_SIZE);
  // Place the areas; each sits within one sector.
  const places = layout.areas.map((area) => {
    const length = area.reduce((n, e) => n + e.length, 0) + (area === layout.areas[layout.areas.length - 1] ? 0 : 28);
    if ((ctx.ceAt % ISO_SECTOR_SIZE) + length > ISO_SECTOR_SIZE) ctx.ceAt += ISO_SECTOR_SIZE - (ctx.ceAt % ISO_SECTOR_SIZE);
    const at = ctx.ceAt;
    ctx.ceAt += length;
    return { at, length };
  });
  const ce = (i: number) => encodeCe(ctx.ceBase + Math.floor(places[i]!.at / ISO_SECTOR_SIZE), places[i]!.at % ISO_SECTOR_SIZE, places[i]!.length);
  if (emit && ctx.ceBytes) {
    layout.areas.forEach((area, i) => {
      let at = places[i]!.at;
      for (const e of i + 1 < layout.areas.length ? [...area, ce(i + 1)] : area) {
        ctx.ceBytes!.set(e, at);
        at += e.length;
      }
    });
  }
  if (!emit) {
    // Pass 1 needs only the record's length (and the continuation areas placed above).
    let suLength = layout.areas.length > 0 ? 28 : 0;
    for (const e of layout.inRecord) suLength += e.length;
    return SIZE_ONLY.subarray(0, dirRecordSize(fields.fileId.length, suLength));
  }
  const su = layout.areas.length > 0 ? [...layout.inRecord, ce(0)] : layout.inRecord;
  return encodeDirRecord({ ...fields, systemUse: Buffer.concat(su) });
}

/** One ISO 9660 directory extent: ".", "..", then the records in identifier order. */
export function encodeIsoDirectory(dir: DirPlan, ctx: Ctx, emit: boolean): Uint8Array {
  const { plan, now, rockRidge } = ctx;
  const out = new DirectoryBytes(!emit);
  const isoParent = dir.isoParent ?? dir;
  const realParent = dir.parent ?? dir;
  // "." (with SP and the ER in the root) and "..".
  const dotEntries = rockRidge ? rripEntries(ctx, dir.node, undefined) : [];
  if (rockRidge && dir === plan.root) {
    dotEntries.unshift(encodeSp(0));
    if (ctx.xattrs) dotEntries.push(...encodeAl(dir.node.xattrs));
    dotEntries.push(encodeRripEr());
  }
  out.add(recordWithSusp(ctx, { extent: dir.extent, dataLength: dir.size, recordingDate: clamp(dir.node, now), flags: FLAG_DIRECTORY, fileId: DOT_ID }, dotEntries, emit));
  const dotdotEntries = rockRidge ? rripEntries(ctx, realParent.node, undefined) : [];
  if (rockRidge && dir.relocated) dotdotEntries.push(encodePl(realParent.extent));
  out.add(recordWithSusp(ctx, { extent: isoParent.extent, dataLength: isoParent.size, recordingDate: clamp(isoParent.node, now), flags: FLAG_DIRECTORY, fileId: DOTDOT_ID }, dotdotEntries, emit));
  for (const r of dir.isoRecords) {
    for (const rec of isoRecords(r, ctx, emit)) out.add(rec);
  }
  return out.finish();
}

function isoRecords(r: RecordPlan, ctx: Ctx, emit: boolean): Uint8Array[] {
  const { now, rockRidge } = ctx;
  const fileId = (r.idBytes ??= Buffer.from(r.id, 'latin1'));
  const entries = rockRidge ? rripEntries(ctx, r.node, r.name) : [];
  const date = clamp(r.node, now);
  const t = r.target;
  switch (t.kind) {
    case 'dir':
      return [recordWithSusp(ctx, { extent: t.dir.extent, dataLength: t.dir.size, recordingDate: date, flags: FLAG_DIRECTORY, fileId }, entries, emit)];
    case 'relocated':
      if (rockRidge) entries.push(encodeRe());
      return [recordWithSusp(ctx, { extent: t.dir.extent, dataLength: t.dir.size, recordingDate: date, flags: FLAG_DIRECTORY, fileId }, entries, emit)];
    case 'placeholder':
      if (rockRidge) entries.push(encodeCl(t.dir.extent));
      return [recordWithSusp(ctx, { extent: 0, dataLength: 0, recordingDate: date, flags: 0, fileId }, entries, emit)];
    case 'catalog':
      return [recordWithSusp(ctx, { extent: ctx.catalogSector, dataLength: ISO_SECTOR_SIZE, recordingDate: date, flags: 0, fileId }, entries, emit)];
    case 'special':
      return [recordWithSusp(ctx, { extent: 0, dataLength: 0, recordingDate: date, flags: 0, fileId }, entries, emit)];
    case 'file':
      return sections(t.data).map((s) => recordWithSusp(ctx, { extent: s.extent, dataLength: s.length, recordingDate: date, flags: s.last ? 0 : FLAG_MULTI_EXTENT, fileId }, entries, emit));
  }
}

/** The extents of a file: one, or several of ISO_MAX_EXTENT_SIZE bytes for files of 4 GiB and more. */
function sections(data: DataPlan): Array<{ extent: number; length: number; last: boolean }> {
  if (data.size <= 0xffffffff) return [{ extent: data.extent, length: data.size, last: true }];
  const out = [];
  for (let at = 0; at < data.size; at += ISO_MAX_EXTENT_SIZE) {
    const length = Math.min(ISO_MAX_EXTENT_SIZE, data.size - at);
    out.push({ extent: data.extent + at / ISO_SECTOR_SIZE, length, last: at + length >= data.size });
  }
  return out;
}

const encodeRecord = encodeDirRecord;
/** A record's length only, for pass 1 of the Joliet directories. */
function measureRecord(r: { fileId: Uint8Array }): Uint8Array {
  return SIZE_ONLY.subarray(0, dirRecordSize(r.fileId.length, 0));
}

/** One Joliet directory extent (no system use entries). */
export function encodeJolietDirectory(dir: DirPlan, ctx: Ctx, emit = true): Uint8Array {
  const { now } = ctx;
  const out = new DirectoryBytes(!emit);
  const encodeDirRecord = emit ? encodeRecord : measureRecord;
  const parent = dir.parent ?? dir;
  out.add(encodeDirRecord({ extent: dir.jolietExtent, dataLength: dir.jolietSize, recordingDate: clamp(dir.node, now), flags: FLAG_DIRECTORY, fileId: DOT_ID }));
  out.add(encodeDirRecord({ extent: parent.jolietExtent, dataLength: parent.jolietSize, recordingDate: clamp(parent.node, now), flags: FLAG_DIRECTORY, fileId: DOTDOT_ID }));
  for (const r of dir.jolietRecords) {
    const fileId = (r.idBytes ??= encodeUcs2(r.id));
    const date = clamp(r.node, now);
    const t = r.target;
    if (t.kind === 'dir') out.add(encodeDirRecord({ extent: t.dir.jolietExtent, dataLength: t.dir.jolietSize, recordingDate: date, flags: FLAG_DIRECTORY, fileId }));
    else if (t.kind === 'file') for (const s of sections(t.data)) out.add(encodeDirRecord({ extent: s.extent, dataLength: s.length, recordingDate: date, flags: s.last ? 0 : FLAG_MULTI_EXTENT, fileId }));
    else if (t.kind === 'catalog') out.add(encodeDirRecord({ extent: ctx.catalogSector, dataLength: ISO_SECTOR_SIZE, recordingDate: date, flags: 0, fileId }));
    else out.add(encodeDirRecord({ extent: 0, dataLength: 0, recordingDate: date, flags: 0, fileId }));
  }
  return out.finish();
}
