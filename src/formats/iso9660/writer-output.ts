/**
 * The output part of writeIso: the image written front to back in one pass, as writer-layout.ts
 * placed it, so any Sink works (a pipe too) and file contents stream with bounded memory.
 */
import { ReprimageError } from '../../errors.js';
import type { Sink } from '../../io/sink.js';
import type { Content } from '../../tree/content.js';
import { copyToSink } from '../../tree/content.js';
import { FLAG_DIRECTORY, ISO_SECTOR_SIZE, VD_PRIMARY, VD_SUPPLEMENTARY } from './constants.js';
import { DOT_ID, encodeDirRecord } from './dir-record.js';
import { encodeBootCatalog } from './el-torito.js';
import { encodePathTable } from './path-table.js';
import type { Plan } from './plan.js';
import { encodeBootRecord, encodeTerminator, encodeVolumeDescriptor, type VolumeDescriptor } from './volume-descriptor.js';
import { clamp, encodeIsoDirectory, encodeJolietDirectory, type Ctx } from './writer-directories.js';
import type { BootImages } from './writer-el-torito.js';
import type { IsoLayout } from './writer-layout.js';
import type { SystemArea } from './writer-system-area.js';
import type { CheckedOptions } from './writer-options.js';
import type { IsoWriteOptions } from './writer.js';

const ZEROS = new Uint8Array(64 * 1024);

export interface ImageParts {
  plan: Plan;
  ctx: Ctx;
  layout: IsoLayout;
  boot: BootImages;
  systemArea: SystemArea;
}

/** Writes the image; returns the bytes written. */
export async function emitImage(sink: Sink, options: IsoWriteOptions, checked: CheckedOptions, parts: ImageParts): Promise<number> {
  const { plan, ctx, layout, boot } = parts;
  const { now, joliet, booting, appended } = checked;
  const { isoTable, jolietTable, volumeSectors } = layout;
  const out = new Writer(sink);
  await out.bytes(parts.systemArea.bytes);
  const rootRecord = (extent: number, size: number) => encodeDirRecord({ extent, dataLength: size, recordingDate: clamp(plan.root.node, now), flags: FLAG_DIRECTORY, fileId: DOT_ID });
  const descriptor = (type: typeof VD_PRIMARY | typeof VD_SUPPLEMENTARY): VolumeDescriptor => {
    const isJoliet = type === VD_SUPPLEMENTARY;
    const volumeId = isJoliet ? options.volumeId.slice(0, 16) : options.volumeId;
    return {
      type, joliet: isJoliet, systemId: options.systemId ?? '', volumeId, volumeSetId: options.volumeSetId ?? '',
      publisherId: options.publisher ?? '', dataPreparerId: options.dataPreparerId ?? '', applicationId: options.applicationId ?? '',
      copyrightFileId: '', abstractFileId: '', bibliographicFileId: '', volumeSpaceSize: volumeSectors, volumeSetSize: 1,
      volumeSequenceNumber: 1, logicalBlockSize: ISO_SECTOR_SIZE,
      pathTableSize: isJoliet ? layout.jolietTableSize : layout.isoTableSize,
      typeLPathTable: isJoliet ? layout.jolietL : layout.isoL, typeMPathTable: isJoliet ? layout.jolietM : layout.isoM,
      rootDirectoryRecord: isJoliet ? rootRecord(plan.root.jolietExtent, plan.root.jolietSize) : rootRecord(plan.root.extent, plan.root.size),
      creationDate: now, modificationDate: now, expirationDate: undefined, effectiveDate: undefined,
    };
  };
  await out.bytes(encodeVolumeDescriptor(descriptor(VD_PRIMARY)));
  if (booting) await out.bytes(encodeBootRecord(ctx.catalogSector));
  if (joliet) await out.bytes(encodeVolumeDescriptor(descriptor(VD_SUPPLEMENTARY)));
  await out.bytes(encodeTerminator());
  if (booting) await out.bytes(encodeBootCatalog(boot.entries));
  for (const [table, kind] of [[isoTable, 'L'], [isoTable, 'M'], [jolietTable, 'L'], [jolietTable, 'M']] as const) {
    if (!table) continue;
    for (const e of table) e.extent = table === isoTable ? e.dir.extent : e.dir.jolietExtent;
    await out.padded(encodePathTable(table, kind));
  }
  for (const dir of plan.isoDirs) {
    ctx.ceAt = 0;
    ctx.ceBase = dir.extent + dir.size / ISO_SECTOR_SIZE;
    ctx.ceBytes = new Uint8Array(layout.ceSectorsOf.get(dir)! * ISO_SECTOR_SIZE);
    await out.bytes(encodeIsoDirectory(dir, ctx, true));
    await out.bytes(ctx.ceBytes);
  }
  if (joliet) for (const dir of plan.jolietDirs) await out.bytes(encodeJolietDirectory(dir, ctx));
  for (const data of plan.data) {
    if (data.replacement) await out.padded(data.replacement);
    else await out.content(data.content, data.path);
  }
  if (out.position !== layout.dataEnd * ISO_SECTOR_SIZE) throw new Error(`iso writer: data ended at ${out.position}, planned ${layout.dataEnd * ISO_SECTOR_SIZE}`);
  await out.zeros(volumeSectors * ISO_SECTOR_SIZE - out.position);
  if (appended) await out.content(appended, 'efi.appendedImage');
  if (parts.systemArea.gptBackup) await out.bytes(parts.systemArea.gptBackup);
  await sink.flush();
  return out.position;
}

/** Sequential output with sector padding and streamed contents. */
class Writer {
  #written = 0;
  constructor(private readonly sink: Sink) {}

  /** Bytes written by this writer (the image may start anywhere in the sink). */
  get position(): number {
    return this.#written;
  }

  async bytes(b: Uint8Array): Promise<void> {
    if (b.length > 0) await this.sink.write(b);
    this.#written += b.length;
  }

  async zeros(n: number): Promise<void> {
    while (n > 0) {
      const k = Math.min(n, ZEROS.length);
      await this.bytes(ZEROS.subarray(0, k));
      n -= k;
    }
  }

  async padded(b: Uint8Array): Promise<void> {
    await this.bytes(b);
    await this.zeros((ISO_SECTOR_SIZE - (b.length % ISO_SECTOR_SIZE)) % ISO_SECTOR_SIZE);
  }

  async content(content: Content, path: string): Promise<void> {
    if (await copyToSink(content, this.sink)) {
      // straight from the file into the sink's buffer
      this.#written += content.size;
      await this.zeros((ISO_SECTOR_SIZE - (content.size % ISO_SECTOR_SIZE)) % ISO_SECTOR_SIZE);
      return;
    }
    let seen = 0;
    for await (const chunk of content.chunks()) {
      seen += chunk.length;
      if (seen > content.size) break;
      await this.bytes(chunk);
    }
    if (seen !== content.size) {
      throw new ReprimageError('IO', path, `${content.origin} gave ${seen} bytes where ${content.size} were declared`);
    }
    await this.zeros((ISO_SECTOR_SIZE - (seen % ISO_SECTOR_SIZE)) % ISO_SECTOR_SIZE);
  }
}
