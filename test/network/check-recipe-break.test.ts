/**
 * Reproducibility broken on purpose (docs/check.md): examples/bookworm-minimal with one more hook that
 * writes the date into /etc/build-date. `reprimage check RECIPE --bisect` must fail, name the
 * clock (faketime, which the build passes into the chroot) as the only cause, and its diff — and
 * `reprimage diff` of the two kept builds — must name that file and nothing else.
 * Costs 1 + 1 + (number of applied variations) builds of ~30 s each: four variations (the clock
 * among three that do not matter here) keep that to six builds; the live example's check applies
 * all of them, and test/unit/check.test.ts covers the search over every variation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, runCli } from '../helpers/cli.js';
import { requireRecipeBuild } from '../helpers/network.js';
import { requireTool, tempDir } from '../helpers/tools.js';

interface Difference {
  source1: string;
  details?: Difference[];
}

interface Report {
  reproducible: boolean;
  applied: Array<{ id: string }>;
  skipped: Array<{ id: string; reason: string }>;
  artifacts: Array<{ path: string; identical: boolean; difference: Difference | null }>;
  bisect: { differsWithoutVariations: boolean; causes: string[] } | null;
}

/** The innermost sources of a difference tree: the entries that actually differ. */
function leaves(d: Difference): string[] {
  return d.details?.length ? d.details.flatMap(leaves) : [d.source1];
}

test('a hook writing the date: check fails, --bisect names the clock, diff names /etc/build-date', { timeout: 30 * 60_000 }, (t) => {
  if (!requireTool(t, 'faketime') || !requireRecipeBuild(t)) return;
  const dir = tempDir(t, 'reprimage-check-break-');
  const recipeDir = join(dir, 'recipe');
  cpSync(join(REPO, 'examples/bookworm-minimal'), recipeDir, { recursive: true });
  writeFileSync(join(recipeDir, 'hooks/20-build-date.sh'), '#!/bin/sh\n# breaks reproducibility on purpose\ndate -u +%Y-%m-%d > /etc/build-date\n');
  const recipe = join(recipeDir, 'recipe.yaml');
  const text = readFileSync(recipe, 'utf8');
  assert.match(text, /\n {2}- hooks\/10-hostname\.sh\n/);
  writeFileSync(recipe, text.replace('\n  - hooks/10-hostname.sh\n', '\n  - hooks/10-hostname.sh\n  - hooks/20-build-date.sh\n'));

  const work = join(dir, 'work');
  const r = runCli(['check', recipe, '--bisect', '--only', 'umask,locale,timezone,clock', '--json', '--no-progress', '--keep', '--work-dir', work]);
  assert.equal(r.status, 1, `exit ${r.status}: ${r.stderr}`);
  const report = JSON.parse(r.stdout) as Report;
  assert.equal(report.reproducible, false);
  assert.deepEqual(report.applied.map((v) => v.id).sort(), ['clock', 'locale', 'timezone', 'umask'], `not applied: ${JSON.stringify(report.skipped)}`);
  assert.equal(report.bisect?.differsWithoutVariations, false, 'the same build twice without variations must be identical');
  assert.deepEqual(report.bisect?.causes, ['clock']);
  const [artifact] = report.artifacts;
  assert.equal(artifact?.path, 'out/rootfs.tar');
  assert.equal(artifact.identical, false);
  assert.deepEqual(leaves(artifact.difference!).map((s) => s.replace(/^.*?rootfs\.tar ▸ /, '').replace(/^\.\//, '')), ['etc/build-date']);

  const diff = runCli(['diff', join(work, 'control.artifacts/out/rootfs.tar'), join(work, 'experiment.artifacts/out/rootfs.tar')]);
  assert.equal(diff.status, 1, diff.stderr);
  assert.match(diff.stdout, /etc\/build-date/);
  // members are named by their headings (`├── ./etc/x`) and in the summary's largest changes (`┄   etc/x (…)`)
  const named = diff.stdout.split('\n').filter((l) => /^[│ ]*├── \.\//.test(l) || /^┄ {3}\S/.test(l));
  assert.ok(named.length > 0 && named.every((l) => l.includes('etc/build-date')), `diff names other files:\n${named.join('\n')}`);
  t.diagnostic(`variations applied: ${report.applied.map((v) => v.id).join(', ')}; skipped: ${report.skipped.map((s) => `${s.id} (${s.reason})`).join('; ') || 'none'}`);
});
