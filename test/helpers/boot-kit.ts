/**
 * What the boot tests put inside the images they boot: a Debian kernel and an initramfs, made
 * with reprimage's own cpio writer around busybox-static, whose /init prints a marker on the
 * console and powers the machine off.
 *
 * The kernel is the host's /boot/vmlinuz-* when it is readable and its modules are installed;
 * otherwise the linux-image package is fetched with `apt-get download` into a cache directory
 * and unpacked with `dpkg-deb -x`, so CI needs no kernel installed on the host.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { writeCpio } from '../../src/formats/cpio/index.js';
import { MemorySink } from '../../src/io/sink.js';
import { bytesContent } from '../../src/tree/content.js';
import { Tree, newDir, type Node } from '../../src/tree/tree.js';
import { LATE_BUILD_TIME } from './sample-tree.js';

export const BUSYBOX = '/bin/busybox';

/** Kernel arguments every boot test needs: console on the first serial port, exit on panic. */
export const SERIAL_CMDLINE = 'console=ttyS0,115200 panic=-1 loglevel=4';

export interface Kernel {
  version: string;
  vmlinuz: string;
  /** `lib/modules/<version>` of this kernel (may lack modules.dep when unpacked from a .deb). */
  modulesDir: string;
}

/** The directory where downloaded kernel packages are kept between runs. */
export function bootKitCache(): string {
  return process.env.REPRIMAGE_BOOT_KIT_CACHE ?? join(tmpdir(), 'reprimage-boot-kit');
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

function hostKernel(): Kernel | undefined {
  if (!existsSync('/boot')) return undefined;
  const versions = readdirSync('/boot')
    .filter((n) => n.startsWith('vmlinuz-'))
    .map((n) => n.slice('vmlinuz-'.length))
    .filter((v) => readable(`/boot/vmlinuz-${v}`) && existsSync(`/lib/modules/${v}/modules.dep`))
    .sort();
  const version = versions.at(-1);
  return version ? { version, vmlinuz: `/boot/vmlinuz-${version}`, modulesDir: `/lib/modules/${version}` } : undefined;
}

function sh(cmd: string, args: string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** The concrete kernel image package linux-image-amd64 depends on (e.g. linux-image-6.1.0-56-amd64). */
function kernelPackageName(): string {
  const deps = sh('apt-cache', ['depends', '--no-recommends', '--no-suggests', 'linux-image-amd64']);
  const name = /Depends: (linux-image-[0-9][^\s]*-amd64)(?:-unsigned)?\b/.exec(deps)?.[1];
  if (!name) throw new Error(`cannot find the kernel package linux-image-amd64 depends on:\n${deps}`);
  return name;
}

export function downloadedKernel(): Kernel {
  const cache = bootKitCache();
  const pkg = kernelPackageName();
  const root = join(cache, pkg);
  if (!existsSync(join(root, '.complete'))) {
    mkdirSync(cache, { recursive: true });
    const work = join(cache, `${pkg}.partial-${process.pid}`);
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work);
    sh('apt-get', ['download', pkg], work);
    const deb = readdirSync(work).find((n) => n.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${pkg} produced no .deb`);
    const tree = join(work, 'root');
    sh('dpkg-deb', ['-x', join(work, deb), tree]);
    sh('touch', [join(tree, '.complete')]);
    rmSync(root, { recursive: true, force: true });
    renameSync(tree, root);
    rmSync(work, { recursive: true, force: true });
  }
  const vmlinuz = readdirSync(join(root, 'boot')).find((n) => n.startsWith('vmlinuz-'));
  if (!vmlinuz) throw new Error(`no /boot/vmlinuz-* in ${pkg}`);
  const version = vmlinuz.slice('vmlinuz-'.length);
  return { version, vmlinuz: join(root, 'boot', vmlinuz), modulesDir: join(root, 'lib/modules', version) };
}

let kernelCache: Kernel | undefined;

/** A bootable Debian kernel with its modules (host's, else downloaded once into the cache). */
export function debianKernel(): Kernel {
  kernelCache ??= hostKernel() ?? downloadedKernel();
  return kernelCache;
}

/**
 * True when a boot test can run: qemu, busybox-static and a kernel (from the host or through
 * apt-get download). Outside CI a missing piece skips the test; in CI it fails, since .ci/run
 * installs them.
 */
export function requireBootKit(t: TestContext, ...tools: string[]): boolean {
  const missing: string[] = [];
  if (!existsSync(BUSYBOX)) missing.push('busybox-static');
  for (const tool of ['qemu-system-x86_64', ...tools]) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0) missing.push(tool);
  }
  if (missing.length === 0) {
    try {
      debianKernel();
    } catch (e) {
      missing.push(`a Debian kernel (${(e as Error).message.split('\n')[0]})`);
    }
  }
  if (missing.length === 0) return true;
  if (process.env.CI === 'true') throw new Error(`boot test prerequisites missing in CI: ${missing.join(', ')}`);
  t.skip(`needs ${missing.join(', ')}`);
  return false;
}

/** Module file names (relative to modulesDir) for `names` and their dependencies, dependencies first. */
export function moduleClosure(kernel: Kernel, names: string[]): string[] {
  const depFile = join(kernel.modulesDir, 'modules.dep');
  if (!existsSync(depFile)) sh('depmod', ['-b', join(kernel.modulesDir, '../../..'), kernel.version]);
  const deps = new Map<string, string[]>();
  for (const line of readFileSync(depFile, 'utf8').split('\n')) {
    const [mod, rest] = line.split(':');
    if (mod && rest !== undefined) deps.set(mod, rest.trim() === '' ? [] : rest.trim().split(/\s+/));
  }
  const byName = new Map<string, string>();
  for (const mod of deps.keys()) {
    const base = mod.slice(mod.lastIndexOf('/') + 1).replace(/\.ko(\.(xz|zst|gz))?$/, '');
    byName.set(base.replaceAll('-', '_'), mod);
  }
  const ordered: string[] = [];
  const visit = (mod: string, stack: Set<string>): void => {
    if (ordered.includes(mod) || stack.has(mod)) return;
    stack.add(mod);
    for (const d of deps.get(mod) ?? []) visit(d, stack);
    ordered.push(mod);
  };
  for (const name of names) {
    const mod = byName.get(name.replaceAll('-', '_'));
    if (!mod) {
      // Built into the kernel: nothing to load.
      const builtin = join(kernel.modulesDir, 'modules.builtin');
      if (existsSync(builtin) && readFileSync(builtin, 'utf8').split('\n').some((l) => l.endsWith(`/${name}.ko`))) continue;
      throw new Error(`kernel module ${name} not found for ${kernel.version}`);
    }
    visit(mod, new Set());
  }
  return ordered;
}

/** Module bytes, decompressed (busybox insmod takes plain .ko files). */
function moduleBytes(path: string): Uint8Array {
  if (path.endsWith('.ko')) return readFileSync(path);
  const tool = path.endsWith('.xz') ? 'xz' : path.endsWith('.zst') ? 'zstd' : 'gzip';
  const r = spawnSync(tool, ['-dc', path], { maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${tool} -dc ${path} failed: ${String(r.stderr)}`);
  return r.stdout;
}

export interface InitramfsOptions {
  /** Printed on the console (alone on its line) when `commands` succeed. Keep it off the kernel command line. */
  marker: string;
  /**
   * Kernel modules to insmod first, with their modules.dep dependencies (e.g. ['ext4', 'virtio_blk']).
   * Soft dependencies are not followed: name them too (ext4 wants 'crc32c_generic').
   */
  modules?: string[];
  /** Shell commands (busybox ash, `set -e`) run after the modules load and before the marker. */
  commands?: string;
  /** Extra files to put into the initramfs, by path. */
  files?: Record<string, Uint8Array>;
  kernel?: Kernel;
}

const EPOCH_META = { uid: 0, gid: 0, mtime: { sec: 0, nsec: 0 } };
const meta = (mode: number) => ({ ...EPOCH_META, mode, xattrs: new Map<string, Uint8Array>() });

/** The /init script: mount the pseudo file systems, load modules, run the commands, say the marker, power off. */
export function initScript(options: InitramfsOptions, modules: string[]): string {
  const lines = [
    '#!/bin/sh',
    'export PATH=/bin',
    'mount -t proc proc /proc',
    'mount -t sysfs sysfs /sys',
    'mount -t devtmpfs devtmpfs /dev 2>/dev/null',
    ...modules.map((m) => `insmod /lib/modules/${m} || echo "boot-kit: insmod ${m} failed"`),
    // The commands live in their own script run by `sh -e`: inside an `if` condition (even in a
    // subshell) the shell ignores `set -e`, so a failing step would not fail the block.
    'if sh -e /commands.sh',
    `then echo; echo '${options.marker.replaceAll("'", "'\\''")}'`,
    'else echo; echo "boot-kit: commands failed"',
    'fi',
    'sync',
    'poweroff -f',
    '',
  ];
  return lines.join('\n');
}

/** A newc initramfs (uncompressed) around busybox-static whose /init prints `marker` and powers off. */
export async function makeInitramfs(options: InitramfsOptions): Promise<Uint8Array> {
  const kernel = options.kernel ?? (options.modules?.length ? debianKernel() : undefined);
  const modules = kernel && options.modules?.length ? moduleClosure(kernel, options.modules) : [];
  const tree = new Tree(newDir(meta(0o755)));
  for (const dir of ['bin', 'dev', 'proc', 'sys', 'mnt', 'tmp', 'lib', 'lib/modules']) tree.set(dir, newDir(meta(0o755)));
  tree.set('bin/busybox', { kind: 'file', ...meta(0o755), content: bytesContent(readFileSync(BUSYBOX), BUSYBOX) });
  const applets = spawnSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter((a) => /^[a-z0-9_.[-]+$/.test(a) && a !== 'busybox');
  for (const applet of applets) tree.set(`bin/${applet}`, { kind: 'symlink', ...meta(0o777), target: 'busybox' } as Node);
  tree.set('dev/console', { kind: 'char', ...meta(0o600), major: 5, minor: 1 });
  tree.set('dev/null', { kind: 'char', ...meta(0o666), major: 1, minor: 3 });
  tree.set('dev/ttyS0', { kind: 'char', ...meta(0o660), major: 4, minor: 64 });
  const plain = (mod: string) => mod.replace(/\.(xz|zst|gz)$/, '');
  for (const mod of modules) {
    const name = `lib/modules/${plain(mod)}`;
    tree.ensureDir(name.slice(0, name.lastIndexOf('/')), meta(0o755));
    tree.set(name, { kind: 'file', ...meta(0o644), content: bytesContent(moduleBytes(join(kernel!.modulesDir, mod))) });
  }
  for (const [path, bytes] of Object.entries(options.files ?? {})) {
    const name = path.replace(/^\/+/, '');
    if (name.includes('/')) tree.ensureDir(name.slice(0, name.lastIndexOf('/')), meta(0o755));
    tree.set(name, { kind: 'file', ...meta(0o644), content: bytesContent(bytes) });
  }
  const script = initScript(options, modules.map(plain));
  tree.set('init', { kind: 'file', ...meta(0o755), content: bytesContent(Buffer.from(script)) });
  tree.set('commands.sh', { kind: 'file', ...meta(0o755), content: bytesContent(Buffer.from(`${options.commands ?? ':'}\n`)) });
  const sink = new MemorySink();
  await writeCpio(tree, sink, { buildTime: LATE_BUILD_TIME });
  return sink.bytes().slice();
}

/** The size of a file, for callers that lay out images around the kernel. */
export function fileSize(path: string): number {
  return statSync(path).size;
}
