/**
 * Atomic output files (src/io/atomic-output.ts) and the temporary-file registry the CLI empties
 * on signals (src/io/temporaries.ts): the order fsync / rename / directory fsync, errors naming
 * the user's path rather than the temporary, stale temporaries of dead runs removed (and only
 * those), long target names, and temporaries removed by the registry as a signal handler does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import fsPromises from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { temporaryPathFor, writeAtomically } from '../../src/io/atomic-output.js';
import { afterCriticalSections, makeTemporaryDirectory, pendingOutputs, removeTemporariesSync, withoutInterruption } from '../../src/io/temporaries.js';
import { ReprimageError } from '../../src/errors.js';
import { tempDir } from '../helpers/tools.js';

const HOST = hostname().replace(/[^A-Za-z0-9-]/g, '-').slice(0, 32) || 'host';

/** The id of a process that has just ended (so no process has it, barring a quick reuse). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(String(r.stdout));
}

const bytes = (text: string) => async (sink: { write(b: Uint8Array): Promise<void> }) => sink.write(Buffer.from(text));

test('the file is synced before the rename and its directory after it', async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'out.img');
  const events: string[] = [];
  const probe = await open(join(dir, 'probe'), 'w');
  const handleProto = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
  await probe.close();
  const originalSync = handleProto.sync;
  const originalRename = fsPromises.rename;
  handleProto.sync = async function (this: { fd: number }) {
    const name = readlinkSync(`/proc/self/fd/${this.fd}`);
    events.push(name === dir ? 'sync directory' : name.endsWith('.tmp') ? 'sync temporary' : `sync ${name}`);
    return originalSync.call(this);
  };
  fsPromises.rename = async (from, to) => {
    events.push(`rename to ${String(to) === target ? 'target' : String(to)}`);
    return originalRename(from, to);
  };
  syncBuiltinESMExports();
  t.after(() => {
    handleProto.sync = originalSync;
    fsPromises.rename = originalRename;
    syncBuiltinESMExports();
  });
  await writeAtomically(target, bytes('whole'));
  assert.deepEqual(events, ['sync temporary', 'rename to target', 'sync directory']);
  assert.equal(readFileSync(target, 'utf8'), 'whole');
});

test('an output in a missing directory is named in the error, not its temporary', async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'no-such-dir', 'out.img');
  await assert.rejects(writeAtomically(target, bytes('x')), (e: unknown) => e instanceof ReprimageError && e.message === `${target}: no such file or directory`);
});

test('a rename refused (the target is a directory) names the target and leaves no temporary', async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'out.img');
  mkdirSync(join(target, 'inside'), { recursive: true });
  await assert.rejects(writeAtomically(target, bytes('x')), (e: unknown) => e instanceof ReprimageError && e.message.startsWith(`${target}: `) && !e.message.includes('.tmp'));
  assert.deepEqual(readdirSync(dir), ['out.img']);
});

test('a failed producer keeps the old file byte for byte and leaves no temporary', async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'out.img');
  writeFileSync(target, 'the old image');
  await assert.rejects(
    writeAtomically(target, async (sink) => {
      await sink.write(new Uint8Array(3 << 20));
      throw new RangeError('a bug in a writer');
    }),
    RangeError,
  );
  assert.equal(readFileSync(target, 'utf8'), 'the old image');
  assert.deepEqual(readdirSync(dir), ['out.img']);
});

test('stale temporaries of a dead run are removed; a live run, another host or another file keep theirs', async (t) => {
  const dir = tempDir(t);
  const dead = deadPid();
  const names = {
    stale: `.out.img.${HOST}.${dead}.0.tmp`,
    staleToo: `.out.img.${HOST}.${dead}.7.tmp`,
    live: `.out.img.${HOST}.${process.ppid}.0.tmp`, // our parent runs
    otherHost: `.out.img.${HOST}x.${dead}.0.tmp`,
    otherFile: `.other.img.${HOST}.${dead}.0.tmp`,
    notOurs: '.out.img.notes.tmp',
  };
  for (const n of Object.values(names)) writeFileSync(join(dir, n), 'partial');
  await writeAtomically(join(dir, 'out.img'), bytes('new'));
  assert.deepEqual(readdirSync(dir).sort(), [names.live, names.otherHost, names.otherFile, names.notOurs, 'out.img'].sort());
  // the other file's stale temporary goes when that file is written
  await writeAtomically(join(dir, 'other.img'), bytes('new'));
  assert.ok(!existsSync(join(dir, names.otherFile)));
});

test('a target name of 250 bytes still gets a temporary (names are cut and hashed, not overflowed)', async (t) => {
  const dir = tempDir(t);
  const target = join(dir, `${'n'.repeat(246)}.img`);
  const temp = temporaryPathFor(target);
  assert.ok(Buffer.byteLength(temp.slice(dir.length + 1)) < 255, temp);
  await writeAtomically(target, bytes('long'));
  assert.equal(readFileSync(target, 'utf8'), 'long');
  assert.deepEqual(readdirSync(dir), [`${'n'.repeat(246)}.img`]);
});

test('the registry names the output being written and removes its temporary (as the CLI does on SIGINT)', async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'out.img');
  writeFileSync(target, 'old');
  const scratch = await makeTemporaryDirectory('reprimage-test-scratch-');
  writeFileSync(join(scratch.path, 'inside'), 'x');
  let seen: string[] = [];
  await assert.rejects(
    writeAtomically(target, async (sink) => {
      await sink.write(Buffer.from('partial'));
      await sink.flush();
      assert.equal(readdirSync(dir).filter((n) => n.endsWith('.tmp')).length, 1);
      seen = pendingOutputs();
      removeTemporariesSync(); // what the SIGINT handler does, before it exits
      assert.deepEqual(readdirSync(dir), ['out.img']);
      assert.ok(!existsSync(scratch.path), 'tracked directories go too');
      throw new Error('interrupted');
    }),
    /interrupted/,
  );
  assert.deepEqual(seen, [target]);
  assert.deepEqual(pendingOutputs(), []);
  assert.equal(readFileSync(target, 'utf8'), 'old');
  await scratch.remove(); // already gone: no error
});

test('a signal that comes during a section that must not be cut short is acted on when it ends', async () => {
  const calls: string[] = [];
  afterCriticalSections(() => calls.push('at once: nothing in progress'));
  let finish!: () => void;
  const section = withoutInterruption(async () => {
    await new Promise<void>((resolve) => (finish = resolve));
    calls.push('section done');
  });
  // the command's end and the signal handler's grace may both wait: each is run
  afterCriticalSections(() => calls.push('exit after the section'));
  afterCriticalSections(() => calls.push('grace after the section'));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(calls, ['at once: nothing in progress']);
  finish();
  await section;
  assert.deepEqual(calls, ['at once: nothing in progress', 'section done', 'exit after the section', 'grace after the section']);
});

test('an AbortSignal abandons the write: the call rejects with an ABORTED error carrying its reason, no temporary and no target remain', async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'out.img');
  const controller = new AbortController();
  const written = writeAtomically(
    target,
    async (sink) => {
      await sink.write(Buffer.from('part'));
      controller.abort(new Error('stopped by the caller'));
      await new Promise((r) => setTimeout(r, 20));
      await sink.write(Buffer.from('more')); // buffered, or failing on the closed file: either way unseen
      await sink.flush();
    },
    { signal: controller.signal },
  );
  await assert.rejects(written, { name: 'ReprimageError', code: 'ABORTED', message: `${target}: aborted: stopped by the caller` });
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual(readdirSync(dir), []);
  // an already aborted signal writes nothing at all
  await assert.rejects(writeAtomically(target, bytes('x'), { signal: AbortSignal.abort() }), { name: 'ReprimageError', code: 'ABORTED' });
  assert.deepEqual(readdirSync(dir), []);
});
