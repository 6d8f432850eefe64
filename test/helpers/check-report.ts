/**
 * `reprimage check --json` for the network tests of the bundled examples: runs it, parses its
 * report, and holds the list of variations docs/check.md says there are, so that a test can
 * require every one of them to apply in CI.
 */
import assert from 'node:assert/strict';
import { runCli } from './cli.js';
import { IN_CI } from './tools.js';

export interface CheckReport {
  reproducible: boolean;
  applied: Array<{ id: string; control: string; experiment: string; note?: string }>;
  skipped: Array<{ id: string; reason: string }>;
  artifacts: Array<{ path: string; identical: boolean; difference?: unknown }>;
  builds: number;
  seconds: { control: number; experiment: number; total: number };
}

/** Every variation `reprimage check` has (docs/check.md). */
export const VARIATIONS = ['build-path', 'clock', 'directory-order', 'environment', 'home', 'hostname', 'locale', 'timezone', 'umask', 'user', 'workers'];

/** `reprimage check --json ARGS`; a check that could not run (exit 2) fails the test. */
export function runCheck(args: string[]): CheckReport {
  const r = runCli(['check', '--json', '--no-progress', '--timeout', '5400', ...args]);
  assert.ok(r.status === 0 || r.status === 1, `check exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as CheckReport;
}

/**
 * Asserts that every variation was applied, and returns those that were not but may be missing
 * outside CI: as root with faketime, locales-all, unshare and disorderfs (.ci/run) all of them
 * apply; only the directory order needs FUSE, which a local machine or container may lack.
 */
export function assertVariations(report: CheckReport): string[] {
  const applied = report.applied.map((v) => v.id);
  assert.deepEqual(applied.filter((id) => !VARIATIONS.includes(id)), [], 'a variation this test does not know: add it to VARIATIONS and docs/check.md');
  const missing = VARIATIONS.filter((id) => !applied.includes(id));
  const tolerated = IN_CI ? [] : ['directory-order'];
  assert.deepEqual(missing.filter((id) => !tolerated.includes(id)), [], `variations not applied: ${describeCheck(report)}`);
  return missing;
}

export function describeCheck(report: CheckReport): string {
  const skipped = report.skipped.map((s) => `${s.id} (${s.reason})`).join('; ') || 'none';
  return `${report.builds} builds in ${report.seconds.total.toFixed(0)} s (control ${report.seconds.control.toFixed(0)} s, experiment ${report.seconds.experiment.toFixed(0)} s); applied: ${report.applied.map((v) => v.id).join(', ')}; skipped: ${skipped}`;
}
