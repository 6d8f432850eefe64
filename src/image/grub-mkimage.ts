/**
 * Makes GRUB's i386-pc core.img with the root tree's own grub-mkimage (package grub-common)
 * and modules (grub-pc-bin), so the boot loader's bytes come from the locked packages and not
 * from the build host. The tree's binary runs under the tree's own dynamic loader and
 * libraries, copied into a scratch directory: no chroot, no host GRUB. grub-mkimage's output
 * depends only on its arguments and those files (its LZMA encoder is built in).
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ReprimageError } from '../errors.js';
import { readContent } from '../tree/content.js';
import type { Tree, Node } from '../tree/tree.js';

/** Where Debian puts them, inside the root tree. */
export const GRUB_PC_FILES = {
  mkimage: 'usr/bin/grub-mkimage',
  modules: 'usr/lib/grub/i386-pc',
  loader: 'ld-linux-x86-64.so.2',
} as const;

/** Library directories of an amd64 tree, with and without the merged /usr. */
const LIBRARY_DIRS = ['usr/lib/x86_64-linux-gnu', 'lib/x86_64-linux-gnu'];

/**
 * The modules core.img carries, so that GRUB needs nothing from /boot/grub/i386-pc: disk and
 * partition access, the file systems it reads kernels from, the commands grub.cfg uses.
 * grub-mkimage adds their dependencies (moddep.lst).
 */
export const CORE_MODULES = [
  'biosdisk', 'part_gpt', 'part_msdos', 'ext2', 'fat', 'search', 'search_fs_uuid', 'search_fs_file', 'search_label',
  'normal', 'configfile', 'linux', 'echo', 'test', 'serial', 'terminal', 'boot', 'gzio', 'sleep', 'halt', 'reboot',
] as const;

export interface CoreImageOptions {
  /** The embedded configuration (grub-mkimage -c). */
  config: string;
  /** GRUB's $prefix (-p), e.g. `/boot/grub`. */
  prefix: string;
  modules?: readonly string[];
  /** A scratch directory this function may fill. */
  workDir: string;
}

function lookup(tree: Tree, path: string, what: string): Node {
  const node = tree.get(path);
  if (!node) throw new ReprimageError('NOT_FOUND', `/${path}`, `${what} is missing from the root tree (add its package to the recipe)`);
  return node;
}

async function writeNode(node: Node, target: string, mode?: number): Promise<void> {
  if (node.kind === 'symlink') await symlink(node.target, target);
  else if (node.kind === 'file') {
    await writeFile(target, await readContent(node.content));
    await chmod(target, mode ?? (node.mode & 0o755));
  }
}

/** Runs the tree's grub-mkimage -O i386-pc; returns core.img. */
export async function makeGrubCoreImage(tree: Tree, o: CoreImageOptions): Promise<Uint8Array> {
  const moduleDir = lookup(tree, GRUB_PC_FILES.modules, 'GRUB i386-pc modules (package grub-pc-bin)');
  const mkimage = lookup(tree, GRUB_PC_FILES.mkimage, 'grub-mkimage (package grub-common)');
  const libDir = LIBRARY_DIRS.map((p) => tree.get(p)).find((n) => n?.kind === 'dir');
  if (moduleDir.kind !== 'dir' || mkimage.kind !== 'file' || libDir?.kind !== 'dir') {
    throw new ReprimageError('NOT_FOUND', `/${GRUB_PC_FILES.mkimage}`, 'grub-mkimage, its libraries or the i386-pc modules are not regular files and directories in the root tree');
  }
  if (libDir.children.get(GRUB_PC_FILES.loader) === undefined) {
    throw new ReprimageError('NOT_FOUND', `/${LIBRARY_DIRS[0]}/${GRUB_PC_FILES.loader}`, 'the dynamic loader is missing from the root tree (an amd64 tree is needed to make core.img)');
  }

  const mods = join(o.workDir, 'i386-pc');
  const libs = join(o.workDir, 'lib');
  await mkdir(mods, { recursive: true });
  await mkdir(libs, { recursive: true });
  for (const [name, node] of moduleDir.children) await writeNode(node, join(mods, name));
  // shared objects only (files and their soname links); subdirectories are not needed
  for (const [name, node] of libDir.children) if (/\.so(\.|$)/.test(name)) await writeNode(node, join(libs, name));
  const tool = join(o.workDir, 'grub-mkimage');
  await writeNode(mkimage, tool, 0o755);
  const cfg = join(o.workDir, 'load.cfg');
  await writeFile(cfg, o.config);
  const out = join(o.workDir, 'core.img');

  const args = [
    '--inhibit-cache', '--library-path', libs, tool,
    '--format=i386-pc', `--directory=${mods}`, `--prefix=${o.prefix}`, `--config=${cfg}`, `--output=${out}`,
    ...(o.modules ?? CORE_MODULES),
  ];
  const r = spawnSync(join(libs, GRUB_PC_FILES.loader), args, { env: { LC_ALL: 'C', PATH: '/usr/bin:/bin' }, encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit status ${r.status}`);
    throw new ReprimageError('TOOL', 'grub-mkimage', `making core.img failed: ${why}`);
  }
  return new Uint8Array(await readFile(out));
}
