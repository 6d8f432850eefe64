/**
 * `npm run fuzz`: runs every fuzz target (or those named) for a set number of inputs, one target
 * at a time, each in its own worker thread, and prints the inputs run, the coverage reached and
 * the findings per target. Findings and the growing corpus go to fuzz-out/<target>/.
 *
 *   npm run fuzz                          # 1,000,000 inputs per target
 *   npm run fuzz -- --runs 2000           # quick mode
 *   npm run fuzz -- --max-seconds 120     # at most two minutes per target
 *   npm run fuzz -- --runs 50000 tar cpio # some targets
 *   npm run fuzz -- --replay FILE tar     # run one input against dist/src, print what escapes
 *
 * A worker that does not finish an input within --hang-ms (default 10 s) is ended and its input
 * saved as a hang; one that runs out of memory, or stops because an input's promise never
 * settles (nothing left pending), likewise. Either way the target goes on in a new
 * worker until its inputs are done.
 */
import { Worker } from 'node:worker_threads';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { instrumentTree, instrumentedCopyIsFresh } from './instrument.js';
import { TARGETS, findTarget, prepare } from './targets.js';
import type { LoopOptions, Progress } from './loop.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = resolve(here, '../..');
const distSrc = join(root, 'dist/src');
const covSrc = join(root, 'dist/fuzz-coverage/src');

interface Args {
  runs: number;
  maxSeconds: number;
  seed: number;
  timeoutMs: number;
  hangMs: number;
  allocLimit: number;
  maxLen: number;
  out: string;
  targets: string[];
  replay?: string;
  list: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { runs: 1_000_000, maxSeconds: 0, seed: 1, timeoutMs: 1000, hangMs: 10_000, allocLimit: 256 * 1024 * 1024, maxLen: 1 << 20, out: join(root, 'fuzz-out'), targets: [], list: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--runs') a.runs = Number(value());
    else if (arg === '--max-seconds') a.maxSeconds = Number(value());
    else if (arg === '--seed') a.seed = Number(value());
    else if (arg === '--timeout-ms') a.timeoutMs = Number(value());
    else if (arg === '--hang-ms') a.hangMs = Number(value());
    else if (arg === '--alloc-limit') a.allocLimit = Number(value());
    else if (arg === '--max-len') a.maxLen = Number(value());
    else if (arg === '--out') a.out = resolve(value());
    else if (arg === '--replay') a.replay = value();
    else if (arg === '--list') a.list = true;
    else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}`);
    else a.targets.push(arg);
  }
  for (const t of a.targets) findTarget(t);
  return a;
}

/** Runs one target to its number of inputs, in as many workers as hangs and crashes of the worker need. */
async function fuzzTarget(name: string, args: Args, counters: number): Promise<Progress & { restarts: number; seconds: number }> {
  const out = join(args.out, name);
  mkdirSync(join(out, 'findings'), { recursive: true });
  const started = performance.now();
  let left = args.runs;
  let restarts = 0;
  const total: Progress = { execs: 0, corpus: 0, edges: 0, features: 0, findings: 0, slowest: 0, done: false };
  while (left > 0) {
    const shared = new SharedArrayBuffer(8 + args.maxLen);
    const header = new Int32Array(shared, 0, 2);
    const options: LoopOptions = { target: name, lib: covSrc, root, runs: left, maxSeconds: args.maxSeconds > 0 ? Math.max(1, args.maxSeconds - (performance.now() - started) / 1000) : 0, seed: args.seed + restarts, counters, timeoutMs: args.timeoutMs, allocLimit: args.allocLimit, maxLen: args.maxLen, out, shared };
    let last: Progress | undefined;
    const ended = await new Promise<string | undefined>((done) => {
      const worker = new Worker(new URL('./loop.js', import.meta.url), { workerData: options, resourceLimits: { maxOldGenerationSizeMb: 2048 } });
      let seen = -1;
      let since = performance.now();
      const watch = setInterval(() => {
        const now = Atomics.load(header, 0);
        if (now !== seen) {
          seen = now;
          since = performance.now();
        } else if (performance.now() - since > args.hangMs && seen > 0) {
          clearInterval(watch);
          void worker.terminate().then(() => done('hang'));
        }
      }, 100);
      worker.on('message', (m: { progress?: Progress; finding?: { name: string; kind: string; detail: string } }) => {
        if (m.progress) {
          last = m.progress;
          process.stdout.write(`  ${name}: ${m.progress.execs} inputs, ${m.progress.edges} edges, ${m.progress.features} features, corpus ${m.progress.corpus}, findings ${m.progress.findings}\n`);
        }
        if (m.finding) process.stdout.write(`  ${name}: FINDING ${m.finding.kind} ${m.finding.name}: ${m.finding.detail.split('\n')[0]}\n`);
      });
      worker.on('error', (e) => {
        clearInterval(watch);
        done(`worker failed: ${e.message}`);
      });
      worker.on('exit', (code) => {
        clearInterval(watch);
        // a worker that stops before its last report left an input's promise unsettled with
        // nothing pending: the event loop emptied, as a CLI run would, silently
        done(last?.done ? undefined : `stalled: the worker stopped (exit status ${code}) before its last report: an input never settled, or the worker ran out of memory`);
      });
    });
    const execs = last?.execs ?? 0;
    total.execs += execs;
    total.corpus = Math.max(total.corpus, last?.corpus ?? 0);
    total.edges = Math.max(total.edges, last?.edges ?? 0);
    total.features = Math.max(total.features, last?.features ?? 0);
    total.findings += last?.findings ?? 0;
    total.slowest = Math.max(total.slowest, last?.slowest ?? 0);
    if (ended === undefined) break;
    // save the input that was running when the worker hung or died
    const length = header[1]!;
    const input = new Uint8Array(shared, 8, length).slice();
    const file = join(out, 'findings', `${name}-${ended.split(/[: ]/)[0]}-${Date.now()}`);
    writeFileSync(file, input);
    writeFileSync(`${file}.txt`, `${ended}\n`);
    process.stdout.write(`  ${name}: FINDING ${ended}; input saved to ${file}\n`);
    total.findings++;
    restarts++;
    // the inputs the dead worker ran are counted from its shared counter
    const ran = Math.max(Atomics.load(header, 0), execs);
    left -= Math.max(ran, 1);
    if (restarts > 20) break;
  }
  total.done = true;
  return { ...total, restarts, seconds: Math.round((performance.now() - started) / 1000) };
}

async function replay(file: string, name: string): Promise<number> {
  const run = await prepare(findTarget(name), distSrc);
  const { ReprimageError } = (await import(pathToFileURL(join(distSrc, 'errors.js')).href)) as typeof import('../src/errors.js');
  const started = performance.now();
  try {
    await run(readFileSync(file));
    process.stdout.write(`no error (${Math.round(performance.now() - started)} ms)\n`);
    return 0;
  } catch (e) {
    const took = Math.round(performance.now() - started);
    if (e instanceof ReprimageError) {
      process.stdout.write(`ReprimageError ${e.code} (${took} ms): ${e.message}\n`);
      return 0;
    }
    process.stdout.write(`ESCAPED (${took} ms): ${e instanceof Error ? e.stack : String(e)}\n`);
    return 1;
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    for (const t of TARGETS) process.stdout.write(`${t.name.padEnd(10)} ${t.what}\n`);
    return 0;
  }
  if (args.replay) {
    if (args.targets.length !== 1) throw new Error('--replay FILE needs one target name');
    return replay(args.replay, args.targets[0]!);
  }
  const stamp = join(root, 'dist/fuzz-coverage/counters.json');
  let counters: number;
  if (instrumentedCopyIsFresh(distSrc, covSrc, stamp)) {
    counters = (JSON.parse(readFileSync(stamp, 'utf8')) as { counters: number }).counters;
  } else {
    const report = instrumentTree(distSrc, covSrc);
    counters = report.counters;
    writeFileSync(stamp, JSON.stringify(report));
    process.stdout.write(`instrumented ${report.files} files of dist/src: ${report.counters} counters\n`);
  }
  const names = args.targets.length > 0 ? args.targets : TARGETS.map((t) => t.name);
  const results: Record<string, unknown> = {};
  let findings = 0;
  for (const name of names) {
    process.stdout.write(`${name}: fuzzing ${args.runs} inputs\n`);
    const r = await fuzzTarget(name, args, counters);
    findings += r.findings;
    results[name] = r;
    process.stdout.write(`${name}: ${r.execs} inputs in ${r.seconds} s, ${r.edges} edges, ${r.features} features, corpus ${r.corpus}, slowest ${r.slowest} ms, findings ${r.findings}\n`);
    mkdirSync(args.out, { recursive: true });
    writeFileSync(join(args.out, `summary-${name}.json`), `${JSON.stringify({ target: name, runs: args.runs, seed: args.seed, date: new Date().toISOString(), ...r }, null, 2)}\n`);
  }
  process.stdout.write(`fuzz: ${names.length} targets, ${findings} findings\n`);
  return findings > 0 ? 1 : 0;
}

process.exitCode = await main();
