/**
 * The fuzz loop, run in a worker thread (one target per worker): run the seeds, then mutate
 * inputs from the corpus, keep those that reach new coverage, and record every input that
 * breaks a rule:
 * - anything but a ReprimageError escapes;
 * - one input takes longer than `timeoutMs` (the parent ends the worker if it never returns);
 * - one allocation of more than `allocLimit` bytes (typed arrays and Buffers are counted
 *   through guarded constructors installed in this worker only);
 * - a file descriptor left open when the input is done (a spooled temporary file not closed on
 *   an error path): the process's descriptors are counted before and after each input.
 *
 * The current input is copied into shared memory before it runs, so the parent can save it when
 * the worker hangs or runs out of memory.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { findTarget, prepare, RuleBroken } from './targets.js';
import { Mutator, Random } from './mutate.js';

export interface LoopOptions {
  target: string;
  /** Folder of the library to fuzz (the instrumented copy of dist/src). */
  lib: string;
  /** Repository root, for seed paths. */
  root: string;
  runs: number;
  /** Stop after this many seconds even if `runs` are not done (0: no limit). */
  maxSeconds: number;
  seed: number;
  counters: number;
  timeoutMs: number;
  allocLimit: number;
  maxLen: number;
  /** fuzz-out/<target>: corpus/ and findings/ go there. */
  out: string;
  /** [0] inputs started, [1] length of the current input; the input's bytes follow at byte 8. */
  shared: SharedArrayBuffer;
}

export interface Progress {
  execs: number;
  corpus: number;
  edges: number;
  features: number;
  findings: number;
  slowest: number;
  done: boolean;
}

const options = workerData as LoopOptions;

// bucket a hit count the way libFuzzer does: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+
function bucket(n: number): number {
  return n >= 128 ? 128 : n >= 32 ? 64 : n >= 16 ? 32 : n >= 8 ? 16 : n >= 4 ? 8 : n === 3 ? 4 : n === 2 ? 2 : 1;
}

function guardAllocations(limit: number): void {
  const check = (n: unknown, what: string): void => {
    if (typeof n === 'number' && n > limit) throw new RuleBroken(`allocation of ${n} bytes (${what}) above the ${limit}-byte bound`);
  };
  const g = globalThis as unknown as Record<string, unknown>;
  for (const name of ['ArrayBuffer', 'SharedArrayBuffer', 'Uint8Array', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array', 'Float64Array', 'BigUint64Array']) {
    const ctor = g[name] as { BYTES_PER_ELEMENT?: number } & (new (...a: unknown[]) => object);
    const size = ctor.BYTES_PER_ELEMENT ?? 1;
    g[name] = new Proxy(ctor, {
      construct(t, args, newTarget) {
        if (typeof args[0] === 'number') check(args[0] * size, name);
        return Reflect.construct(t, args, newTarget) as object;
      },
    });
  }
  for (const name of ['alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const) {
    const original = Buffer[name] as (...a: unknown[]) => Buffer;
    (Buffer as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      check(args[0], `Buffer.${name}`);
      return original.apply(Buffer, args);
    };
  }
}

const openDescriptors = (): number => readdirSync('/proc/self/fd').length;

function readSeeds(root: string, paths: string[], target: string, maxLen: number): Uint8Array[] {
  const seeds: Uint8Array[] = [];
  const add = (file: string): void => {
    let bytes: Uint8Array = readFileSync(file);
    // gzipped fixtures (ext4, FAT images) are seeds for what is inside them
    if (file.endsWith('.gz') && target !== 'gzip') bytes = gunzipSync(bytes);
    if (bytes.length <= maxLen) seeds.push(bytes);
  };
  const walk = (path: string): void => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) for (const name of readdirSync(path).sort()) walk(join(path, name));
    else add(path);
  };
  for (const p of paths) walk(resolve(root, p));
  return seeds;
}

async function main(): Promise<void> {
  const target = findTarget(options.target);
  const coverage = new Uint32Array(options.counters);
  (globalThis as unknown as Record<string, unknown>).__fuzzCounters = coverage;
  // before any library loads: some keep their own alias of Uint8Array (fzstd's `u8`)
  guardAllocations(options.allocLimit);
  const run = await prepare(target, options.lib);
  const ReprimageErrorClass = ((await import(`${options.lib}/errors.js`)) as typeof import('../src/errors.js')).ReprimageError;

  const corpusDir = join(options.out, 'corpus');
  const findingsDir = join(options.out, 'findings');
  mkdirSync(corpusDir, { recursive: true });
  mkdirSync(findingsDir, { recursive: true });
  const seen = new Uint8Array(options.counters);
  const header = new Int32Array(options.shared, 0, 2);
  const current = new Uint8Array(options.shared, 8);
  const corpus: Uint8Array[] = [];
  const findings = new Set<string>();
  let edges = 0;
  let features = 0;
  let execs = 0;
  let slowest = 0;

  const record = (input: Uint8Array, kind: string, detail: string, stack: string): void => {
    // one finding per place and kind: the first frames of the stack, without line noise of numbers in the message
    const frames = stack.split('\n').filter((l) => l.trim().startsWith('at ')).slice(0, 3).join('|');
    const key = `${kind}:${detail.replace(/\d+/g, 'N')}:${frames}`;
    if (findings.has(key)) return;
    findings.add(key);
    const name = `${options.target}-${kind}-${createHash('sha256').update(input).digest('hex').slice(0, 12)}`;
    writeFileSync(join(findingsDir, name), input);
    writeFileSync(join(findingsDir, `${name}.txt`), `${kind}: ${detail}\n${stack}\n`);
    parentPort!.postMessage({ finding: { name, kind, detail } });
  };

  const execute = async (input: Uint8Array): Promise<boolean> => {
    header[1] = input.length;
    current.set(input);
    Atomics.add(header, 0, 1);
    coverage.fill(0);
    const descriptors = openDescriptors();
    const started = performance.now();
    try {
      await run(input);
    } catch (e) {
      if (!(e instanceof ReprimageErrorClass)) {
        const err = e instanceof Error ? e : new Error(String(e));
        record(input, e instanceof RuleBroken ? 'rule' : 'crash', `${err.name}: ${err.message}`.slice(0, 500), err.stack ?? '');
      }
    }
    const took = performance.now() - started;
    const leaked = openDescriptors() - descriptors;
    if (leaked > 0) record(input, 'leak', `${leaked} file descriptor(s) left open`, '');
    if (took > slowest) {
      slowest = took;
      // slow findings are one per target (their message differs only in numbers): keep the slowest input too, to replay it
      if (took > options.timeoutMs) {
        writeFileSync(join(findingsDir, `${options.target}-slowest`), input);
        writeFileSync(join(findingsDir, `${options.target}-slowest.txt`), `slowest: took ${Math.round(took)} ms (limit ${options.timeoutMs} ms)\n`);
      }
    }
    if (took > options.timeoutMs) record(input, 'slow', `took ${Math.round(took)} ms (limit ${options.timeoutMs} ms)`, '');
    execs++;
    let fresh = false;
    for (let i = 0; i < coverage.length; i++) {
      const n = coverage[i]!;
      if (n === 0) continue;
      const b = bucket(n);
      const had = seen[i]!;
      if ((had & b) === 0) {
        if (had === 0) edges++;
        seen[i] = had | b;
        features++;
        fresh = true;
      }
    }
    return fresh;
  };

  const seeds = readSeeds(options.root, [...target.seeds, corpusDir], options.target, options.maxLen);
  for (const s of seeds) if ((await execute(s)) || corpus.length === 0) corpus.push(s);
  const random = new Random(options.seed);
  const mutator = new Mutator(random, options.maxLen);
  const report = (done: boolean): void => {
    const p: Progress = { execs, corpus: corpus.length, edges, features, findings: findings.size, slowest: Math.round(slowest), done };
    parentPort!.postMessage({ progress: p });
  };
  let lastReport = performance.now();
  const deadline = options.maxSeconds > 0 ? performance.now() + options.maxSeconds * 1000 : Infinity;
  while (execs < options.runs && performance.now() < deadline) {
    const base = corpus[random.below(corpus.length)]!;
    const other = corpus[random.below(corpus.length)]!;
    const input = mutator.mutate(base, other);
    if (await execute(input)) {
      corpus.push(input);
      writeFileSync(join(corpusDir, createHash('sha256').update(input).digest('hex').slice(0, 16)), input);
    }
    if (performance.now() - lastReport > 2000) {
      report(false);
      lastReport = performance.now();
    }
  }
  report(true);
}

await main();
