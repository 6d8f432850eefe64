/**
 * The kit's `control.yml`: what to do besides extracting `system.tar`. A small YAML subset that
 * any YAML reader accepts, written in one fixed key order with every path single-quoted:
 *
 *   format: 1
 *   layout: iso
 *   whiteouts: overlay
 *   root_squashfs: 'live/filesystem.squashfs'
 *   squashfs_delta: 'live/upgrade.squashfs'
 *   modules_file: 'live/filesystem.module'
 *   system_tar_sha256: 3b0c…
 *   delete_files:
 *     - 'isolinux/old.cfg'
 *
 * The reader accepts exactly what the writer writes (and comments), nothing else.
 */
import { ReprimageError } from '../errors.js';
import { toTreePath } from '../tree/names.js';
import { WHITEOUT_STYLES, type WhiteoutStyle } from './whiteouts.js';

export const IUK_FORMAT_VERSION = 1;

export interface KitControl {
  format: number;
  layout: 'iso' | 'rootfs';
  whiteouts: WhiteoutStyle;
  /** The old build's root SquashFS on the medium (iso layout). */
  rootSquashfs: string;
  /** The delta's path inside system.tar. */
  squashfsDelta: string;
  /** live-boot's list of images to stack, rewritten to name the delta last (iso layout). */
  modulesFile: string;
  /** SHA-256 of system.tar (lower-case hex): a damaged kit is refused before anything is applied. */
  systemTarSha256: string;
  /** Paths on the medium to delete, each with everything under it, before system.tar is extracted. */
  deleteFiles: string[];
}

function quote(value: string, subject: string): string {
  if (/[\n\r\0]/.test(value)) throw new ReprimageError('UNSUPPORTED', subject, 'a path holding a line break cannot be listed in control.yml');
  return `'${value.replaceAll("'", "''")}'`;
}

export function encodeControl(c: KitControl): string {
  const lines = [
    '# reprimage incremental upgrade kit: see docs/iuk.md',
    `format: ${c.format}`,
    `layout: ${c.layout}`,
    `whiteouts: ${c.whiteouts}`,
    `root_squashfs: ${quote(c.rootSquashfs, 'root_squashfs')}`,
    `squashfs_delta: ${quote(c.squashfsDelta, 'squashfs_delta')}`,
    `modules_file: ${quote(c.modulesFile, 'modules_file')}`,
    `system_tar_sha256: ${c.systemTarSha256}`,
  ];
  if (c.deleteFiles.length === 0) lines.push('delete_files: []');
  else lines.push('delete_files:', ...c.deleteFiles.map((p) => `  - ${quote(p, p)}`));
  return `${lines.join('\n')}\n`;
}

function unquote(raw: string, subject: string): string {
  const m = /^'((?:[^']|'')*)'$/.exec(raw);
  if (!m) throw new ReprimageError('CORRUPT_IMAGE', subject, `expected a single-quoted string, got ${JSON.stringify(raw)}`);
  return m[1]!.replaceAll("''", "'");
}

/** A path inside the medium: no `..`, not absolute, not the root (unless it may be left empty). */
function treePath(raw: string, subject: string, emptyAllowed = false): string {
  const path = toTreePath(raw, subject);
  if (path === '' && !(emptyAllowed && raw === '')) throw new ReprimageError('CORRUPT_IMAGE', subject, `${JSON.stringify(raw)} names the root of the medium`);
  return path;
}

export function parseControl(text: string, subject: string): KitControl {
  const values = new Map<string, string>();
  const deleteFiles: string[] = [];
  let inList = false;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const where = `${subject} line ${i + 1}`;
    if (line === '' || line.startsWith('#')) continue;
    const item = /^ {2}- (.*)$/.exec(line);
    if (item) {
      if (!inList) throw new ReprimageError('CORRUPT_IMAGE', where, 'a list item outside delete_files');
      deleteFiles.push(treePath(unquote(item[1]!, where), where));
      continue;
    }
    const kv = /^([a-z0-9_]+):(?: (.*))?$/.exec(line);
    if (!kv) throw new ReprimageError('CORRUPT_IMAGE', where, `not a line of a kit's control file: ${JSON.stringify(line.slice(0, 80))}`);
    if (values.has(kv[1]!)) throw new ReprimageError('CORRUPT_IMAGE', where, `${kv[1]} given twice`);
    values.set(kv[1]!, kv[2] ?? '');
    inList = kv[1] === 'delete_files' && kv[2] === undefined;
    if (kv[1] === 'delete_files' && kv[2] !== undefined && kv[2] !== '[]') throw new ReprimageError('CORRUPT_IMAGE', where, 'delete_files must be a list');
  }
  const need = (key: string): string => {
    const v = values.get(key);
    if (v === undefined) throw new ReprimageError('CORRUPT_IMAGE', subject, `no ${key}`);
    return v;
  };
  const format = need('format');
  if (format !== String(IUK_FORMAT_VERSION)) throw new ReprimageError('UNSUPPORTED', subject, `kit format ${JSON.stringify(format)}; this reprimage reads format ${IUK_FORMAT_VERSION}`);
  const layout = need('layout');
  if (layout !== 'iso' && layout !== 'rootfs') throw new ReprimageError('CORRUPT_IMAGE', subject, `layout must be iso or rootfs, got ${JSON.stringify(layout)}`);
  const whiteouts = need('whiteouts');
  if (!(WHITEOUT_STYLES as readonly string[]).includes(whiteouts)) throw new ReprimageError('CORRUPT_IMAGE', subject, `whiteouts must be overlay or aufs, got ${JSON.stringify(whiteouts)}`);
  need('delete_files');
  const systemTarSha256 = need('system_tar_sha256');
  if (!/^[0-9a-f]{64}$/.test(systemTarSha256)) throw new ReprimageError('CORRUPT_IMAGE', subject, `system_tar_sha256 must be 64 lower-case hex digits, got ${JSON.stringify(systemTarSha256.slice(0, 80))}`);
  return {
    format: IUK_FORMAT_VERSION,
    layout,
    whiteouts: whiteouts as WhiteoutStyle,
    rootSquashfs: treePath(unquote(need('root_squashfs'), subject), subject, true),
    squashfsDelta: treePath(unquote(need('squashfs_delta'), subject), subject),
    modulesFile: treePath(unquote(need('modules_file'), subject), subject, true),
    systemTarSha256,
    deleteFiles,
  };
}
