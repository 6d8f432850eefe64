// `ls`, `pack`, `normalize` and `check --json`: each document names its schema, and its keys are
// the ones docs/json.md lists for that schema, in the order listed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { REPO, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tools.js';

/** The tables of docs/json.md under the heading naming `schema`: their first-column keys, in order. */
function documentedTables(schema: string): string[][] {
  const text = readFileSync(join(REPO, 'docs/json.md'), 'utf8');
  const section = text.split(/^## /m).find((s) => s.split('\n', 1)[0]!.includes(`\`${schema}\``));
  assert.ok(section, `docs/json.md has a section for ${schema}`);
  const tables: string[][] = [];
  let current: string[] | undefined;
  for (const line of section.split('\n')) {
    const m = /^\| ([^|]+) \|/.exec(line);
    if (!m || /^\|[-|]+$/.test(line)) {
      if (!line.startsWith('|')) current = undefined;
      continue;
    }
    if (m[1]!.trim() === 'key') {
      current = [];
      tables.push(current);
      continue;
    }
    current?.push(...m[1]!.split(',').map((k) => k.trim().replace(/`/g, '')));
  }
  return tables;
}

/** Every key of `object` is documented, in the documented order. */
function assertKeys(object: object, documented: string[], what: string): void {
  const keys = Object.keys(object);
  for (const k of keys) assert.ok(documented.includes(k), `${what}: key ${k} is not in docs/json.md`);
  assert.deepEqual(keys, documented.filter((k) => keys.includes(k)), `${what}: keys in the documented order`);
}

test('ls, pack, normalize and check --json name their schema and use only the documented keys', (t) => {
  const dir = tempDir(t, 'reprimage-json-');
  const tree = join(dir, 'tree');
  mkdirSync(tree);
  writeFileSync(join(tree, 'a'), 'a');
  symlinkSync('a', join(tree, 'link'));
  const tar = join(dir, 't.tar');

  const pack = runCli(['pack', tree, '-o', tar, '--source-date-epoch', '1700000000', '--json']);
  assert.equal(pack.status, 0, pack.stderr);
  const packed = JSON.parse(pack.stdout) as { schema: string };
  assert.equal(packed.schema, 'reprimage-pack/1');
  assertKeys(packed, documentedTables('reprimage-pack/1')[0]!, 'pack');

  const ls = JSON.parse(runCli(['ls', '--json', tar]).stdout) as { schema: string; entries: object[] };
  assert.equal(ls.schema, 'reprimage-ls/1');
  const [lsKeys, entryKeys] = documentedTables('reprimage-ls/1');
  assertKeys(ls, lsKeys!, 'ls');
  for (const e of ls.entries) assertKeys(e, entryKeys!, 'ls entry');

  const gz = join(dir, 'x.gz');
  const bytes = gzipSync(Buffer.from('x'));
  bytes.writeUInt32LE(2_000_000_000, 4);
  writeFileSync(gz, bytes);
  writeFileSync(join(dir, 'broken.gz'), bytes.subarray(0, 12));
  const normalize = runCli(['normalize', '--json', '--timestamp', '1700000000', gz, join(dir, 'broken.gz')]);
  assert.equal(normalize.status, 2, 'a broken file is an error, reported in the document too');
  const normalized = JSON.parse(normalize.stdout) as { schema: string; files: object[] };
  assert.equal(normalized.schema, 'reprimage-normalize/1');
  const [normalizeKeys, fileKeys] = documentedTables('reprimage-normalize/1');
  assertKeys(normalized, normalizeKeys!, 'normalize');
  for (const f of normalized.files) assertKeys(f, fileKeys!, 'normalize file');

  const check = runCli(['check', '--json', '--keep', '--work-dir', join(dir, 'work'), '--only', 'umask', '--artifact', 'o', '--', 'sh', '-c', 'umask > o']);
  assert.equal(check.status, 1, check.stderr);
  const checked = JSON.parse(check.stdout) as { schema: string; workDir: string };
  assert.equal(checked.schema, 'reprimage-check/1');
  assertKeys(checked, documentedTables('reprimage-check/1')[0]!, 'check');
  assert.equal(checked.workDir, join(dir, 'work'));
  assert.match(check.stderr, new RegExp(`^reprimage: work directory kept: ${join(dir, 'work')}$`, 'm'), '--keep says where');
});

test('check: a failed build without --keep does not point at its removed log; with --keep the log it names exists', (t) => {
  const dir = tempDir(t, 'reprimage-check-log-');
  const args = ['--only', 'umask', '--artifact', 'o', '--', 'sh', '-c', 'echo broken >&2; exit 3'];
  const removed = runCli(['check', ...args]);
  assert.equal(removed.status, 2);
  assert.doesNotMatch(removed.stderr, /log: /);
  assert.match(removed.stderr, /exited 3: broken \(rerun with --keep to keep its log\)/);
  const kept = runCli(['check', '--keep', '--work-dir', join(dir, 'w'), ...args]);
  assert.equal(kept.status, 2);
  const log = /\(log: ([^)]+)\)/.exec(kept.stderr)?.[1];
  assert.ok(log !== undefined, kept.stderr);
  assert.equal(readFileSync(log, 'utf8'), 'broken\n');
});
