/**
 * `reprimage disk --partition SPEC … -o DISK`: a partitioned disk image (GPT or MBR) whose
 * partitions are file systems written from directories or archives, files copied in, or empty.
 *
 * SPEC is TYPE[:FIELD]…[=SOURCE]. TYPE is a Discoverable Partitions Specification name (esp,
 * root-x86-64, swap, …), a GUID, or for --table mbr also 0xNN. A FIELD is a content format
 * (fat, ext4, squashfs, raw) or KEY=VALUE with KEY one of size, name, uuid, attrs (names joined
 * by +), label, bootable. SOURCE is a directory, an archive, or (raw) a file; without it the
 * partition is empty. Examples: `esp=boot/`, `root-x86-64:ext4:name=root=rootfs.tar`,
 * `swap:size=64M`.
 */
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { ReprimageError, fromSystemError } from '../errors.js';
import { writeAtomically } from '../io/atomic-output.js';
import type { OpenedTree } from '../image/open-tree.js';
import type { DiskPartitionSpec, PartitionContent } from '../image/disk.js';
import { addPolicyOptions, shapeTree, type PolicyOptionValues } from './policy-options.js';
import type { Progress, Reporter } from './reporter.js';
import type { ProgressCount } from '../progress.js';
import { interruption } from './process-end.js';

interface DiskOptionValues extends PolicyOptionValues {
  output: string;
  partition: string[];
  table: string;
  seed?: string;
  diskGuid?: string;
  diskSignature?: string;
  size?: string;
  align: string;
  workers?: string;
  xattrs: boolean;
  json?: boolean;
  format?: string;
  compress?: boolean;
  verbose?: boolean;
}

const FORMATS = ['fat', 'ext4', 'squashfs', 'raw'] as const;
type FieldFormat = (typeof FORMATS)[number];
const KEYS = ['size', 'name', 'uuid', 'attrs', 'label', 'bootable'] as const;
type Key = (typeof KEYS)[number];

/** A parsed --partition value. */
export interface PartitionArgument {
  type: string;
  format?: FieldFormat;
  fields: Partial<Record<Key, string>>;
  source?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function diskCommand(reporter: Reporter): Command {
  const cmd = new Command('disk')
    .description('write a partitioned disk image (GPT or MBR) from directories, archives and files')
    .requiredOption('-o, --output <file>', 'the disk image to write')
    .option('-p, --partition <spec>', 'TYPE[:FORMAT][:KEY=VALUE]…[=SOURCE], in disk order; repeatable (see docs/formats/gpt.md)', collect, [])
    .option('--table <gpt|mbr>', 'the partition table', 'gpt')
    .option('--seed <text>', 'seed of the disk GUID, partition UUIDs and file-system identifiers (default: reprimage:SOURCE_DATE_EPOCH)')
    .option('--disk-guid <guid>', 'GPT disk GUID (default: derived from the seed)')
    .option('--disk-signature <n>', 'MBR disk signature, e.g. 0x1234abcd (default: derived from the seed)')
    .option('--size <bytes>', 'whole disk size, e.g. 2G (default: the partitions plus the backup GPT)')
    .option('--align <bytes>', 'partition alignment', '1M')
    .option('--workers <n>', 'parallel workers (never changes the output bytes)')
    .option('--no-xattrs', 'do not read extended attributes from source directories')
    .option('--format <format>', 'raw, qcow2, vhd (fixed, as Azure takes it), vhd-dynamic, vmdk (streamOptimized), ova or gce (default: from the output name: .img .qcow2 .vhd .vmdk .ova .tar.gz; else raw)')
    .option('--compress', 'qcow2: deflate the clusters (as qemu-img convert -c)')
    .option('--json', 'print what was written as JSON');
  addPolicyOptions(cmd);
  return cmd.action(async (values: DiskOptionValues) => {
    if (values.partition.length === 0) throw new ReprimageError('USAGE', '--partition', 'give at least one partition');
    const { diskFormatFromName, parseDiskFormat } = await import('../image/convert-disk.js');
    const format = values.format !== undefined ? parseDiskFormat(values.format) : (diskFormatFromName(values.output) ?? 'raw');
    if (values.compress && format !== 'qcow2') throw new ReprimageError('USAGE', '--compress', `only qcow2 clusters are compressed, not ${format}`);
    const table = values.table === 'gpt' || values.table === 'mbr' ? values.table : undefined;
    if (!table) throw new ReprimageError('USAGE', '--table', `expected gpt or mbr, got '${values.table}'`);
    const args = values.partition.map((p) => parsePartitionArgument(p));
    const warn = (m: string) => reporter.warn(m);
    const opened: OpenedTree[] = [];
    try {
      const specs: DiskPartitionSpec[] = [];
      let epoch: number | undefined;
      for (const a of args) {
        const { content, input } = await openContent(a, values, warn);
        if (input) {
          opened.push(input);
          const e = await shapeTree(input.tree, values, reporter);
          epoch = Math.max(epoch ?? e, e);
        }
        specs.push({
          type: a.type,
          name: a.fields.name,
          uuid: a.fields.uuid,
          attributes: a.fields.attrs === undefined ? undefined : a.fields.attrs.split('+'),
          bootable: a.fields.bootable === undefined ? undefined : parseBool(a.fields.bootable),
          size: a.fields.size === undefined ? undefined : parseBytes(a.fields.size, `--partition ${a.type} size`),
          content,
        });
      }
      if (epoch === undefined) {
        const { resolveSourceDateEpoch } = await import('../tree/policy.js');
        epoch = resolveSourceDateEpoch({ option: values.sourceDateEpoch, env: process.env.SOURCE_DATE_EPOCH, warn });
      }
      const sourceDateEpoch = epoch;
      // loaded here, not at start-up, like every command's implementation
      const { writeDisk } = await import('../image/disk.js');
      const seed = values.seed ?? `reprimage:${sourceDateEpoch}`;
      const bar = reporter.progress('disk');
      if (reporter.animates) await countPartitionReads(opened, bar);
      const write = (target: string, subject: string) =>
        writeAtomically(target, (sink) =>
          writeDisk(sink, {
            table,
            partitions: specs,
            seed,
            buildTime: sourceDateEpoch,
            signal: interruption(),
            diskGuid: values.diskGuid,
            diskSignature: values.diskSignature === undefined ? undefined : parseU32(values.diskSignature, '--disk-signature'),
            size: values.size === undefined ? undefined : parseBytes(values.size, '--size'),
            alignment: parseBytes(values.align, '--align'),
            workers: values.workers === undefined ? undefined : parseWhole(values.workers, '--workers', 1, 256),
            warn,
            subject,
          }),
        { subject });
      let report: Awaited<ReturnType<typeof writeDisk>> | undefined;
      let converted: Record<string, unknown> | undefined;
      try {
        if (format === 'raw') {
          report = await write(values.output, values.output);
        } else {
          // the raw disk goes to a sparse scratch file beside the output, then into the format
          const { makeTemporaryDirectory } = await import('../io/temporaries.js');
          const { convertDisk } = await import('../image/convert-disk.js');
          const scratch = await makeTemporaryDirectory('.reprimage-disk-', dirname(values.output));
          try {
            const raw = join(scratch.path, 'disk.raw');
            report = await write(raw, values.output);
            const workers = values.workers === undefined ? undefined : parseWhole(values.workers, '--workers', 1, 256);
            const c = await convertDisk(raw, format, { output: values.output, seed, buildTime: sourceDateEpoch, compress: values.compress, workers });
            converted = { format, ...c.details };
          } finally {
            await scratch.remove();
          }
        }
      } finally {
        bar.end(report !== undefined);
      }
      if (!values.json) reporter.detail(`reprimage: ${values.output}: ${report.size} bytes, ${report.table}, ${specs.length} partition${specs.length === 1 ? '' : 's'}${converted ? ` (${format})` : ''}`);
      if (values.json) process.stdout.write(`${JSON.stringify({ output: values.output, ...report, image: converted, diskSignature: report.diskSignature === undefined ? undefined : `0x${report.diskSignature.toString(16).padStart(8, '0')}` })}\n`);
    } finally {
      for (const input of opened) await input.close();
    }
  });
}

/** One bar over the contents of every partition's tree. */
async function countPartitionReads(opened: readonly OpenedTree[], bar: Progress): Promise<void> {
  const { countReads } = await import('../tree/read-progress.js');
  const done = opened.map(() => ({ entries: 0, bytes: 0 }));
  const totals = opened.map(() => ({ entries: 0, bytes: 0 }));
  const sum = (counts: ProgressCount[]) => counts.reduce((a, c) => ({ entries: a.entries + c.entries, bytes: a.bytes + c.bytes }), { entries: 0, bytes: 0 });
  opened.forEach((input, i) => {
    totals[i] = countReads(input.tree, (d) => {
      done[i] = { ...d };
      bar.update(sum(done), sum(totals));
    });
  });
}

/** Parses TYPE[:FIELD]…[=SOURCE] as described at the top of this file. */
export function parsePartitionArgument(text: string): PartitionArgument {
  const bad = (detail: string) => new ReprimageError('USAGE', `--partition ${text}`, detail);
  const m = /^[^:=]+/.exec(text);
  if (!m) throw bad('starts with a partition type (esp, root-x86-64, swap, a GUID, …)');
  const out: PartitionArgument = { type: m[0], fields: {} };
  let at = m[0].length;
  while (at < text.length) {
    if (text[at] === '=') {
      out.source = text.slice(at + 1);
      if (out.source === '') throw bad('nothing after "="');
      break;
    }
    // text[at] === ':'
    const field = /^[^:=]*/.exec(text.slice(at + 1))![0];
    at += 1 + field.length;
    if ((KEYS as readonly string[]).includes(field) && text[at] === '=') {
      const value = /^[^:=]*/.exec(text.slice(at + 1))![0];
      out.fields[field as Key] = value;
      at += 1 + value.length;
    } else if ((FORMATS as readonly string[]).includes(field)) {
      if (out.format !== undefined) throw bad(`two formats, ${out.format} and ${field}`);
      out.format = field as FieldFormat;
    } else {
      throw bad(`unknown field "${field}": use a format (${FORMATS.join(', ')}) or ${KEYS.map((k) => `${k}=…`).join(', ')}`);
    }
  }
  return out;
}

async function openContent(a: PartitionArgument, values: DiskOptionValues, warn: (m: string) => void): Promise<{ content: PartitionContent; input?: OpenedTree }> {
  if (a.source === undefined) {
    if (a.format !== undefined) throw new ReprimageError('USAGE', `--partition ${a.type}`, `a ${a.format} partition needs a source (=DIR or =ARCHIVE)`);
    return { content: { kind: 'empty' } };
  }
  let info;
  try {
    info = await stat(a.source);
  } catch (e) {
    throw fromSystemError(e, a.source);
  }
  const format = a.format ?? (info.isDirectory() ? (/^(esp|xbootldr)$/i.test(a.type) || /^0xef$/i.test(a.type) ? 'fat' : 'ext4') : 'raw');
  if (format === 'raw') {
    if (!info.isFile()) throw new ReprimageError('USAGE', a.source, 'raw content must be a file');
    return { content: { kind: 'file', path: a.source } };
  }
  const { openTree } = await import('../image/open-tree.js');
  const input = await openTree(a.source, { warn, xattrs: values.xattrs, signal: interruption() });
  const tree = input.tree;
  const label = a.fields.label;
  const content: PartitionContent =
    format === 'fat' ? { kind: 'fat', tree, label } : format === 'ext4' ? { kind: 'ext4', tree, label } : { kind: 'squashfs', tree };
  if (label !== undefined && format === 'squashfs') throw new ReprimageError('USAGE', `--partition ${a.type}`, 'SquashFS has no label');
  return { content, input };
}

/** `4096`, `64K`, `64M`, `2G`, `1T` (powers of 1024). */
export function parseBytes(value: string, option: string): number {
  const m = /^(\d+)([KMGT]?)(i?B)?$/i.exec(value);
  const unit = m ? ({ '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 } as Record<string, number>)[m[2]!.toUpperCase()]! : NaN;
  const n = m ? Number(m[1]) * unit : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw new ReprimageError('USAGE', option, `expected a size such as 4096, 64M or 2G, got '${value}'`);
  return n;
}

function parseU32(value: string, option: string): number {
  const n = /^0x[0-9a-f]{1,8}$/i.test(value) ? parseInt(value.slice(2), 16) : /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= 0 && n <= 0xffffffff)) throw new ReprimageError('USAGE', option, `expected a 32-bit number (e.g. 0x1234abcd), got '${value}'`);
  return n;
}

function parseWhole(value: string, option: string, min: number, max: number): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw new ReprimageError('USAGE', option, `expected a whole number from ${min} to ${max}, got '${value}'`);
  return n;
}

function parseBool(value: string): boolean {
  if (/^(1|yes|true|on)$/i.test(value)) return true;
  if (/^(0|no|false|off)$/i.test(value)) return false;
  throw new ReprimageError('USAGE', 'bootable', `expected yes or no, got '${value}'`);
}
