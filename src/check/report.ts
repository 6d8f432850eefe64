/** The report of `reprimage check`, as text for people and as JSON for machines. */
import { renderText } from '../diff/presenters/text.js';
import { toJson } from '../diff/presenters/json.js';
import type { CheckReport } from './check.js';

export function renderCheckText(r: CheckReport, options: { maxReportSize?: number } = {}): string {
  const out: string[] = [];
  out.push(`reprimage check: ${r.title}, built ${r.builds} times (control ${r.seconds.control.toFixed(1)} s, experiment ${r.seconds.experiment.toFixed(1)} s, total ${r.seconds.total.toFixed(1)} s)`);
  out.push('variations applied to the experiment build:');
  if (r.applied.length === 0) out.push('  (none)');
  for (const v of r.applied) out.push(`  ${v.id.padEnd(16)} ${v.what}: ${v.control} -> ${v.experiment}${v.note ? ` (${v.note})` : ''}`);
  if (r.skipped.length > 0) {
    out.push('variations skipped (not tested):');
    for (const s of r.skipped) out.push(`  ${s.id.padEnd(16)} ${s.what}: ${s.reason}`);
  }
  out.push('artifacts:');
  for (const a of r.artifacts) out.push(`  ${a.identical ? 'identical' : 'DIFFERENT'}  ${a.path}`);
  if (r.bisect) {
    const b = r.bisect;
    out.push(`bisect (${b.trials.length} more builds):`);
    if (b.differsWithoutVariations) out.push('  the build differs even with no variation: it is not reproducible in the same environment (time of day, randomness, or something check does not vary)');
    else if (b.causes.length > 0) out.push(`  caused by: ${b.causes.join(', ')} (each one alone makes the artifacts differ)`);
    else if (b.combination) out.push(`  no single variation makes a difference; together these do: ${b.combination.join(', ')}`);
    else out.push('  no variation alone reproduces the difference');
    for (const t of b.trials) {
      const verdict = t.differs === 'error' ? `build failed: ${t.error}` : t.differs ? 'differs' : 'identical';
      out.push(`    ${(t.variations.length === 0 ? '(no variation)' : t.variations.join(', ')).padEnd(40)} ${verdict}`);
    }
  }
  if (r.reproducible) {
    out.push(`result: reproducible under ${r.applied.length} variation${r.applied.length === 1 ? '' : 's'}${r.skipped.length > 0 ? ` (${r.skipped.length} skipped, not tested)` : ''}`);
  } else {
    out.push('result: NOT reproducible');
  }
  if (r.workDir) out.push(`work directory kept: ${r.workDir}`);
  let text = `${out.join('\n')}\n`;
  for (const a of r.artifacts) if (a.difference) text += `\n${renderText(a.difference, { maxReportSize: options.maxReportSize })}`;
  return text;
}

/** The `schema` of `check --json` (docs/json.md): its name and major version. */
export const CHECK_JSON_SCHEMA = 'reprimage-check/1';

export function renderCheckJson(r: CheckReport): string {
  return `${JSON.stringify({
    schema: CHECK_JSON_SCHEMA,
    title: r.title,
    command: r.command,
    reproducible: r.reproducible,
    applied: r.applied,
    skipped: r.skipped,
    artifacts: r.artifacts.map((a) => ({ path: a.path, identical: a.identical, difference: a.difference ? toJson(a.difference) : null })),
    bisect: r.bisect ?? null,
    builds: r.builds,
    seconds: r.seconds,
    workDir: r.workDir ?? null,
  }, null, 2)}\n`;
}
