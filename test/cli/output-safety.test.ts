/**
 * What an interrupted or failing `reprimage` leaves behind (docs/errors.md): a writer killed with
 * SIGKILL at points chosen by seeded delays leaves the old output (or none, or the finished new
 * one), never a partial file, and the next run removes the temporary the killed one left;
 * SIGINT/SIGTERM end with 130/143, one line and no temporary; a full disk (a 2 MiB tmpfs) gives
 * one line naming the output and exit 2, and leaves nothing; a long report on a pipe is complete
 * although the CLI ends the process explicitly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI, REPO, runCli } from '../helpers/cli.js';
import { pattern } from '../helpers/sample-tree.js';
import { tempDir } from '../helpers/tools.js';

const EPOCH = '1700000000';

/** 40 files of 256 KiB that do not compress: long enough to write that a kill lands mid-write. */
function makeSource(root: string): string {
  const src = join(root, 'src');
  for (let d = 0; d < 4; d++) {
    mkdirSync(join(src, `dir${d}`), { recursive: true });
    for (let f = 0; f < 10; f++) writeFileSync(join(src, `dir${d}`, `file${f}`), pattern(256 << 10, d * 10 + f + 1));
  }
  return src;
}

/** The temporaries beside `output` (`.<name>.<host>.<pid>.<n>.tmp`). */
function temporariesOf(output: string): string[] {
  const dir = join(output, '..');
  const base = output.slice(dir.length + 1);
  return readdirSync(dir).filter((n) => n.startsWith(`.${base}.`) && n.endsWith('.tmp'));
}

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function startCli(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; ended: Promise<Ended> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const ended = new Promise<Ended>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
  return { child, ended };
}

/** Waits until the output's temporary exists (true) or the process has ended (false). */
async function temporaryAppears(output: string, child: ChildProcess): Promise<boolean> {
  while (child.exitCode === null && child.signalCode === null) {
    if (temporariesOf(output).length > 0) return true;
    await sleep(2);
  }
  return false;
}

/** Milliseconds to wait after the temporary appears: a fixed list per seed (xorshift), 0 first. */
function delays(seed: number, count: number): number[] {
  const out = [0];
  let x = seed;
  while (out.length < count) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.push((x >>> 0) % 400);
  }
  return out;
}

const KILL_FORMATS = [
  { name: 'SquashFS', file: 'out.sqfs' },
  { name: 'tar', file: 'out.tar' },
  { name: 'ext4', file: 'out.ext4' },
  { name: 'ISO 9660', file: 'out.iso' },
];
const SEEDS = [11, 29, 47];

for (const format of KILL_FORMATS) {
  test(`SIGKILL while packing ${format.name}: the output is the old file, none or the whole new one; the next run removes the stale temporary`, async (t) => {
    const root = tempDir(t);
    const src = makeSource(root);
    const pack = (output: string) => ['pack', src, '-o', output, '--source-date-epoch', EPOCH];
    mkdirSync(join(root, 'ref'));
    const reference = join(root, 'ref', format.file);
    const r = runCli(pack(reference));
    assert.equal(r.status, 0, r.stderr);
    const expected = readFileSync(reference);

    const outDir = join(root, 'out');
    mkdirSync(outDir);
    const output = join(outDir, format.file);
    const outcomes: string[] = [];
    let staleSeen = 0;
    for (const seed of SEEDS) {
      for (const [i, delay] of delays(seed, 2).entries()) {
        const old = i % 2 === 0 ? pattern(10_000, seed + i) : undefined;
        if (old) writeFileSync(output, old);
        else rmSync(output, { force: true });
        const { child, ended } = startCli(pack(output));
        const writing = await temporaryAppears(output, child);
        if (writing) await sleep(delay);
        child.kill('SIGKILL');
        const end = await ended;
        const where = `seed ${seed}, kill ${delay} ms after the temporary appeared`;
        if (!existsSync(output)) {
          assert.equal(old, undefined, `${where}: the old output is gone`);
          outcomes.push('none');
        } else {
          const now = readFileSync(output);
          if (old && now.equals(old)) outcomes.push('old');
          else {
            assert.ok(now.equals(expected), `${where}: the output is neither the old file nor the whole new one (${now.length} bytes)`);
            outcomes.push('new');
          }
        }
        const left = temporariesOf(output);
        if (end.signal === 'SIGKILL' && left.length > 0) {
          staleSeen++;
          // the temporary names its owner: the killed process
          for (const n of left) assert.ok(n.includes(`.${child.pid}.`), `${n} does not name process ${child.pid}`);
        }
        const next = runCli(pack(output));
        assert.equal(next.status, 0, next.stderr);
        assert.ok(readFileSync(output).equals(expected), `${where}: the next run's output differs from the reference`);
        assert.deepEqual(temporariesOf(output), [], `${where}: the next run left the stale temporaries ${left.join(', ')}`);
        assert.deepEqual(readdirSync(outDir), [format.file]);
      }
    }
    t.diagnostic(`outcomes: ${outcomes.join(' ')}; stale temporaries removed by the next run: ${staleSeen}`);
    assert.ok(staleSeen > 0, 'no kill landed while the temporary existed: the cleanup was not exercised');
  });
}

for (const [signal, status] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  test(`${signal} while packing: exit ${status}, one line naming the output, the old file kept and no temporary`, async (t) => {
    const root = tempDir(t);
    const src = makeSource(root);
    const output = join(root, 'out.sqfs');
    const old = pattern(10_000, 5);
    writeFileSync(output, old);
    // xz with one worker: seconds of work, so the signal arrives mid-write
    const { child, ended } = startCli(['pack', src, '-o', output, '--comp', 'xz', '--workers', '1', '--source-date-epoch', EPOCH]);
    assert.ok(await temporaryAppears(output, child), 'the writer ended before its temporary was seen');
    await sleep(50);
    child.kill(signal);
    const end = await ended;
    assert.equal(end.signal, null);
    assert.equal(end.code, status);
    assert.equal(end.stderr, `reprimage: ${output}: interrupted by ${signal}, not written\n`);
    assert.ok(readFileSync(output).equals(old), 'the old output changed');
    assert.deepEqual(readdirSync(root).sort(), ['out.sqfs', 'src']);
  });
}

test('SIGTERM while packing to a new output: the command unwinds (its own finally blocks remove the temporary), exit 143, nothing at the output', async (t) => {
  const root = tempDir(t);
  const src = makeSource(root);
  const scratch = join(root, 'tmp');
  mkdirSync(scratch);
  const output = join(root, 'new.sqfs');
  // REPRIMAGE_DEBUG adds one line after the usual one: how many temporaries the library left
  // to the exit's own removal (none, when the CLI waited for the command to unwind)
  const { child, ended } = startCli(['pack', src, '-o', output, '--comp', 'xz', '--workers', '1', '--source-date-epoch', EPOCH], { TMPDIR: scratch, REPRIMAGE_DEBUG: '1' });
  assert.ok(await temporaryAppears(output, child), 'the writer ended before its temporary was seen');
  await sleep(50);
  child.kill('SIGTERM');
  const end = await ended;
  assert.equal(end.signal, null);
  assert.equal(end.code, 143);
  assert.equal(end.stderr, `reprimage: ${output}: interrupted by SIGTERM, not written\nreprimage: the interrupted command unwound; 0 temporaries left for the exit to remove\n`);
  assert.equal(existsSync(output), false, 'nothing at the output');
  assert.deepEqual(readdirSync(root).sort(), ['src', 'tmp']);
  assert.deepEqual(readdirSync(scratch), []);
});

/** A 2 MiB tmpfs at a fresh directory, unmounted after the test; undefined (test skipped) where mounting is not allowed. */
function smallDisk(t: import('node:test').TestContext): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'reprimage-test-disk-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir]);
  // one hook, in this order: the directory cannot go while it is a mount point
  t.after(() => {
    if (r.status === 0) spawnSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  if (r.status !== 0) {
    const why = `cannot mount a tmpfs (${String(r.stderr).trim() || `mount exited ${r.status}`}); needs root`;
    if (process.env.CI === 'true') throw new Error(why);
    t.skip(why);
    return undefined;
  }
  return dir;
}

for (const file of ['out.tar', 'out.sqfs', 'out.ext4', 'out.iso']) {
  test(`a full disk while writing ${file}: one line naming it and "no space left on device", exit 2, nothing left`, (t) => {
    const disk = smallDisk(t);
    if (!disk) return;
    const src = makeSource(tempDir(t));
    const output = join(disk, file);
    const r = runCli(['pack', src, '-o', output, '--source-date-epoch', EPOCH]);
    assert.equal(r.stderr, `reprimage: ${output}: no space left on device\n`);
    assert.equal(r.status, 2);
    assert.deepEqual(readdirSync(disk), []);
  });
}

test('a report larger than a pipe holds arrives whole, with exit status 1, although the CLI ends the process itself', (t) => {
  const dir = tempDir(t);
  const make = (name: string, text: string) => {
    const d = join(dir, name);
    mkdirSync(d);
    // lines long enough that 400 one-line diffs exceed a pipe's 64 KiB
    for (let i = 0; i < 400; i++) writeFileSync(join(d, `file-${String(i).padStart(4, '0')}.txt`), `${text} ${i} ${'.'.repeat(40)}\n`);
    return d;
  };
  const a = make('a', 'left');
  const b = make('b', 'right');
  const toFile = join(dir, 'report.txt');
  const piped = runCli(['diff', a, b]);
  assert.equal(piped.status, 1, piped.stderr);
  const written = runCli(['diff', a, b, '--text', toFile]);
  assert.equal(written.status, 1, written.stderr);
  const report = readFileSync(toFile, 'utf8');
  assert.ok(report.length > 64 << 10, `the report (${report.length} bytes) fits in a pipe's buffer: the test proves nothing`);
  assert.equal(piped.stdout, report);
});

test('SIGTERM during check: exit 143, the build it started (in its own process group) is stopped, its work directory removed', async (t) => {
  const root = tempDir(t);
  const work = join(root, 'tmp');
  mkdirSync(work);
  const marker = join(root, 'build.pid');
  const child = spawn(process.execPath, [CLI, 'check', '--artifact', 'out', '--', 'sh', '-c', `echo $$ > ${marker}; exec sleep 60`], {
    cwd: REPO,
    env: { ...process.env, TMPDIR: work },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const ended = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  while (!existsSync(marker) || readFileSync(marker, 'utf8').trim() === '') {
    assert.equal(child.exitCode, null, `check ended before its build started: ${stderr}`);
    await sleep(10);
  }
  const buildPid = Number(readFileSync(marker, 'utf8'));
  child.kill('SIGTERM');
  assert.equal(await ended, 143);
  assert.equal(stderr, 'reprimage: interrupted by SIGTERM\n');
  // gone, or a zombie waiting for init to reap it (its parent, reprimage, has ended)
  const running = () => {
    try {
      return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${buildPid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 500 && running(); i++) await sleep(10);
  assert.ok(!running(), `the build (process ${buildPid}) still runs`);
  assert.deepEqual(readdirSync(work), []);
});

test('iuk with a full $TMPDIR: one line naming the kit and the scratch file, exit 2, nothing left in either place', (t) => {
  const disk = smallDisk(t);
  if (!disk) return;
  const root = tempDir(t);
  const oldDir = join(root, 'old');
  mkdirSync(oldDir);
  writeFileSync(join(oldDir, 'keep'), 'same\n');
  const newDir = makeSource(root);
  writeFileSync(join(newDir, 'keep'), 'same\n');
  const kit = join(root, 'upgrade.iuk');
  const r = runCli(['iuk', oldDir, newDir, '-o', kit, '--comp', 'gzip', '--source-date-epoch', EPOCH], { env: { TMPDIR: disk } });
  assert.match(r.stderr, new RegExp(`^reprimage: ${kit} \\(scratch file ${disk}/reprimage-iuk-[^/]+/delta\\.squashfs\\): no space left on device\\n$`));
  assert.equal(r.status, 2);
  assert.deepEqual(readdirSync(disk), []);
  assert.deepEqual(readdirSync(root).sort(), ['old', 'src']);
});
