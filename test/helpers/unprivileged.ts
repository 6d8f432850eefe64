/**
 * Running part of a test as an unprivileged user. CI runs as root, and root reads every
 * directory whatever its mode, so a test about permission errors has nothing to prove there. As
 * root, these helpers run the command with `setpriv` as REPRIMAGE_TEST_USER (default `nobody`),
 * in directories under /tmp that this user can reach; as any other user they run it directly.
 *
 * The built code must be readable by that user. When the checkout is not (a home directory with
 * mode 0700, a restrictive umask), a readable copy of package.json, dist/src and node_modules is
 * made under /tmp once per test file and removed when the process exits.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TestContext } from 'node:test';
import { REPO } from './cli.js';

export const IS_ROOT = process.getuid?.() === 0;

export interface UnprivilegedUser {
  name: string;
  uid: number;
  gid: number;
}

let userCache: UnprivilegedUser | undefined;

/** The user the tests switch to as root: REPRIMAGE_TEST_USER, else nobody. */
export function unprivilegedUser(): UnprivilegedUser {
  if (userCache) return userCache;
  const name = process.env.REPRIMAGE_TEST_USER || 'nobody';
  const id = (flag: string) => {
    const r = spawnSync('id', [flag, name], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`user ${name} not found (REPRIMAGE_TEST_USER): ${r.stderr.trim()}`);
    return Number(r.stdout.trim());
  };
  userCache = { name, uid: id('-u'), gid: id('-g') };
  if (userCache.uid === 0) throw new Error(`REPRIMAGE_TEST_USER=${name} is root`);
  return userCache;
}

export interface UnprivilegedResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `cmd args` as the unprivileged user (as root through setpriv, with no supplementary
 * groups; otherwise as the current user). Never throws on a non-zero exit.
 */
export function runUnprivileged(cmd: string, args: string[], options: { cwd?: string; env?: Record<string, string>; input?: string } = {}): UnprivilegedResult {
  const env = { ...process.env, HOME: '/tmp', ...options.env };
  let argv = [cmd, ...args];
  if (IS_ROOT) {
    const { uid, gid } = unprivilegedUser();
    argv = ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', ...argv];
  }
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: options.cwd ?? '/tmp', env, input: options.input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * A fresh directory under /tmp (not $TMPDIR, which may lie below a directory the user cannot
 * enter) owned by the unprivileged user, removed when the test ends.
 */
export function unprivilegedTempDir(t: TestContext, prefix = 'reprimage-unpriv-'): string {
  const dir = mkdtempSync(join('/tmp', prefix));
  chmodSync(dir, 0o755);
  if (IS_ROOT) {
    const { uid, gid } = unprivilegedUser();
    chownSync(dir, uid, gid);
  }
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

let distCache: string | undefined;

/**
 * The `dist` directory to run built code from as the unprivileged user: the checkout's own when
 * that user can run the CLI from it, else a readable copy under /tmp.
 */
export function unprivilegedDist(): string {
  if (distCache) return distCache;
  const own = join(REPO, 'dist');
  // through sh, so that the user must reach this Node.js binary by its path too (setpriv alone
  // can start a program in a directory that user cannot enter; the CLI's own children could not)
  const runs = (dist: string) => runUnprivileged('sh', ['-c', 'exec "$0" "$@"', process.execPath, join(dist, 'src/cli/main.js'), '--version']);
  if (!IS_ROOT || runs(own).status === 0) {
    distCache = own;
    return own;
  }
  const stage = mkdtempSync(join('/tmp', 'reprimage-readable-'));
  process.on('exit', () => rmSync(stage, { recursive: true, force: true }));
  cpSync(join(REPO, 'package.json'), join(stage, 'package.json'));
  cpSync(join(REPO, 'dist/src'), join(stage, 'dist/src'), { recursive: true });
  cpSync(join(REPO, 'node_modules'), join(stage, 'node_modules'), { recursive: true, dereference: true });
  spawnSync('chmod', ['-R', 'a+rX', stage]);
  const check = runs(join(stage, 'dist'));
  if (check.status !== 0) throw new Error(`${unprivilegedUser().name} cannot run the CLI even from a copy in ${stage}: ${check.stderr.trim()}`);
  distCache = join(stage, 'dist');
  return distCache;
}

/** The built CLI (dist/src/cli/main.js) as the unprivileged user can run it. */
export function unprivilegedCli(): string {
  return join(unprivilegedDist(), 'src/cli/main.js');
}

/**
 * Runs a Node.js ES module script as the unprivileged user. `DIST` in the script is the URL of
 * the dist directory that user can read (to import built modules from).
 */
export function runNodeUnprivileged(script: string, options: { cwd?: string } = {}): UnprivilegedResult {
  const dist = pathToFileURL(`${unprivilegedDist()}/`).href;
  return runUnprivileged(process.execPath, ['--input-type=module', '-e', `const DIST = ${JSON.stringify(dist)};\n${script}`], options);
}
