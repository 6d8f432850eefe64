/**
 * The record of a verification: an in-toto Statement (v1) whose subject is the published image
 * and whose predicate (reprimage's own type) says what was rebuilt from what, and the verdict.
 * Like the build's provenance it holds no time and no host name: two rebuilders that agree
 * write the same statement, so statements from independent rebuilders can be compared byte for
 * byte. Signing it is left to the caller (the rebuilderd worker signs its own attestation).
 */
import type { RebuildReport } from './report.js';

export const REBUILD_PREDICATE_TYPE = 'https://reprimage.invalid/rebuild/v1';

export function rebuildStatement(r: RebuildReport): object {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: r.image, digest: { sha256: r.published.sha256 } }],
    predicateType: REBUILD_PREDICATE_TYPE,
    predicate: {
      verdict: r.verdict,
      ...(r.reason === undefined ? {} : { reason: r.reason }),
      published: { uri: r.published.uri, digest: { sha256: r.published.sha256 }, size: r.published.size, listed_in_manifest: r.published.listed },
      ...(r.rebuilt === undefined ? {} : { rebuilt: { digest: { sha256: r.rebuilt.sha256 }, size: r.rebuilt.size, reused: r.rebuilt.reused } }),
      inputs: {
        manifest: { uri: r.manifest.uri, digest: { sha256: r.manifest.sha256 }, reproducible_sha256: r.manifest.reproducible_sha256 },
        recipe: r.inputs.recipe,
        lock: r.inputs.lock,
        ...(r.inputs.bundle === undefined ? {} : { bundle: r.inputs.bundle }),
        source_date_epoch: r.inputs.source_date_epoch,
        packages: r.inputs.packages,
      },
      verifier: { id: 'reprimage rebuild', version: { reprimage: r.tools.reprimage, ...r.tools.host } },
      ...(r.differences === undefined ? {} : { differences: r.differences }),
      notes: r.notes,
    },
  };
}
