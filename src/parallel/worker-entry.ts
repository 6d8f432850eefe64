/**
 * The body of every pool worker: loads the task module named in workerData, builds its handler
 * once, then answers each `{ id, job }` message with `{ id, result }` or `{ id, error }`. Errors
 * go back as plain data (`toWorkerError`), so a ReprimageError keeps its code and subject.
 *
 * Jobs run one after another, in the order they arrive (the pool sends a second one only so
 * that it is ready when the first ends): so the job a dying worker was running is always its
 * oldest unanswered one, and the pool can name its file.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toWorkerError, type TaskModule } from './ordered-pool.js';

const port = parentPort!;
const { module, init } = workerData as { module: string; init: unknown };

try {
  const mod = (await import(module)) as TaskModule<unknown, unknown>;
  const handle = await mod.createHandler(init);
  let previous: Promise<void> = Promise.resolve();
  port.on('message', (m: { id: number; job: unknown }) => {
    previous = previous
      .then(() => handle(m.job))
      .then(({ result, transfer }) => port.postMessage({ id: m.id, result }, transfer ?? []))
      .catch((e: unknown) => port.postMessage({ id: m.id, error: toWorkerError(e) }));
  });
  port.postMessage({ ready: true });
} catch (e) {
  port.postMessage({ ready: false, error: toWorkerError(e) });
}
