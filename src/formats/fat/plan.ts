/**
 * The writer's plan: which entries go into which directory under which short name, how many
 * directory slots each directory needs, and (once the geometry is known) which clusters each
 * file and directory gets. Everything here depends only on the Tree and the options.
 */
import { ReprimageError } from '../../errors.js';
import type { DirNode, FileNode, Tree } from '../../tree/tree.js';
import { baseName, displayName, parentOf } from '../../tree/names.js';
import { MAX_DIR_ENTRIES, MAX_FILE_SIZE, FIRST_CLUSTER } from './constants.js';
import { longNameEntryCount } from './dir-entry.js';
import type { ClusterRun } from './fat-table.js';
import { chooseShortNames, foldName, longNameProblem, type ShortNameChoice } from './names.js';

/** A file in the plan, with the clusters it was given (first 0 when empty). */
export interface FilePlan {
  kind: 'file';
  path: string;
  node: FileNode;
  first: number;
  clusters: number;
}

/** A directory in the plan: its children in stored order and the clusters it was given. */
export interface DirPlan {
  kind: 'dir';
  path: string;
  node: DirNode;
  parent: DirPlan | undefined;
  children: ChildPlan[];
  /** 32-byte slots the directory needs: ".", "..", the label, long-name and short entries. */
  slots: number;
  first: number;
  clusters: number;
}

/** One entry of a directory: its long name, its short name and what it points at. */
export interface ChildPlan {
  name: string;
  choice: ShortNameChoice;
  target: DirPlan | FilePlan;
}

/** The whole plan of a volume, made by `planTree`. */
export interface TreePlan {
  root: DirPlan;
  /** Files and directories in `tree.walk()` order: the order clusters are given out. */
  order: Array<DirPlan | FilePlan>;
  warnings: string[];
  files: number;
  directories: number;
}

/**
 * Collects what the tree holds into a plan. Entries FAT cannot hold (symlinks, devices, fifos,
 * sockets, names FAT cannot store, files of 4 GiB or more) are an UNSUPPORTED error naming the
 * entry, or are left out with a warning when `skipUnsupported`. Two names in one directory that
 * differ only in case are a CONFLICT: FAT looks names up without regard to case.
 */
export function planTree(tree: Tree, hasLabel: boolean, skipUnsupported: boolean): TreePlan {
  const warnings: string[] = [];
  const root: DirPlan = { kind: 'dir', path: '', node: tree.root, parent: undefined, children: [], slots: 0, first: 0, clusters: 0 };
  const dirs = new Map<string, DirPlan>([['', root]]);
  const order: Array<DirPlan | FilePlan> = [root];
  let files = 0;
  let directories = 1;
  const refuse = (path: string, why: string): void => {
    if (!skipUnsupported) throw new ReprimageError('UNSUPPORTED', displayName(path), `${why}; FAT cannot store it (skipUnsupported leaves such entries out)`);
    warnings.push(`${displayName(path)}: left out: ${why}`);
  };
  for (const { path, node } of tree.walk()) {
    if (path === '') continue;
    const parent = dirs.get(parentOf(path));
    if (!parent) continue; // inside a directory that was left out
    const name = baseName(path);
    const problem = longNameProblem(name);
    if (problem) {
      refuse(path, `the name ${problem}`);
      continue;
    }
    if (node.kind === 'dir') {
      const plan: DirPlan = { kind: 'dir', path, node, parent, children: [], slots: 2, first: 0, clusters: 0 };
      dirs.set(path, plan);
      parent.children.push({ name, choice: undefined as unknown as ShortNameChoice, target: plan });
      order.push(plan);
      directories++;
    } else if (node.kind === 'file') {
      if (node.content.size > MAX_FILE_SIZE) {
        refuse(path, `the file has ${node.content.size} bytes, more than FAT's limit of 4 GiB − 1`);
        continue;
      }
      const plan: FilePlan = { kind: 'file', path, node, first: 0, clusters: 0 };
      parent.children.push({ name, choice: undefined as unknown as ShortNameChoice, target: plan });
      order.push(plan);
      files++;
    } else {
      refuse(path, `it is a ${node.kind}`);
    }
  }
  for (const dir of dirs.values()) {
    const byFold = new Map<string, string>();
    for (const child of dir.children) {
      const key = foldName(child.name);
      const other = byFold.get(key);
      if (other !== undefined) {
        throw new ReprimageError('CONFLICT', dir.path === '' ? '/' : dir.path, `the names ${JSON.stringify(other)} and ${JSON.stringify(child.name)} differ only in case; FAT cannot hold both`);
      }
      byFold.set(key, child.name);
    }
    const choices = chooseShortNames(dir.children.map((c) => c.name));
    dir.slots = dir === root ? (hasLabel ? 1 : 0) : 2;
    dir.children.forEach((child, i) => {
      child.choice = choices[i]!;
      dir.slots += 1 + (child.choice.needsLongName ? longNameEntryCount(child.name) : 0);
    });
    if (dir.slots > MAX_DIR_ENTRIES) {
      throw new ReprimageError('UNSUPPORTED', dir.path === '' ? '/' : dir.path, `the directory needs ${dir.slots} entries; FAT allows at most ${MAX_DIR_ENTRIES}`);
    }
  }
  return { root, order, warnings, files, directories };
}

/** Clusters each object needs at this cluster size; the root counts only on FAT32. */
export function clustersNeeded(obj: DirPlan | FilePlan, clusterBytes: number, rootInClusters: boolean): number {
  if (obj.kind === 'file') return Math.ceil(obj.node.content.size / clusterBytes);
  if (obj.parent === undefined && !rootInClusters) return 0;
  return Math.max(1, Math.ceil((obj.slots * 32) / clusterBytes));
}

/** Clusters the whole plan needs at this cluster size. */
export function totalClustersNeeded(plan: TreePlan, clusterBytes: number, rootInClusters: boolean): number {
  let n = 0;
  for (const obj of plan.order) n += clustersNeeded(obj, clusterBytes, rootInClusters);
  return n;
}

/**
 * Gives out clusters from 2 upwards, contiguously, in plan order (`tree.walk()` order). Returns
 * the runs, in ascending cluster order.
 */
export function allocate(plan: TreePlan, clusterBytes: number, rootInClusters: boolean): ClusterRun[] {
  const runs: ClusterRun[] = [];
  let next = FIRST_CLUSTER;
  for (const obj of plan.order) {
    obj.clusters = clustersNeeded(obj, clusterBytes, rootInClusters);
    obj.first = obj.clusters > 0 ? next : 0;
    if (obj.clusters > 0) runs.push({ first: next, count: obj.clusters });
    next += obj.clusters;
  }
  return runs;
}
