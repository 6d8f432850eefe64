/**
 * Whether this machine may rebuild what a manifest describes. The reprimage version and the codec
 * implementations decide output bytes by construction (docs/design.md rule 6): the codecs must be
 * the recorded ones, and this reprimage must be one of the versions the manifest records as giving
 * the same bytes (its version, back to `same_bytes_since`), or declare itself the same bytes as
 * one of them (versions.ts). The host tools that drive the package scripts (mmdebstrap, apt, dpkg) are
 * recorded too; by default their versions must be the recorded ones as well, and an operator
 * who accepts other versions says so (`--allow-tool-versions`), which is noted in the report.
 */
import { codecVersions } from '../compress/registry.js';
import { SAME_BYTES_SINCE, reprimageVersion } from '../recipe/manifest.js';
import { hostPackageVersion } from '../recipe/rootfs.js';
import type { PublishedManifest } from './published-manifest.js';
import { CannotRebuild } from './verdict.js';
import { rangeText, rangesMeet, sameBytesRange } from './versions.js';

export interface ToolsHere {
  reprimage: string;
  /** The oldest version that gives this version's bytes. */
  sameBytesSince: string;
  codecs: Array<{ codec: string; implementation: string }>;
  tools: Record<string, string>;
}

export function toolsHere(names: readonly string[]): ToolsHere {
  return { reprimage: reprimageVersion(), sameBytesSince: SAME_BYTES_SINCE, codecs: codecVersions(), tools: Object.fromEntries(names.map((n) => [n, hostPackageVersion(n)])) };
}

/**
 * Throws CannotRebuild when a version that decides the bytes differs; returns notes for host
 * tools that differ but are allowed.
 */
export function checkCompatibility(m: PublishedManifest, here: ToolsHere, allowToolVersions: boolean): string[] {
  const built = sameBytesRange(m.reprimageVersion, m.reprimageSameBytesSince);
  const mine = sameBytesRange(here.reprimage, here.sameBytesSince);
  if (!rangesMeet(built, mine)) {
    throw new CannotRebuild(m.location, `built with reprimage ${m.reprimageVersion} (the same bytes as ${rangeText(built)}); this is reprimage ${here.reprimage} (the same bytes as ${rangeText(mine)}): rebuild with reprimage ${rangeText(built)}`);
  }
  const recorded = new Map(m.codecs.map((c) => [c.codec, c.implementation]));
  for (const c of here.codecs) {
    const then = recorded.get(c.codec);
    if (then !== undefined && then !== c.implementation) throw new CannotRebuild(m.location, `codec ${c.codec} was ${then}, here it is ${c.implementation}`);
  }
  const notes: string[] = [];
  for (const [tool, then] of Object.entries(m.tools)) {
    const now = here.tools[tool] ?? 'not installed';
    if (now === then) continue;
    if (now === 'not installed') throw new CannotRebuild(m.location, `the build used ${tool} ${then}, which is not installed here`);
    if (!allowToolVersions) throw new CannotRebuild(m.location, `the build used ${tool} ${then}, here it is ${now} (the manifest allows only the recorded version; --allow-tool-versions accepts others)`);
    notes.push(`${tool} ${now} here, ${then} in the build (allowed by --allow-tool-versions)`);
  }
  return notes;
}
