/**
 * A task module for the worker-pool tests: each job waits `delay` ms, then answers its value
 * doubled, or fails the way `fail` says (an Error, a ReprimageError, a crash of the whole worker
 * thread, or the thread exiting).
 */
import { ReprimageError } from '../../src/errors.js';
import type { TaskResult } from '../../src/parallel/ordered-pool.js';

export interface FixtureJob {
  value: number;
  delay?: number;
  fail?: 'throw' | 'reprimage' | 'crash' | 'exit';
}

export function createHandler(): Promise<(job: FixtureJob) => Promise<TaskResult<number>>> {
  return Promise.resolve(async (job: FixtureJob) => {
    if (job.delay) await new Promise((resolve) => setTimeout(resolve, job.delay));
    switch (job.fail) {
      case 'throw':
        throw new Error('codec exploded');
      case 'reprimage':
        throw new ReprimageError('CORRUPT_IMAGE', '', 'block does not compress');
      case 'crash':
        setTimeout(() => {
          throw new Error('boom');
        });
        return new Promise<never>(() => undefined);
      case 'exit':
        process.exit(3);
    }
    return { result: job.value * 2 };
  });
}
