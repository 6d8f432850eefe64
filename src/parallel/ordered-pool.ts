/**
 * Parallel work whose results are used strictly in submission order (docs/design.md rule 5).
 *
 * `WorkerPool` runs jobs on worker threads (or inline on this thread when one worker is asked
 * for); jobs may finish in any order. `OrderedPipeline` gives each submitted job a sequence
 * number and hands results to its `emit` callback only in that order, one at a time, on the
 * calling thread. Since nothing but the order of submission decides what `emit` sees, the
 * output is the same with 1, 2 or 16 workers. The pipeline bounds its backlog: `submit` waits
 * while too many results are outstanding, so memory does not grow with the input.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { ReprimageError, type ErrorCode } from '../errors.js';

/** A module that workers load: it turns `init` data into a job handler. */
export interface TaskModule<I, O> {
  createHandler(init: unknown): Promise<(job: I) => Promise<TaskResult<O>>>;
}

export interface TaskResult<O> {
  result: O;
  /** Buffers to move (not copy) back to the main thread. */
  transfer?: ArrayBuffer[];
}

/** A job's error as a worker sends it back: enough to rebuild a ReprimageError. */
export interface WorkerError {
  message: string;
  name?: string;
  code?: string;
  subject?: string;
  detail?: string;
}

/** Messages from a worker: `ready` once at start, then one answer per job. */
type WorkerMessage<O> = { ready: true } | { ready: false; error: WorkerError } | { id: number; result?: O; error?: WorkerError };

export interface RunOptions {
  /** Buffers to move (not copy) to the worker. */
  transfer?: ArrayBuffer[];
  /** What the job works on (a tree path), named in its error if it fails. */
  label?: string;
}

interface Pending<O> {
  promise: Promise<O>;
  resolve(value: O): void;
  reject(error: unknown): void;
  label: string | undefined;
}

/** The default number of workers: the cores this process may use. */
export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism());
}

/**
 * The error a failed job is reported with. A ReprimageError keeps its code and names the job's
 * label when it named nothing itself; anything else (a bug, a codec's own failure) stays an
 * internal error but says which file it was working on.
 */
export function jobError(e: unknown, label: string | undefined): unknown {
  const w = toWorkerError(e);
  if (w.name === 'ReprimageError' && w.code && w.detail !== undefined) {
    if (e instanceof ReprimageError && (w.subject || !label)) return e;
    return new ReprimageError(w.code as ErrorCode, w.subject || label || '', w.detail, { cause: e });
  }
  if (!label) return e instanceof Error ? e : new Error(w.message);
  return new Error(`${label}: ${w.message}`, { cause: e });
}

/** An error as plain data that survives postMessage (a ReprimageError's class does not). */
export function toWorkerError(e: unknown): WorkerError {
  if (e instanceof ReprimageError) return { name: e.name, message: e.message, code: e.code, subject: e.subject, detail: e.detail };
  if (e instanceof Error) return { name: e.name, message: e.message, code: (e as { code?: unknown }).code === undefined ? undefined : String((e as { code?: unknown }).code) };
  const w = e as Partial<WorkerError> | undefined;
  if (w && typeof w === 'object' && typeof w.message === 'string') return { ...w, message: w.message };
  return { message: String(e) };
}

/**
 * Runs jobs on worker threads, or inline on this thread when one worker is asked for. The first
 * failure (a job's error, a worker that dies) is the one reported; once a worker has died or
 * the pool is closed, nothing more is dispatched and every job still waiting is rejected, so no
 * caller waits forever. Late answers from workers being terminated are ignored.
 */
export class WorkerPool<I, O> {
  #workers: Worker[] = [];
  /** Jobs sent to each worker and not answered yet, oldest first. */
  #inFlight: Array<Set<number>> = [];
  #pending = new Map<number, Pending<O>>();
  #nextId = 0;
  #inline: ((job: I) => Promise<TaskResult<O>>) | undefined;
  #queue: Array<{ id: number; job: I; transfer: ArrayBuffer[] }> = [];
  #failure: unknown;
  #closed = false;
  static readonly PER_WORKER = 2;

  private constructor() {}

  /**
   * Starts `workers` threads that each load `moduleUrl` and call its `createHandler(init)`.
   * With `workers <= 1` the module runs on this thread instead (same handler, same results).
   * `limits.youngGenerationMb` caps each worker's young generation (V8's default is tens of MiB
   * per thread), for workers that allocate little per job.
   */
  static async start<I, O>(moduleUrl: URL, init: unknown, workers: number, limits?: { youngGenerationMb?: number }): Promise<WorkerPool<I, O>> {
    const pool = new WorkerPool<I, O>();
    if (workers <= 1) {
      const mod = (await import(moduleUrl.href)) as TaskModule<I, O>;
      pool.#inline = await mod.createHandler(init);
      return pool;
    }
    const entry = new URL('./worker-entry.js', import.meta.url);
    const ready: Promise<void>[] = [];
    const settled: Array<() => void> = [];
    for (let i = 0; i < workers; i++) {
      const w = new Worker(entry, { workerData: { module: moduleUrl.href, init }, ...(limits?.youngGenerationMb ? { resourceLimits: { maxYoungGenerationSizeMb: limits.youngGenerationMb } } : {}) });
      pool.#workers.push(w);
      pool.#inFlight.push(new Set());
      ready.push(
        new Promise((resolve, reject) => {
          const onMessage = (m: WorkerMessage<O>) => ('ready' in m && m.ready ? resolve() : reject(jobError('ready' in m ? m.error : m, undefined)));
          const onError = (e: unknown) => reject(e instanceof Error ? e : new Error(String(e)));
          const onExit = (code: number) => reject(new Error(`a worker thread exited with code ${code} while starting`));
          w.once('message', onMessage).once('error', onError).once('exit', onExit);
          settled.push(() => w.off('message', onMessage).off('error', onError).off('exit', onExit));
        }),
      );
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await pool.close();
      throw e;
    } finally {
      for (const off of settled) off();
    }
    pool.#workers.forEach((w, i) => {
      w.on('message', (m: WorkerMessage<O>) => pool.#onMessage(i, m));
      w.on('messageerror', (e) => pool.#workerDied(i, e));
      w.on('error', (e) => pool.#workerDied(i, e));
      w.on('exit', (code) => pool.#workerDied(i, new Error(`exited with code ${code}`)));
    });
    return pool;
  }

  /** Runs one job; results of different jobs may arrive in any order. */
  run(job: I, options: RunOptions = {}): Promise<O> {
    const { transfer = [], label } = options;
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.reject(new Error('worker pool used after it was closed'));
    if (this.#inline) {
      const inline = this.#inline;
      return Promise.resolve()
        .then(() => inline(job))
        .then(
          (r) => r.result,
          (e: unknown) => Promise.reject(jobError(e, label)),
        );
    }
    const id = this.#nextId++;
    let settle!: Pick<Pending<O>, 'resolve' | 'reject'>;
    const promise = new Promise<O>((resolve, reject) => (settle = { resolve, reject }));
    this.#pending.set(id, { promise, ...settle, label });
    this.#queue.push({ id, job, transfer });
    this.#dispatch();
    return promise;
  }

  /**
   * Stops the workers. Jobs not answered yet are rejected, so that nobody waits forever, but
   * marked handled: a caller that closes the pool has stopped waiting for them, and their
   * rejection is not news. Never throws, so it can run in a `finally` without hiding the error
   * that ended the work.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    for (const p of this.#pending.values()) p.promise.catch(() => undefined);
    this.#rejectAll(new Error('worker pool closed before the job finished'));
    const ws = this.#workers;
    this.#workers = [];
    await Promise.all(ws.map((w) => w.terminate().catch(() => undefined)));
  }

  #dispatch(): void {
    while (this.#queue.length > 0 && !this.#closed && this.#failure === undefined) {
      let best = -1;
      for (let i = 0; i < this.#workers.length; i++) {
        const load = this.#inFlight[i]!.size;
        if (load < WorkerPool.PER_WORKER && (best < 0 || load < this.#inFlight[best]!.size)) best = i;
      }
      if (best < 0) return;
      const { id, job, transfer } = this.#queue.shift()!;
      this.#inFlight[best]!.add(id);
      try {
        this.#workers[best]!.postMessage({ id, job }, transfer);
      } catch (e) {
        // A job that cannot be sent (not cloneable) fails alone; the worker never saw it.
        this.#inFlight[best]!.delete(id);
        this.#settle(id, undefined, e);
      }
    }
  }

  #onMessage(worker: number, m: WorkerMessage<O>): void {
    if (this.#closed || !('id' in m)) return;
    this.#inFlight[worker]!.delete(m.id);
    if (m.error) this.#settle(m.id, undefined, m.error);
    else this.#settle(m.id, m.result as O, undefined);
    this.#dispatch();
  }

  #settle(id: number, result: O | undefined, error: unknown): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    if (error === undefined) p.resolve(result as O);
    else p.reject(jobError(error, p.label));
  }

  /** A worker died (uncaught error, exit): the pool fails, naming what that worker was doing. */
  #workerDied(worker: number, e: unknown): void {
    if (this.#closed || this.#failure !== undefined) return;
    const oldest = this.#inFlight[worker]!.values().next();
    const label = oldest.done ? undefined : this.#pending.get(oldest.value)?.label;
    const why = toWorkerError(e).message;
    this.#failure = new Error(`${label ? `${label}: ` : ''}a worker thread failed: ${why}`, { cause: e });
    this.#queue = [];
    this.#rejectAll(this.#failure);
  }

  #rejectAll(e: unknown): void {
    const all = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of all) p.reject(e);
  }
}

/**
 * Results may complete in any order; `emit` sees them strictly in submission order, one at a
 * time. The first error (from a job or from `emit`) is rethrown by the next `submit`/`drain`.
 */
export class OrderedPipeline<O> {
  #next = 0;
  #submitted = 0;
  readonly #waiting = new Map<number, O>();
  #pumping = false;
  #error: unknown;
  #hasError = false;
  #wakers: Array<() => void> = [];

  constructor(
    private readonly emit: (value: O, seq: number) => Promise<void> | void,
    private readonly maxBacklog: number,
  ) {}

  /** Submits work (a promise, or a value that is ready now); waits while the backlog is full. */
  async submit(work: Promise<O> | O): Promise<void> {
    if (this.#hasError) {
      // Handled, so that its later failure (the pool closing under it) is not an unhandled rejection.
      Promise.resolve(work).catch(() => undefined);
      this.#check();
    }
    const seq = this.#submitted++;
    Promise.resolve(work).then(
      (v) => this.#complete(seq, v),
      (e) => this.#setError(e),
    );
    while (this.#submitted - this.#next > this.maxBacklog && !this.#hasError) await this.#wait();
    this.#check();
  }

  /** Waits until every submitted result has been emitted. */
  async drain(): Promise<void> {
    while (this.#next < this.#submitted && !this.#hasError) await this.#wait();
    this.#check();
  }

  /** Results submitted but not yet emitted. */
  get backlog(): number {
    return this.#submitted - this.#next;
  }

  #wait(): Promise<void> {
    return new Promise((resolve) => this.#wakers.push(resolve));
  }

  #wake(): void {
    const ws = this.#wakers;
    this.#wakers = [];
    for (const w of ws) w();
  }

  #check(): void {
    if (this.#hasError) throw this.#error;
  }

  #setError(e: unknown): void {
    if (!this.#hasError) {
      this.#hasError = true;
      this.#error = e;
    }
    this.#wake();
  }

  #complete(seq: number, value: O): void {
    this.#waiting.set(seq, value);
    if (!this.#pumping) void this.#pump();
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (this.#waiting.has(this.#next) && !this.#hasError) {
        const v = this.#waiting.get(this.#next)!;
        this.#waiting.delete(this.#next);
        // Only this loop emits, and only the result whose turn it is.
        await this.emit(v, this.#next);
        this.#next++;
        this.#wake();
      }
    } catch (e) {
      this.#setError(e);
    } finally {
      this.#pumping = false;
    }
  }
}
