/**
 * A real rebuilderd with reprimage's backend (docs/rebuild.md), through
 * contrib/rebuilderd/try-in-trixie-chroot.sh: a Debian trixie chroot made with mmdebstrap
 * (rebuilderd 0.24, rebuilderd-worker and rebuildctl 0.23.1, nodejs), rebuilderd on 127.0.0.1 and
 * one worker with the backend. Two releases of examples/bookworm-minimal are queued: the published
 * one, and a copy whose rootfs.tar has one byte changed inside etc/motd (same manifest). The
 * worker rebuilds the release for real (mmdebstrap inside the chroot, trixie's mmdebstrap, apt and
 * dpkg, so --allow-tool-versions) and compares the other with that rebuild; `rebuildctl pkgs ls`
 * must then say rootfs.tar GOOD for the release and BAD for the copy (recipe-inputs.tar GOOD for
 * both), and the copy's build log must name `rootfs.tar ▸ etc/motd`.
 *
 * Everything runs in its own mount and PID namespaces (unshare), so no process or mount outlives
 * the test, which kills the namespace when its time is up. The chroot is kept as a tarball under
 * /var/cache/reprimage/rebuilderd-chroot (REPRIMAGE_TEST_CHROOT_CACHE), named by the package list
 * and trixie's InRelease, so a later run makes it again only when the archive has changed.
 * Needs root, mmdebstrap, unshare, python3 and deb.debian.org.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { REPO, runCli } from '../helpers/cli.js';
import { requireRecipeBuild } from '../helpers/network.js';
import { requireTool, tempDir } from '../helpers/tools.js';
import { publishedRelease } from '../helpers/rebuild-examples.js';
import { flipByteOfTarMember } from '../helpers/rebuild-release.js';

const EXAMPLE = join(REPO, 'examples/bookworm-minimal');
const SCRIPT = join(REPO, 'contrib/rebuilderd/try-in-trixie-chroot.sh');
/** The worker's build and the wait for its results; the test gives the whole run a few minutes more. */
const TIMEOUT_SECONDS = 1500;

/** Two free ports in a row on 127.0.0.1 (rebuilderd's and the releases' web server's). */
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
      s.on('error', reject);
    });
    const next = await new Promise<boolean>((resolve) => {
      const s = createServer().listen(port + 1, '127.0.0.1', () => s.close(() => resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (next && port < 65535) return port;
  }
}

/** Runs the script in new mount and PID namespaces; SIGKILLs the namespace after `seconds`. */
function runInNamespaces(args: string[], env: NodeJS.ProcessEnv, seconds: number): Promise<{ status: number | null; output: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    // --kill-child: the script (PID 1 of the namespace) dies with unshare, and every process of the namespace with it
    const child = spawn('unshare', ['--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', 'sh', SCRIPT, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => out.push(b));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, seconds * 1000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output: Buffer.concat(out).toString(), timedOut });
    });
  });
}

test('a real rebuilderd (Debian trixie) with the reprimage backend: the release rebuilt in the worker is GOOD, a copy with a changed byte BAD', { timeout: (TIMEOUT_SECONDS + 900) * 1000 }, async (t) => {
  if (!requireRecipeBuild(t) || !requireTool(t, 'python3')) return;
  const dir = tempDir(t, 'reprimage-rebuilderd-');
  // locked now: the committed lock may name versions the mirror has dropped since (rebuild.test.ts locks the same way and finds this release)
  const src = join(dir, 'bookworm-minimal');
  cpSync(EXAMPLE, src, { recursive: true });
  const locked = runCli(['lock', join(src, 'recipe.yaml')]);
  assert.equal(locked.status, 0, locked.stderr);
  const published = publishedRelease(src, (out) => {
    const built = runCli(['build', join(src, 'recipe.yaml'), '-o', out, '--quiet']);
    assert.equal(built.status, 0, built.stderr);
  });
  t.diagnostic(published.built ? 'built the release here' : `the release kept by an earlier test: ${published.dir}`);

  const release = join(dir, 'release');
  const tampered = join(dir, 'tampered');
  mkdirSync(release);
  mkdirSync(tampered);
  for (const f of ['rootfs.tar', 'manifest.json', 'recipe-inputs.tar']) copyFileSync(join(published.dir, f), join(release, f));
  for (const f of ['manifest.json', 'recipe-inputs.tar']) copyFileSync(join(published.dir, f), join(tampered, f));
  await flipByteOfTarMember(join(published.dir, 'rootfs.tar'), 'etc/motd', join(tampered, 'rootfs.tar'));

  const port = await freePortPair();
  const started = Date.now();
  const run = await runInNamespaces(
    [release, tampered],
    {
      ...process.env,
      PORT: String(port),
      TIMEOUT: String(TIMEOUT_SECONDS),
      WORK_ROOT: dir,
      CHROOT_CACHE: process.env.REPRIMAGE_TEST_CHROOT_CACHE ?? '/var/cache/reprimage/rebuilderd-chroot',
      // the worker's mmdebstrap, apt and dpkg are trixie's; the release was built with this host's
      REPRIMAGE_REBUILD_OPTIONS: '--allow-tool-versions',
    },
    TIMEOUT_SECONDS + 600,
  );
  const seconds = (Date.now() - started) / 1000;
  assert.ok(!run.timedOut, `stopped after ${seconds.toFixed(0)} s:\n${run.output.slice(-4000)}`);
  assert.equal(run.status, 0, run.output.slice(-4000));

  // `rebuildctl pkgs ls --json`: one record per artifact, with its suite (the release's directory name) and status
  const listing = /^--- rebuildctl pkgs ls --json:\n([\s\S]*?)^--- build log of /m.exec(run.output);
  assert.ok(listing, run.output.slice(-4000));
  const rows = JSON.parse(listing[1]!) as Array<{ name: string; suite: string; status: string }>;
  const statuses = rows.map((r) => `${r.suite} ${r.name} ${r.status}`).sort();
  assert.deepEqual(statuses, ['release recipe-inputs.tar GOOD', 'release rootfs.tar GOOD', 'tampered recipe-inputs.tar GOOD', 'tampered rootfs.tar BAD'], run.output.slice(-4000));

  // the build logs: the copy's names the changed file; one of the two was a whole build in the worker
  const logs = run.output.split(/^--- build log of /m).slice(1);
  const logOf = (name: string) => logs.find((l) => l.startsWith(`${name}:`)) ?? '';
  assert.match(logOf('release'), /^reproduced: rootfs\.tar: sha256 [0-9a-f]{64}$/m, logOf('release'));
  assert.match(logOf('tampered'), /^differs: rootfs\.tar: .*rootfs\.tar ▸ etc\/motd$/m, logOf('tampered'));
  const reused = logs.filter((l) => /^note: reused the rebuild in the work directory/m.test(l));
  assert.equal(reused.length, 1, 'one release rebuilt in the worker, the other compared with that rebuild');
  t.diagnostic(`rebuilderd run ${seconds.toFixed(0)} s (chroot, worker rebuild, both verdicts)`);
});
