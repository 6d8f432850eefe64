/**
 * The layout part of writeIso: which sector each structure starts at, in the order they are
 * written (docs/formats/iso9660.md):
 *
 *   0–15 system area · 16 primary descriptor · boot record · Joliet descriptor · terminator ·
 *   boot catalog · path tables (ISO L, M, Joliet L, M) · ISO directories (each followed by the
 *   Rock Ridge continuation areas of its records) · Joliet directories · file data · padding
 *
 * Directory sizes come from pass 1 of the directory encoders, which also sizes the continuation
 * areas; file data is placed in the plan's order.
 */
import { ISO_FIRST_DESCRIPTOR_SECTOR, ISO_SECTOR_SIZE } from './constants.js';
import { pathTableSize } from './path-table.js';
import type { DirPlan, Plan } from './plan.js';
import { MBR_CYLINDER_BYTES } from './system-area.js';
import { encodeIsoDirectory, encodeJolietDirectory, pathTable, type Ctx, type TableEntry } from './writer-directories.js';

export interface IsoLayout {
  isoTable: TableEntry[];
  jolietTable: TableEntry[] | undefined;
  isoTableSize: number;
  jolietTableSize: number;
  /** First sectors of the path tables (type L, little-endian; type M, big-endian). */
  isoL: number;
  isoM: number;
  jolietL: number;
  jolietM: number;
  /** Sectors of continuation areas after each ISO directory. */
  ceSectorsOf: Map<DirPlan, number>;
  /** The sector after the last file's data. */
  dataEnd: number;
  /** Sectors of the ISO 9660 volume, padding included. */
  volumeSectors: number;
}

export interface LayoutRequest {
  joliet: boolean;
  booting: boolean;
  /** Zero bytes after the data. */
  padding: number;
  /** Pad the volume to whole MBR cylinders (isohybrid layouts). */
  cylinderAligned: boolean;
}

/** Places every structure; sets `ctx.catalogSector` and each directory's and file's extent in the plan. */
export function layOut(plan: Plan, ctx: Ctx, request: LayoutRequest): IsoLayout {
  const { joliet, booting } = request;
  let next = ISO_FIRST_DESCRIPTOR_SECTOR + 1 + (booting ? 1 : 0) + (joliet ? 1 : 0) + 1;
  if (booting) ctx.catalogSector = next++;
  const isoTable = pathTable(plan.isoDirs, (d) => d.isoId, (d) => d.isoParent, (d) => d.number, 'iso');
  const jolietTable = joliet ? pathTable(plan.jolietDirs, (d) => d.jolietId, (d) => d.parent, (d) => d.jolietNumber, 'joliet') : undefined;
  const isoTableSize = pathTableSize(isoTable);
  const tableSectors = sectorsFor(isoTableSize);
  const isoL = next;
  const isoM = isoL + tableSectors;
  next = isoM + tableSectors;
  let jolietL = 0;
  let jolietM = 0;
  const jolietTableSize = jolietTable ? pathTableSize(jolietTable) : 0;
  if (jolietTable) {
    jolietL = next;
    jolietM = jolietL + sectorsFor(jolietTableSize);
    next = jolietM + sectorsFor(jolietTableSize);
  }

  // Directory sizes; pass 1 also sizes each directory's continuation areas, which follow it.
  const ceSectorsOf = new Map<DirPlan, number>();
  for (const dir of plan.isoDirs) {
    ctx.ceAt = 0;
    dir.size = encodeIsoDirectory(dir, ctx, false).length;
    ceSectorsOf.set(dir, Math.ceil(ctx.ceAt / ISO_SECTOR_SIZE));
  }
  for (const dir of plan.isoDirs) {
    dir.extent = next;
    next += dir.size / ISO_SECTOR_SIZE + ceSectorsOf.get(dir)!;
  }
  if (joliet) {
    for (const dir of plan.jolietDirs) {
      dir.jolietSize = encodeJolietDirectory(dir, ctx, false).length;
      dir.jolietExtent = next;
      next += dir.jolietSize / ISO_SECTOR_SIZE;
    }
  }

  // File data.
  for (const data of plan.data) {
    data.extent = data.size === 0 ? 0 : next;
    next += sectorsFor(data.size);
  }
  const dataEnd = next;
  let volumeSectors = dataEnd + sectorsFor(request.padding);
  if (request.cylinderAligned) {
    const perCylinder = MBR_CYLINDER_BYTES / ISO_SECTOR_SIZE;
    volumeSectors = Math.ceil(volumeSectors / perCylinder) * perCylinder;
  }
  return { isoTable, jolietTable, isoTableSize, jolietTableSize, isoL, isoM, jolietL, jolietM, ceSectorsOf, dataEnd, volumeSectors };
}

export function sectorsFor(bytes: number): number {
  return Math.ceil(bytes / ISO_SECTOR_SIZE);
}
