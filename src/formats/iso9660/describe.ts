/**
 * What `reprimage ls` says about an ISO beyond its files: the El Torito boot catalog entries and
 * the MBR/GPT partitions of a hybrid image, as text lines (like `xorriso -report_el_torito` and
 * `-report_system_area`, shorter) and as JSON.
 */
import type { Tree } from '../../tree/tree.js';
import { ISO_SECTOR_SIZE } from './constants.js';
import type { IsoImage } from './reader.js';

export interface IsoBootJson {
  bootCatalog?: {
    sector: number;
    entries: Array<{ platform: string; platformId: number; bootable: boolean; emulation: string; loadSectors: number; sector: number; path?: string }>;
  };
  mbr?: { diskSignature: string; partitions: Array<{ number: number; bootable: boolean; type: string; start: number; sectors: number }> };
  gpt?: { diskGuid: string; partitions: Array<{ number: number; typeGuid: string; guid: string; firstLba: number; lastLba: number; name: string }> };
}

const EMULATION = ['none', '1.2M floppy', '1.44M floppy', '2.88M floppy', 'hard disk'];
const hex = (n: number, digits: number) => `0x${n.toString(16).padStart(digits, '0')}`;

/** Image paths by the 2048-byte sector their contents start at (files read from this image, by source name). */
function pathsBySector(image: IsoImage, tree: Tree | undefined): Map<number, string> {
  const paths = new Map<number, string>();
  if (!tree) return paths;
  for (const { path, node } of tree.walk()) {
    if (node.kind !== 'file' || node.content.range?.source.name !== image.source.name) continue;
    const sector = node.content.range.offset / ISO_SECTOR_SIZE;
    if (Number.isInteger(sector) && !paths.has(sector)) paths.set(sector, `/${path}`);
  }
  return paths;
}

export function isoBootJson(image: IsoImage, tree?: Tree): IsoBootJson {
  const paths = pathsBySector(image, tree);
  const out: IsoBootJson = {};
  if (image.bootCatalog) {
    out.bootCatalog = {
      sector: image.bootCatalog.sector,
      entries: image.bootCatalog.entries.map((e) => ({
        platform: e.platformName,
        platformId: e.platform,
        bootable: e.bootable,
        emulation: EMULATION[e.mediaType & 0x0f] ?? `type ${e.mediaType}`,
        loadSectors: e.loadSize,
        sector: e.extent,
        ...(paths.has(e.extent) ? { path: paths.get(e.extent)! } : {}),
      })),
    };
  }
  const { mbr, gpt } = image.partitions;
  if (mbr && mbr.partitions.length > 0) {
    out.mbr = {
      diskSignature: hex(mbr.diskSignature, 8),
      partitions: mbr.partitions.map((p, i) => ({ number: i + 1, bootable: p.bootable, type: hex(p.type, 2), start: p.start, sectors: p.sectors })),
    };
  }
  if (gpt) {
    out.gpt = {
      diskGuid: gpt.diskGuid,
      partitions: gpt.partitions.map((p, i) => ({ number: i + 1, typeGuid: p.typeGuid, guid: p.guid, firstLba: p.firstLba, lastLba: p.lastLba, name: p.name })),
    };
  }
  return out;
}

/** Text lines, each starting with `#` so a file listing stays greppable. Empty for a plain ISO. */
export function isoBootLines(image: IsoImage, tree?: Tree): string[] {
  const info = isoBootJson(image, tree);
  const lines: string[] = [];
  if (info.bootCatalog) {
    lines.push(`# El Torito boot catalog at sector ${info.bootCatalog.sector}`);
    info.bootCatalog.entries.forEach((e, i) => {
      const where = e.path === undefined ? `sector ${e.sector}` : `sector ${e.sector} ${e.path}`;
      lines.push(`# boot ${i + 1}: ${e.platform}${e.bootable ? ' bootable' : ' not-bootable'} emulation ${e.emulation}, load ${e.loadSectors} x 512 bytes, ${where}`);
    });
  }
  if (info.mbr) {
    lines.push(`# MBR disk signature ${info.mbr.diskSignature}`);
    for (const p of info.mbr.partitions) {
      lines.push(`# MBR partition ${p.number}: type ${p.type}${p.bootable ? ' active' : ''}, start ${p.start}, ${p.sectors} sectors`);
    }
  }
  if (info.gpt) {
    lines.push(`# GPT disk GUID ${info.gpt.diskGuid}`);
    for (const p of info.gpt.partitions) {
      lines.push(`# GPT partition ${p.number}: ${p.firstLba}-${p.lastLba}, type ${p.typeGuid}, GUID ${p.guid}${p.name ? `, name ${JSON.stringify(p.name)}` : ''}`);
    }
  }
  return lines;
}
