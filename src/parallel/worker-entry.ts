/**
 * The body of every pool worker: loads the task module named in workerData, builds its handler
 * once, then answers each `{ id, job }` message with `{ id, result }` or `{ id, error }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { TaskModule } from './ordered-pool.js';

const port = parentPort!;
const { module, init } = workerData as { module: string; init: unknown };

try {
  const mod = (await import(module)) as TaskModule<unknown, unknown>;
  const handle = await mod.createHandler(init);
  port.on('message', (m: { id: number; job: unknown }) => {
    handle(m.job).then(
      ({ result, transfer }) => port.postMessage({ id: m.id, result }, transfer ?? []),
      (e: unknown) => {
        const err = e as { message?: string; code?: string };
        port.postMessage({ id: m.id, error: { message: String(err?.message ?? e), code: err?.code } });
      },
    );
  });
  port.postMessage({ ready: true });
} catch (e) {
  port.postMessage({ ready: false, error: String((e as Error)?.message ?? e) });
}
