// The bisect logic of `reprimage check` on simulated builds, and the parsing of its options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findCauses, type BisectTrial } from '../../src/check/check.js';
import { planFromCommand, planFromRecipe } from '../../src/check/plan.js';
import { parseVariationList, type Variation, type VariationId } from '../../src/check/variations.js';
import { isReprimageError } from '../../src/errors.js';

const ALL: VariationId[] = ['environment', 'umask', 'locale', 'timezone', 'hostname', 'clock'];
const variations: Variation[] = ALL.map((id) => ({ id, what: id, control: 'a', experiment: 'b', vary: () => undefined }));

/** A simulated build: differs when `rule` says so for the enabled set. */
function simulate(rule: (enabled: Set<VariationId>) => boolean | 'error') {
  const seen: VariationId[][] = [];
  const differs = async (enabled: readonly Variation[]): Promise<BisectTrial> => {
    const ids = enabled.map((v) => v.id);
    seen.push(ids);
    const r = rule(new Set(ids));
    return { variations: ids, differs: r };
  };
  return { differs, seen };
}

test('one cause: the baseline, then one build per variation, and exactly that one is named', async () => {
  const { differs, seen } = simulate((s) => s.has('clock'));
  const r = await findCauses(variations, differs);
  assert.deepEqual(r.causes, ['clock']);
  assert.equal(r.differsWithoutVariations, false);
  assert.equal(r.combination, undefined);
  assert.equal(seen.length, 1 + ALL.length);
  assert.deepEqual(seen[0], []);
});

test('two independent causes are both named', async () => {
  const r = await findCauses(variations, simulate((s) => s.has('timezone') || s.has('locale')).differs);
  assert.deepEqual(r.causes, ['locale', 'timezone']);
});

test('an interaction of two variations is narrowed to exactly those two', async () => {
  const r = await findCauses(variations, simulate((s) => s.has('umask') && s.has('hostname')).differs);
  assert.deepEqual(r.causes, []);
  assert.deepEqual(r.combination, ['umask', 'hostname']);
});

test('an interaction of three is narrowed to those three', async () => {
  const r = await findCauses(variations, simulate((s) => s.has('environment') && s.has('locale') && s.has('clock')).differs);
  assert.deepEqual(r.combination, ['environment', 'locale', 'clock']);
});

test('a build that differs with no variation stops the search: nothing is blamed', async () => {
  const { differs, seen } = simulate(() => true);
  const r = await findCauses(variations, differs);
  assert.equal(r.differsWithoutVariations, true);
  assert.deepEqual(r.causes, []);
  assert.equal(seen.length, 1);
});

test('a build that fails under a variation is recorded as an error, not as a cause', async () => {
  const r = await findCauses(variations, simulate((s) => (s.has('hostname') ? 'error' : s.has('clock'))).differs);
  assert.deepEqual(r.causes, ['clock']);
  assert.ok(r.trials.some((t) => t.differs === 'error' && t.variations.join() === 'hostname'));
});

test('option parsing: variation lists, plans, the recipe extension point', () => {
  assert.deepEqual([...parseVariationList('clock, timezone,,umask', '--only')], ['clock', 'timezone', 'umask']);
  const usage = (e: unknown) => isReprimageError(e) && e.code === 'USAGE';
  assert.throws(() => parseVariationList('clock,sunspots', '--only'), usage);
  assert.throws(() => planFromCommand([], ['a']), usage);
  assert.throws(() => planFromCommand(['true'], []), usage);
  assert.throws(() => planFromCommand(['true'], ['/etc/passwd']), usage);
  assert.throws(() => planFromCommand(['true'], ['a/../../b']), usage);
  assert.match(planFromCommand(['sh', '-c', "echo 'x y'"], ['a']).title, /^the command `sh -c 'echo '\\''x y'\\'''`$/);
});

test('check RECIPE: the plan builds the recipe with reprimage build in a copy of its directory, the outputs as artifacts', async () => {
  const { join } = await import('node:path');
  const { REPO } = await import('../helpers/cli.js');
  const recipe = join(REPO, 'examples', 'bookworm-minimal', 'recipe.yaml');
  const plan = await planFromRecipe(recipe, '/var/cache/x');
  assert.equal(plan.source, join(REPO, 'examples', 'bookworm-minimal'));
  assert.ok(plan.command.includes('build') && plan.command.includes('{workers}'), plan.command.join(' '));
  assert.ok(plan.artifacts.length > 0 && plan.artifacts.every((a) => a.startsWith('out/')), plan.artifacts.join(' '));
  await assert.rejects(planFromRecipe(join(REPO, 'no-such-recipe.yaml'), '/var/cache/x'), (e: unknown) => isReprimageError(e) && e.code === 'NOT_FOUND');
});

test('a build copies its artifacts and the kept files it made beside them; a kept file it did not make is no error', async (t) => {
  const { mkdtempSync, readFileSync, existsSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { runBuild } = await import('../../src/check/runner.js');
  const work = mkdtempSync(join(tmpdir(), 'reprimage-check-kept-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const plan = { ...planFromCommand(['sh', '-c', 'mkdir out && echo image > out/a.img && echo record > out/manifest.json'], ['out/a.img']), kept: ['out/manifest.json', 'out/recipe-inputs.tar'] };
  const setup = { env: {}, umask: 0o022, buildDirName: 'build', workers: 1, disorderfs: false, wrappers: [] };
  const result = await runBuild(plan, setup, { work, name: 'control', timeoutSeconds: 60 });
  assert.equal(readFileSync(join(result.artifactsDir, 'out/a.img'), 'utf8'), 'image\n');
  assert.equal(readFileSync(join(result.artifactsDir, 'out/manifest.json'), 'utf8'), 'record\n');
  assert.equal(existsSync(join(result.artifactsDir, 'out/recipe-inputs.tar')), false);
});
