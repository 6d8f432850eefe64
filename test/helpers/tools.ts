/**
 * Running the reference tools in tests. A test that needs a tool calls `requireTool`: locally a
 * missing tool skips the test with a visible reason; in CI (CI=true) it fails, because .ci/run
 * installs every tool the tests use.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

const found = new Map<string, boolean>();

export function hasTool(name: string): boolean {
  if (!found.has(name)) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    found.set(name, r.status === 0);
  }
  return found.get(name)!;
}

/** Returns false (and marks the test skipped) when a tool is missing outside CI; throws in CI. */
export function requireTool(t: TestContext, ...names: string[]): boolean {
  const missing = names.filter((n) => !hasTool(n));
  if (missing.length === 0) return true;
  if (process.env.CI === 'true') throw new Error(`reference tool(s) missing in CI: ${missing.join(', ')}`);
  t.skip(`needs ${missing.join(', ')} (install with .ci/run)`);
  return false;
}

/** True in CI (CI=true), where .ci/run has installed everything the tests use. */
export const IN_CI = process.env.CI === 'true';

/**
 * For what a test cannot do here (no FUSE, no loop mounts, a variation that did not apply):
 * locally it skips `t` with the reason; in CI it throws, because there nothing may be skipped.
 */
export function skipOrFailInCi(t: TestContext, reason: string): void {
  if (IN_CI) throw new Error(`cannot be skipped in CI: ${reason}`);
  t.skip(reason);
}

export interface RunResult {
  status: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs a command synchronously; throws with its stderr when it exits non-zero (unless allowFail). */
export function run(cmd: string, args: string[], options: SpawnSyncOptions & { allowFail?: boolean } = {}): RunResult {
  const r = spawnSync(cmd, args, { maxBuffer: 1 << 30, ...options });
  if (r.error) throw r.error;
  const result = { status: r.status ?? -1, stdout: r.stdout as Buffer, stderr: String(r.stderr ?? '') };
  if (result.status !== 0 && !options.allowFail) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  }
  return result;
}

/** A fresh temporary directory, removed when the test ends. */
export function tempDir(t: TestContext, prefix = 'reprimage-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
