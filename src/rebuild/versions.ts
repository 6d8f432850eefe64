/**
 * Ranges of reprimage versions that give the same bytes. A manifest records the version that
 * built it and the oldest version known to give the same bytes (`same_bytes_since`); this
 * reprimage knows the same of itself. Two versions give the same bytes when their ranges meet:
 * each range is an unbroken run of releases with one output, so ranges that share a version are
 * the same run.
 */
export interface SameBytesRange {
  from: string;
  to: string;
}

type Parsed = { core: number[]; pre: string | undefined };

/** MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD] (semver 2.0.0 §2, §9, §10), else undefined. */
function parse(version: string): Parsed | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(version);
  return m ? { core: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] } : undefined;
}

/** Semver precedence (§11); undefined when either is not a version (then only equal strings compare). */
export function compareVersions(a: string, b: string): number | undefined {
  if (a === b) return 0;
  const [pa, pb] = [parse(a), parse(b)];
  if (!pa || !pb) return undefined;
  for (let i = 0; i < 3; i++) if (pa.core[i] !== pb.core[i]) return pa.core[i]! < pb.core[i]! ? -1 : 1;
  if (pa.pre === pb.pre) return 0;
  if (pa.pre === undefined) return 1; // a release follows its pre-releases
  if (pb.pre === undefined) return -1;
  const [xa, xb] = [pa.pre.split('.'), pb.pre.split('.')];
  for (let i = 0; i < Math.min(xa.length, xb.length); i++) {
    const [na, nb] = [/^\d+$/.test(xa[i]!), /^\d+$/.test(xb[i]!)];
    if (xa[i] === xb[i]) continue;
    if (na && nb) return Number(xa[i]) < Number(xb[i]) ? -1 : 1;
    if (na !== nb) return na ? -1 : 1; // numeric identifiers sort first
    return xa[i]! < xb[i]! ? -1 : 1;
  }
  return Math.sign(xa.length - xb.length);
}

/** The range a manifest records: from `since` (when it is a version not after `version`) to `version`. */
export function sameBytesRange(version: string, since: string | undefined): SameBytesRange {
  const order = since === undefined ? undefined : compareVersions(since, version);
  return order !== undefined && order <= 0 ? { from: since!, to: version } : { from: version, to: version };
}

/** Whether the two ranges share a version. */
export function rangesMeet(a: SameBytesRange, b: SameBytesRange): boolean {
  const notAfter = (x: string, y: string) => {
    const order = compareVersions(x, y);
    return order !== undefined && order <= 0;
  };
  return notAfter(a.from, b.to) && notAfter(b.from, a.to);
}

export function rangeText(r: SameBytesRange): string {
  return r.from === r.to ? r.from : `${r.from} to ${r.to}`;
}
