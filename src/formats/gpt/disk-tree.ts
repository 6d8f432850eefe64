/**
 * A partitioned disk image (GPT or MBR) opened as a Tree: one directory per partition, named
 * `p<number>-<name>` (the GPT partition name, else the type's name), holding the partition's own
 * file system as its content sniffing finds it; a partition whose content is not a format
 * reprimage reads is a regular file `p<number>-<name>` with the partition's bytes. A text file
 * `partition-table.txt` describes the table, so `diff` also reports changed GUIDs, types,
 * names and attributes.
 */
import { ReprimageError } from '../../errors.js';
import { sliceSource, type RandomAccessSource } from '../../io/source.js';
import { bytesContent, rangeContent } from '../../tree/content.js';
import { EPOCH, Tree, newDir, type Node } from '../../tree/tree.js';
import { describeAttributes } from './attributes.js';
import { readPartitionTable, type DiskPartition, type PartitionTable } from './reader.js';

export const PARTITION_TABLE_FILE = 'partition-table.txt';

/**
 * Opens every partition with `openPartition` (content sniffing); an UNSUPPORTED answer makes the
 * partition a raw file. Other errors (a corrupt file system inside a partition) propagate.
 */
export async function openDiskTree(
  source: RandomAccessSource,
  openPartition: (slice: RandomAccessSource) => Promise<{ tree: Tree; format: string }>,
  warn?: (message: string) => void,
): Promise<{ tree: Tree; format: string; table: PartitionTable }> {
  const table = await readPartitionTable(source, { warn });
  const tree = new Tree(newDir({ mode: 0o755, mtime: { ...EPOCH } }));
  const formats: string[] = [];
  for (const p of table.partitions) {
    const name = partitionEntryName(p);
    const slice = sliceSource(source, p.offset, p.size, `${source.name} ▸ ${name}`);
    let node: Node;
    try {
      const opened = await openPartition(slice);
      node = opened.tree.root;
      formats.push(`${name}: ${opened.format}`);
    } catch (e) {
      if (!(e instanceof ReprimageError && e.code === 'UNSUPPORTED')) throw e;
      node = { kind: 'file', mode: 0o644, uid: 0, gid: 0, mtime: { ...EPOCH }, xattrs: new Map(), content: rangeContent(source, p.offset, p.size, slice.name) };
      formats.push(`${name}: raw`);
    }
    tree.root.children.set(name, node);
  }
  const text = describePartitionTable(table).join('\n') + '\n';
  tree.root.children.set(PARTITION_TABLE_FILE, {
    kind: 'file', mode: 0o644, uid: 0, gid: 0, mtime: { ...EPOCH }, xattrs: new Map(), content: bytesContent(new TextEncoder().encode(text), `${source.name} ▸ partition table`),
  });
  return { tree, format: `${table.scheme} (${formats.join(', ')})`, table };
}

/** `p1-esp`, `p2-root`, `p5-mbr-0x83`: the partition number and a name without slashes. */
export function partitionEntryName(p: DiskPartition): string {
  const label = p.name || p.typeName || p.typeGuid || `mbr-0x${(p.mbrType ?? 0).toString(16).padStart(2, '0')}`;
  // eslint-disable-next-line no-control-regex
  return `p${p.number}-${label.replace(/[/\u0000-\u001f]/g, '_')}`;
}

/** The table as lines of `key: value`, one partition per line, in the spirit of `sfdisk --dump`. */
export function describePartitionTable(t: PartitionTable): string[] {
  const lines = [`label: ${t.scheme}`];
  if (t.diskGuid) lines.push(`disk-guid: ${t.diskGuid}`);
  if (t.diskSignature !== undefined) lines.push(`disk-signature: 0x${t.diskSignature.toString(16).padStart(8, '0')}`);
  if (t.header) lines.push(`first-lba: ${t.header.firstUsableLba}`, `last-lba: ${t.header.lastUsableLba}`, `entries: ${t.header.entryCount}`);
  lines.push(`sector-size: ${t.sectorSize}`);
  for (const p of t.partitions) {
    const fields = [`start=${p.firstLba}`, `size=${p.sectors}`];
    if (p.typeGuid) fields.push(`type=${p.typeName ?? p.typeGuid}`, `uuid=${p.guid}`, `name=${JSON.stringify(p.name ?? '')}`);
    else fields.push(`type=0x${(p.mbrType ?? 0).toString(16).padStart(2, '0')}`);
    if (p.attributes) fields.push(`attrs=${describeAttributes(p.attributes).join('+')}`);
    if (p.bootable) fields.push('bootable');
    lines.push(`${p.number}: ${fields.join(', ')}`);
  }
  return lines;
}
