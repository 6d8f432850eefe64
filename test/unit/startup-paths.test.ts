/**
 * The light paths that keep start-up short (docs/benchmarks.md) must decide exactly as the full ones:
 * a `normalize` line parsed without commander gets commander's values, or is handed to
 * commander; the normalizer catalog lists the registry's normalizers, in its order, with the
 * same detectors. (The codec names `--version` prints from constants are checked against the
 * pinned packages in compress.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { NORMALIZE_ARGV_OPTIONS, parseNormalizeArgv } from '../../src/cli/normalize-argv.js';
import { NORMALIZER_CATALOG, findNormalizer, loadNormalizer } from '../../src/normalize/catalog.js';
import { NORMALIZERS } from '../../src/normalize/registry.js';
import { HANDLER_IDS } from '../../src/normalize/handler.js';
import { ReprimageError } from '../../src/errors.js';

/** What commander hands normalize's action for `args`, or the error it throws. */
async function commanderValues(args: string[]): Promise<{ paths: string[]; values: Record<string, unknown> } | Error> {
  const program = await buildProgram('normalize');
  const normalize = program.commands.find((c) => c.name() === 'normalize')!;
  let seen: { paths: string[]; values: Record<string, unknown> } | undefined;
  normalize.action((paths: string[], values: Record<string, unknown>) => {
    seen = { paths, values: { ...values } };
  });
  for (const c of [program, normalize]) c.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  try {
    await program.parseAsync(['node', 'reprimage', 'normalize', ...args]);
  } catch (e) {
    return e as Error;
  }
  return seen ?? new Error('no action');
}

test('a normalize line parsed without commander gets the values commander gives', async () => {
  const lines = [
    ['a.gz'],
    ['--timestamp', '1700000000', 'a.gz', 'b/'],
    ['--timestamp=1700000000', '--no-clamp', '-v', 'a.gz'],
    ['a.gz', '--check', '--json', '--workers', '3', '--type', 'gzip'],
    ['-vq', '--no-progress', '--color', 'never', 'a'],
    ['--color=always', '--timestamp', '5', '--timestamp', '6', 'x'],
    ['--', '--not-an-option', 'x'],
    ['-', 'x'],
    ['--type', 'nonsense', 'x'],
    ['--timestamp', '', 'x'],
  ];
  for (const line of lines) {
    const ours = parseNormalizeArgv(line);
    const theirs = await commanderValues(line);
    assert.ok(!(theirs instanceof Error), `${line.join(' ')}: commander refused it: ${String(theirs)}`);
    assert.ok(ours !== undefined, `${line.join(' ')}: handed to commander`);
    assert.deepEqual(ours, theirs, line.join(' '));
  }
});

test('a normalize line the light parser is unsure of goes to commander (help, unknown option, missing value)', async () => {
  const lines = [[], ['--help'], ['-h', 'x'], ['--bogus', 'x'], ['--timestamp'], ['--timestamp', '-5', 'x'], ['--check=yes', 'x'], ['--no-clamp=0', 'x'], ['-5', 'x'], ['--clamp', 'x']];
  for (const line of lines) assert.equal(parseNormalizeArgv(line), undefined, line.join(' '));
});

test('the light parser knows every option commander defines for normalize', async () => {
  const program = await buildProgram('normalize');
  const normalize: Command = program.commands.find((c) => c.name() === 'normalize')!;
  const theirs = normalize.options.map((o) => ({ name: o.long!.slice(2), takesValue: o.required || o.optional, short: o.short?.slice(1) }));
  const ours = Object.entries(NORMALIZE_ARGV_OPTIONS).map(([name, spec]) => ({ name, takesValue: spec.type === 'string', short: 'short' in spec ? spec.short : undefined }));
  const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
  assert.deepEqual(ours.sort(byName), theirs.sort(byName));
});

test('the normalizer catalog is the registry: same order, same detectors, its loaders give the same normalizers', async () => {
  assert.deepEqual(NORMALIZER_CATALOG.map((n) => n.id), NORMALIZERS.map((n) => n.id));
  assert.deepEqual([...NORMALIZER_CATALOG.map((n) => n.id)].sort(), [...HANDLER_IDS].sort());
  for (const [i, entry] of NORMALIZER_CATALOG.entries()) {
    assert.equal(entry.detect, NORMALIZERS[i]!.detect, `${entry.id}: the detector`);
    assert.equal(await entry.load(), NORMALIZERS[i], `${entry.id}: the normalizer`);
    assert.equal(await loadNormalizer(entry.id), NORMALIZERS[i]);
  }
  await assert.rejects(loadNormalizer('nonsense'), (e: unknown) => e instanceof ReprimageError && e.code === 'USAGE' && /unknown type 'nonsense'/.test(e.message));
  const gzip = Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2);
  assert.equal((await findNormalizer(gzip, gzip.length, 'a.gz'))?.id, 'gzip');
  assert.equal(await findNormalizer(new TextEncoder().encode('hello\n'), 6, 'a.txt'), undefined);
});
