/**
 * Whether this machine may rebuild what a manifest describes. The reprimage version and the codec
 * implementations decide output bytes by construction (DESIGN.md rule 6), so they must be the
 * recorded ones. The host tools that drive the package scripts (mmdebstrap, apt, dpkg) are
 * recorded too; by default their versions must be the recorded ones as well, and an operator
 * who accepts other versions says so (`--allow-tool-versions`), which is noted in the report.
 */
import { codecVersions } from '../compress/registry.js';
import { reprimageVersion } from '../recipe/manifest.js';
import { hostPackageVersion } from '../recipe/rootfs.js';
import type { PublishedManifest } from './published-manifest.js';
import { CannotRebuild } from './verdict.js';

export interface ToolsHere {
  reprimage: string;
  codecs: Array<{ codec: string; implementation: string }>;
  tools: Record<string, string>;
}

export function toolsHere(names: readonly string[]): ToolsHere {
  return { reprimage: reprimageVersion(), codecs: codecVersions(), tools: Object.fromEntries(names.map((n) => [n, hostPackageVersion(n)])) };
}

/**
 * Throws CannotRebuild when a version that decides the bytes differs; returns notes for host
 * tools that differ but are allowed.
 */
export function checkCompatibility(m: PublishedManifest, here: ToolsHere, allowToolVersions: boolean): string[] {
  if (m.reprimageVersion !== here.reprimage) {
    throw new CannotRebuild(m.location, `built with reprimage ${m.reprimageVersion}, this is reprimage ${here.reprimage} (the version decides the bytes: rebuild with ${m.reprimageVersion})`);
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
