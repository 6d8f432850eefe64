/**
 * Parallel work whose results are used strictly in submission order (DESIGN.md rule 5).
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

/** A module that workers load: it turns `init` data into a job handler. */
export interface TaskModule<I, O> {
  createHandler(init: unknown): Promise<(job: I) => Promise<TaskResult<O>>>;
}

export interface TaskResult<O> {
  result: O;
  /** Buffers to move (not copy) back to the main thread. */
  transfer?: ArrayBuffer[];
}

interface Pending<O> {
  resolve(value: O): void;
  reject(error: unknown): void;
}

/** The default number of workers: the cores this process may use. */
export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism());
}

export class WorkerPool<I, O> {
  #workers: Worker[] = [];
  #load: number[] = [];
  #pending = new Map<number, Pending<O>>();
  #nextId = 0;
  #inline: ((job: I) => Promise<TaskResult<O>>) | undefined;
  #queue: Array<{ id: number; job: I; transfer: ArrayBuffer[] }> = [];
  #failure: unknown;
  static readonly PER_WORKER = 2;

  private constructor() {}

  /**
   * Starts `workers` threads that each load `moduleUrl` and call its `createHandler(init)`.
   * With `workers <= 1` the module runs on this thread instead (same handler, same results).
   */
  static async start<I, O>(moduleUrl: URL, init: unknown, workers: number): Promise<WorkerPool<I, O>> {
    const pool = new WorkerPool<I, O>();
    if (workers <= 1) {
      const mod = (await import(moduleUrl.href)) as TaskModule<I, O>;
      pool.#inline = await mod.createHandler(init);
      return pool;
    }
    const entry = new URL('./worker-entry.js', import.meta.url);
    const ready: Promise<void>[] = [];
    for (let i = 0; i < workers; i++) {
      const w = new Worker(entry, { workerData: { module: moduleUrl.href, init } });
      pool.#workers.push(w);
      pool.#load.push(0);
      ready.push(
        new Promise((resolve, reject) => {
          w.once('message', (m: { ready?: boolean; error?: string }) => (m.ready ? resolve() : reject(new Error(m.error))));
          w.once('error', reject);
        }),
      );
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await pool.close();
      throw e;
    }
    pool.#workers.forEach((w, i) => {
      w.on('message', (m: { id: number; result?: O; error?: { message: string; code?: string } }) => pool.#onMessage(i, m));
      w.on('error', (e) => pool.#fail(e));
      w.on('exit', (code) => {
        if (code !== 0) pool.#fail(new Error(`compression worker exited with code ${code}`));
      });
    });
    return pool;
  }

  /** Runs one job; results of different jobs may arrive in any order. */
  run(job: I, transfer: ArrayBuffer[] = []): Promise<O> {
    if (this.#inline) return this.#inline(job).then((r) => r.result);
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    const promise = new Promise<O>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    this.#queue.push({ id, job, transfer });
    this.#dispatch();
    return promise;
  }

  async close(): Promise<void> {
    const ws = this.#workers;
    this.#workers = [];
    await Promise.all(ws.map((w) => w.terminate()));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let best = -1;
      for (let i = 0; i < this.#load.length; i++) {
        if (this.#load[i]! < WorkerPool.PER_WORKER && (best < 0 || this.#load[i]! < this.#load[best]!)) best = i;
      }
      if (best < 0) return;
      const { id, job, transfer } = this.#queue.shift()!;
      this.#load[best]!++;
      this.#workers[best]!.postMessage({ id, job }, transfer);
    }
  }

  #onMessage(worker: number, m: { id: number; result?: O; error?: { message: string; code?: string } }): void {
    this.#load[worker]!--;
    const p = this.#pending.get(m.id);
    this.#pending.delete(m.id);
    if (p) {
      if (m.error) p.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
      else p.resolve(m.result as O);
    }
    this.#dispatch();
  }

  #fail(e: unknown): void {
    if (this.#failure) return;
    this.#failure = e;
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
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
    this.#check();
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
