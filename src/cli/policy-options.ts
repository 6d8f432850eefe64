/**
 * The options that shape a Tree before it is written (docs/design.md rules 1–4): file lists, the
 * metadata policy and SOURCE_DATE_EPOCH. Shared by every command that writes an image.
 */
import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve, isAbsolute, sep } from 'node:path';
import type { Command } from 'commander';
import { ReprimageError, fromSystemError } from '../errors.js';
import type { Tree } from '../tree/tree.js';
import { applyFileList, parseFileList } from '../tree/file-list.js';
import { readPatternFile } from '../tree/excludes.js';
import { applyPolicy, resolveSourceDateEpoch, type MetadataPolicy } from '../tree/policy.js';
import { nameFromBytes } from '../tree/names.js';
import type { Reporter } from './reporter.js';

export interface PolicyOptionValues {
  sourceDateEpoch?: string;
  exclude: string[];
  excludeFrom: string[];
  empty: string[];
  emptyFrom: string[];
  fileList: string[];
  owner: string;
  permissions: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function addPolicyOptions(cmd: Command): Command {
  return cmd
    .option('--source-date-epoch <seconds>', 'the build time: mtimes are clamped to it (default: $SOURCE_DATE_EPOCH)')
    .option('--file-list <file>', 'add or override entries with a file list (see docs/file-list.md); repeatable', collect, [])
    .option('--exclude <glob>', 'leave out entries matching the pattern; repeatable', collect, [])
    .option('--exclude-from <file>', 'leave out entries matching the patterns in FILE, one per line', collect, [])
    .option('--empty <glob>', 'keep matching files but make them empty; repeatable', collect, [])
    .option('--empty-from <file>', 'make the files matching the patterns in FILE empty', collect, [])
    .option('--owner <keep|root>', 'keep numeric owners, or make everything root:root', 'keep')
    .option('--permissions <keep|normalize>', 'keep modes, or normalize them (docs/metadata-policy.md)', 'keep');
}

/**
 * Applies the metadata policy, then the file lists, to a freshly opened Tree.
 * Returns the SOURCE_DATE_EPOCH in force, for the writers that record a creation time.
 */
export async function shapeTree(tree: Tree, values: PolicyOptionValues, reporter: Reporter): Promise<number> {
  const owner = oneOf(values.owner, ['keep', 'root'] as const, '--owner');
  const permissions = oneOf(values.permissions, ['keep', 'normalize'] as const, '--permissions');
  const excludes = [...values.exclude];
  for (const file of values.excludeFrom) excludes.push(...(await readPatternFile(file)));
  const emptyFiles = [...values.empty];
  for (const file of values.emptyFrom) emptyFiles.push(...(await readPatternFile(file)));
  const lists = [];
  for (const listFile of values.fileList) lists.push({ listFile, entries: parseFileList(await readText(listFile), listFile) });
  const sourceDateEpoch = resolveSourceDateEpoch({
    option: values.sourceDateEpoch,
    env: process.env.SOURCE_DATE_EPOCH,
    tree,
    warn: (m) => reporter.warn(m),
  });
  const policy: MetadataPolicy = { buildTime: sourceDateEpoch, clampMtime: true, owner, permissions, excludes, emptyFiles };
  applyPolicy(tree, policy);
  // file lists come after the policy so that the modes and owners they give are kept as given;
  // their times are clamped like every other
  for (const { listFile, entries } of lists) await applyFileList(tree, entries, { baseDir: dirname(resolve(listFile)), env: process.env });
  if (lists.length > 0) applyPolicy(tree, { ...policy, owner: 'keep', permissions: 'keep', excludes: [], emptyFiles: [] });
  return sourceDateEpoch;
}

/**
 * The Tree path at which `output` would appear inside the directory `source`, if it does: an
 * archive must not contain itself (GNU tar says "file is the archive; not dumped").
 */
export function pathInsideSource(source: string, output: string): string | undefined {
  const rel = relative(resolve(source), resolve(output));
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}

function oneOf<T extends string>(value: string, allowed: readonly T[], option: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ReprimageError('USAGE', option, `expected ${allowed.join(' or ')}, got '${value}'`);
}

async function readText(path: string): Promise<string> {
  try {
    return nameFromBytes(await readFile(path)); // a file list may name bytes that are not UTF-8
  } catch (e) {
    throw fromSystemError(e, path);
  }
}
