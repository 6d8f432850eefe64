/**
 * The gate of the network tier's recipe builds: mmdebstrap in root mode needs root, the tools
 * and deb.debian.org (or a warm cache). Locally a missing piece skips the test with the reason;
 * in CI (CI=true) it fails, so a landing cannot pass by skipping its slowest proofs.
 */
import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';
import { requireTool } from './tools.js';

export const DEBIAN_MIRROR_PROBE = 'http://deb.debian.org/debian/dists/bookworm/InRelease';

export function reachable(url: string): boolean {
  const probe = `fetch(${JSON.stringify(url)}, { method: 'HEAD', signal: AbortSignal.timeout(15000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;
  return spawnSync(process.execPath, ['-e', probe]).status === 0;
}

/** True when a recipe can be built here; otherwise skips `t` (or throws in CI) and returns false. */
export function requireRecipeBuild(t: TestContext): boolean {
  if (!requireTool(t, 'mmdebstrap', 'apt-get', 'unshare')) return false;
  const missing = process.getuid?.() !== 0 ? 'root (mmdebstrap root mode)' : !reachable(DEBIAN_MIRROR_PROBE) ? 'deb.debian.org' : undefined;
  if (missing === undefined) return true;
  if (process.env.CI === 'true') throw new Error(`the network tier needs ${missing}`);
  t.skip(`needs ${missing}`);
  return false;
}
