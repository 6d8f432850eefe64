/**
 * The root tree: mmdebstrap installs exactly the locked packages from a local repository that
 * holds nothing else, runs the recipe's overlays and hooks as customize hooks, and writes a tar
 * stream that reprimage reads into a Tree (owners, devices, xattrs such as file capabilities as
 * mmdebstrap recorded them). Nothing is read from the host file system into the tree.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ReprimageError } from '../errors.js';
import { abortedError, throwIfAborted } from '../io/abort.js';
import { openFileSource, type RandomAccessSource } from '../io/source.js';
import { trackProcess } from '../io/temporaries.js';
import { loadTar } from '../formats/tar/index.js';
import type { Tree } from '../tree/tree.js';

export interface RootTreeOptions {
  suite: string;
  architecture: string;
  /** The `deb [trusted=yes] file:… ./` line of the local repository. */
  sourcesLine: string;
  /** Names of every locked package: with variant custom, apt installs these and only these. */
  packages: string[];
  buildTime: number;
  /** A tar (written by reprimage) unpacked over the tree before the hooks. */
  overlayTar?: string;
  /** Shell scripts run inside the chroot, in order. */
  hooks: string[];
  /** Scratch directory: the mmdebstrap tar is kept here while the Tree refers to it. */
  workDir: string;
  /** Lines of mmdebstrap's progress go here. */
  log?: (line: string) => void;
  /**
   * libfaketime libraries to make visible inside the chroot at their host paths (see
   * `clockShiftFromEnvironment`), so that a shifted clock reaches package scripts and hooks.
   */
  faketimeLibraries?: string[];
  /** The calling program's environment: mmdebstrap gets its PATH and, with `faketimeLibraries`, libfaketime's variables. */
  hostEnvironment?: Readonly<Record<string, string | undefined>>;
  /** Stops mmdebstrap (SIGTERM: it cleans up) with an ABORTED error. */
  signal?: AbortSignal;
}

export interface RootTree {
  tree: Tree;
  source: RandomAccessSource;
}

export function mmdebstrapArguments(o: RootTreeOptions): string[] {
  const args = [
    '--variant=custom',
    `--architectures=${o.architecture}`,
    '--format=tar',
    `--include=${o.packages.join(',')}`,
    '--aptopt=Acquire::Languages "none"',
    '--aptopt=APT::Install-Recommends "false"',
    // the repository is reprimage's own and already verified; apt need not check signatures
    '--skip=check/signed-by',
  ];
  for (const lib of o.faketimeLibraries ?? []) {
    // at the path LD_PRELOAD names, before anything runs inside; removed again below unless a
    // package installed it
    args.push(`--setup-hook=mkdir -p "$1${quote(dirname(lib))}" && cp ${quote(lib)} "$1${lib}"`);
  }
  // mmdebstrap copies the host's resolv.conf and hostname into the chroot; they must not leak
  args.push('--customize-hook=rm -f "$1/etc/resolv.conf" "$1/etc/hostname"');
  if (o.overlayTar) args.push(`--customize-hook=tar-in ${quote(o.overlayTar)} /`);
  o.hooks.forEach((hook, i) => {
    const inside = `/tmp/reprimage-hook-${i}`;
    args.push(`--customize-hook=upload ${quote(hook)} ${inside}`);
    args.push(`--customize-hook=chroot "$1" /bin/sh ${inside}`);
    args.push(`--customize-hook=rm -f "$1${inside}"`);
  });
  for (const lib of o.faketimeLibraries ?? []) {
    args.push(`--customize-hook=chroot "$1" dpkg -S ${lib} >/dev/null 2>&1 || { rm -f "$1${lib}"; rmdir --ignore-fail-on-non-empty "$1${dirname(lib)}"; }`);
  }
  args.push(o.suite, '-', o.sourcesLine);
  return args;
}

function quote(s: string): string {
  if (/[\s"'\\$`]/.test(s)) throw new ReprimageError('USAGE', s, 'paths given to mmdebstrap hooks may not contain spaces, quotes, $ or backslashes');
  return s;
}

/**
 * The libfaketime libraries this process was started under (`faketime CMD`, as `reprimage check`
 * does for its clock variation). The build runs mmdebstrap with a clean environment, which would
 * drop the shifted clock exactly where builds read it (package scripts, hooks); passing it on
 * makes the variation apply, so a hook writing the date is caught instead of passing unnoticed.
 */
export function clockShiftFromEnvironment(env: Readonly<Record<string, string | undefined>>, exists: (path: string) => boolean = existsSync): string[] {
  if (!env.FAKETIME) return [];
  return (env.LD_PRELOAD ?? '')
    .split(/[:\s]+/)
    .filter((p) => /\/libfaketime[^/]*\.so[^/]*$/.test(p))
    .map((p) => expandLibToken(p, exists))
    .filter((p): p is string => p !== undefined && isAbsolute(p));
}

/**
 * Debian's `faketime` preloads `/usr/$LIB/faketime/…`, which the dynamic loader expands to the
 * library directory of the running ABI; the chroot has the same architecture, so the host's
 * expansion is the chroot's too. The first candidate that exists is the one the loader used.
 */
function expandLibToken(path: string, exists: (path: string) => boolean): string | undefined {
  if (!/\$\{?LIB\}?/.test(path)) return path;
  const multiarch = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu', ia32: 'i386-linux-gnu' }[process.arch as string];
  const dirs = [...(multiarch ? [`lib/${multiarch}`] : []), 'lib64', 'lib'];
  return dirs.map((d) => path.replace(/\$\{?LIB\}?/g, d)).find(exists);
}

function clockShiftEnvironment(libraries: string[] | undefined, host: Readonly<Record<string, string | undefined>>): NodeJS.ProcessEnv {
  if (!libraries?.length) return {};
  const passed = Object.entries(host).filter(([k]) => k.startsWith('FAKETIME') || k.startsWith('DONT_FAKE') || k === 'NO_FAKE_STAT');
  return { ...Object.fromEntries(passed), LD_PRELOAD: libraries.join(':') };
}

/** Runs mmdebstrap and reads its tar output into a Tree. */
export async function buildRootTree(o: RootTreeOptions): Promise<RootTree> {
  const tarPath = join(o.workDir, 'mmdebstrap.tar');
  const env: NodeJS.ProcessEnv = {
    PATH: o.hostEnvironment?.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    SOURCE_DATE_EPOCH: String(o.buildTime),
    LC_ALL: 'C.UTF-8',
    LANG: 'C.UTF-8',
    TZ: 'UTC',
    HOME: '/root',
    TMPDIR: o.workDir,
    ...clockShiftEnvironment(o.faketimeLibraries, o.hostEnvironment ?? {}),
  };
  // a fixed umask, and (as root) a private UTS namespace so the host name cannot leak in
  const script = 'umask 022; if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then exec unshare --uts sh -c \'hostname reprimage && exec "$0" "$@"\' mmdebstrap "$@"; fi; exec mmdebstrap "$@"';
  throwIfAborted(o.signal, 'mmdebstrap');
  const child = spawn('sh', ['-c', script, 'sh', ...mmdebstrapArguments(o)], { env, cwd: o.workDir, stdio: ['ignore', 'pipe', 'pipe'], signal: o.signal, killSignal: 'SIGTERM' });
  // `kill` of reprimage alone does not reach mmdebstrap: an interrupted build stops it (it cleans up on SIGTERM)
  const forget = child.pid === undefined ? () => undefined : trackProcess(child.pid, 'SIGTERM');
  const tail: string[] = [];
  child.stderr.setEncoding('utf8');
  let partial = '';
  child.stderr.on('data', (chunk: string) => {
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      o.log?.(line);
    }
  });
  const exited = new Promise<number>((resolveExit, reject) => {
    child.on('error', (e) => {
      forget();
      if (o.signal?.aborted) return reject(abortedError(o.signal, 'mmdebstrap'));
      reject(new ReprimageError('TOOL', 'mmdebstrap', `cannot run mmdebstrap (install the mmdebstrap package): ${e.message}`));
    });
    child.on('close', (code) => {
      forget();
      resolveExit(code ?? -1);
    });
  });
  await pipeline(child.stdout, createWriteStream(tarPath));
  const code = await exited;
  throwIfAborted(o.signal, 'mmdebstrap');
  if (code !== 0) {
    const why = tail.filter((l) => /^E:|error/i.test(l)).slice(-3).join(' | ') || tail.slice(-3).join(' | ');
    throw new ReprimageError('TOOL', 'mmdebstrap', `exited with status ${code}: ${why}`);
  }
  const source = await openFileSource(tarPath);
  try {
    const tree = await loadTar(source, { lenient: false });
    return { tree, source };
  } catch (e) {
    await source.close();
    throw e;
  }
}

/** The version of a Debian package installed on the host (the tools that build the tree). */
export function hostPackageVersion(pkg: string): string {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout ? r.stdout : 'not installed';
}
