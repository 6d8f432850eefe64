/**
 * `reprimage check`: build twice — a control build, then an experiment build with every
 * variation this machine can apply — and compare each artifact pair with reprimage's diff
 * engine. With `bisect`, find which variations cause a difference: first a build with none
 * (if that differs too, the build is not reproducible even in the same environment), then one
 * variation at a time, and when no single one explains it, narrow the whole set down to a
 * minimal one that still does.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { diffPaths } from '../diff/engine.js';
import type { Difference } from '../diff/difference.js';
import type { BuildPlan } from './plan.js';
import { runBuild } from './runner.js';
import { ReprimageError, isReprimageError } from '../errors.js';
import { throwIfAborted } from '../io/abort.js';
import { trackTemporary } from '../io/temporaries.js';
import { detectVariations, type BuildSetup, type SkippedVariation, type Variation, type VariationId } from './variations.js';

export interface CheckOptions {
  bisect: boolean;
  only?: ReadonlySet<VariationId>;
  exclude?: ReadonlySet<VariationId>;
  /** Where builds happen; default a new temporary directory, removed at the end unless `keep`. */
  workDir?: string;
  keep: boolean;
  timeoutSeconds: number;
  progress: (message: string) => void;
  warn: (message: string) => void;
  /** Stops the check (the running build is killed) with an ABORTED error; the work directory is removed unless `keep`. */
  signal?: AbortSignal;
}

export interface ArtifactResult {
  path: string;
  identical: boolean;
  difference?: Difference;
}

export interface BisectTrial {
  variations: VariationId[];
  /** true: an artifact differs from the control build's; 'error': the build failed. */
  differs: boolean | 'error';
  error?: string;
}

export interface BisectReport {
  /** The experiment build with no variation at all differed from the control. */
  differsWithoutVariations: boolean;
  /** Variations that cause a difference on their own. */
  causes: VariationId[];
  /** When no single variation does: a smallest set found that still causes the difference. */
  combination?: VariationId[];
  trials: BisectTrial[];
}

export interface CheckReport {
  title: string;
  command: string[];
  applied: Array<Omit<Variation, 'vary'>>;
  skipped: SkippedVariation[];
  artifacts: ArtifactResult[];
  reproducible: boolean;
  bisect?: BisectReport;
  builds: number;
  seconds: { control: number; experiment: number; total: number };
  workDir?: string;
}

export async function runCheck(plan: BuildPlan, options: CheckOptions): Promise<CheckReport> {
  throwIfAborted(options.signal, plan.title);
  const started = performance.now();
  const work = options.workDir === undefined ? await mkdtemp(join(tmpdir(), 'reprimage-check-')) : resolve(options.workDir);
  mkdirSync(work, { recursive: true });
  // an interrupted check removes its work directory as a finished one does (unless --keep)
  const tracked = options.keep ? undefined : trackTemporary(work, { directory: true });
  try {
    const homes = { control: join(work, 'home'), experiment: join(work, 'home-varied') };
    const variations = detectVariations({
      only: options.only,
      exclude: options.exclude,
      commandUsesWorkers: plan.command.some((a) => a.includes('{workers}')),
      homes,
    });
    for (const s of variations.skipped) options.progress(`variation ${s.id} skipped: ${s.reason}`);
    let builds = 0;
    const build = async (name: string, enabled: readonly Variation[]) => {
      const setup: BuildSetup = variations.control();
      for (const v of enabled) v.vary(setup);
      builds++;
      options.progress(`build ${builds}: ${name}${enabled.length > 0 ? ` (${enabled.map((v) => v.id).join(', ')})` : ''}`);
      try {
        return await runBuild(plan, setup, { work, name, timeoutSeconds: options.timeoutSeconds, signal: options.signal });
      } catch (e) {
        // the work directory, with the build's log, is removed below: do not point at it
        const log = `(log: ${join(work, `${name}.log`)})`;
        if (options.keep || !isReprimageError(e) || !e.detail.includes(log)) throw e;
        throw new ReprimageError(e.code, e.subject, e.detail.replace(log, '(rerun with --keep to keep its log)'));
      }
    };
    const control = await build('control', []);
    const experiment = await build('experiment', variations.applied);
    const artifacts: ArtifactResult[] = [];
    for (const path of plan.artifacts) {
      const difference = await diffPaths(join(control.artifactsDir, path), join(experiment.artifactsDir, path), { warn: options.warn, signal: options.signal });
      if (difference) relabel(difference, [[control.artifactsDir, 'control'], [experiment.artifactsDir, 'experiment']]);
      artifacts.push({ path, identical: difference === undefined, difference });
    }
    const reproducible = artifacts.every((a) => a.identical);
    let bisect: BisectReport | undefined;
    if (!reproducible && options.bisect) {
      const differs = async (enabled: readonly Variation[], name: string): Promise<BisectTrial> => {
        const ids = enabled.map((v) => v.id);
        try {
          const r = await build(name, enabled);
          for (const path of plan.artifacts) {
            if ((await diffPaths(join(control.artifactsDir, path), join(r.artifactsDir, path), { warn: options.warn, signal: options.signal })) !== undefined) return { variations: ids, differs: true };
          }
          return { variations: ids, differs: false };
        } catch (e) {
          if (isReprimageError(e) && e.code === 'ABORTED') throw e;
          return { variations: ids, differs: 'error', error: e instanceof Error ? e.message : String(e) };
        }
      };
      bisect = await findCauses(variations.applied, differs);
    }
    const total = (performance.now() - started) / 1000;
    return {
      title: plan.title,
      command: plan.command,
      applied: variations.applied.map(({ vary: _vary, ...rest }) => rest),
      skipped: variations.skipped,
      artifacts,
      reproducible,
      bisect,
      builds,
      seconds: { control: control.seconds, experiment: experiment.seconds, total },
      workDir: options.keep ? work : undefined,
    };
  } finally {
    if (!options.keep) await rm(work, { recursive: true, force: true });
    tracked?.release();
  }
}

/**
 * One variation at a time, then (if none alone explains the difference) removing variations
 * one by one from the whole set while the difference stays: a 1-minimal combination.
 */
export async function findCauses(applied: readonly Variation[], differs: (enabled: readonly Variation[], name: string) => Promise<BisectTrial>): Promise<BisectReport> {
  const trials: BisectTrial[] = [];
  let n = 0;
  const trial = async (enabled: readonly Variation[]) => {
    const t = await differs(enabled, `bisect-${++n}`);
    trials.push(t);
    return t;
  };
  const baseline = await trial([]);
  if (baseline.differs === true) return { differsWithoutVariations: true, causes: [], trials };
  const causes: VariationId[] = [];
  for (const v of applied) if ((await trial([v])).differs === true) causes.push(v.id);
  if (causes.length > 0 || applied.length < 2) return { differsWithoutVariations: false, causes, trials };
  let set = [...applied];
  for (const v of applied) {
    if (set.length <= 2) break;
    const without = set.filter((x) => x !== v);
    if ((await trial(without)).differs === true) set = without;
  }
  return { differsWithoutVariations: false, causes, combination: set.map((v) => v.id), trials };
}

/** Replaces the temporary directories in a report's paths by the names of the builds. */
function relabel(d: Difference, dirs: Array<[string, string]>): void {
  const fix = (s: string | undefined): string | undefined => {
    if (s === undefined) return s;
    for (const [dir, name] of dirs) if (s.startsWith(`${dir}/`)) return `${name}:${s.slice(dir.length + 1)}`;
    return s;
  };
  d.source1 = fix(d.source1)!;
  d.source2 = fix(d.source2)!;
  d.path1 = fix(d.path1);
  d.path2 = fix(d.path2);
  for (const e of [...(d.entry ? [d.entry] : []), ...(d.entries ?? [])]) {
    e.path1 = fix(e.path1);
    e.path2 = fix(e.path2);
  }
  for (const c of d.details) relabel(c, dirs);
}
