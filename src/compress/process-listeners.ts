/**
 * Emscripten glue built for Node (the libdeflate package's module) installs process-wide
 * `uncaughtException` and `unhandledRejection` handlers when its module is created: they rethrow,
 * so any later error of ours ends with the glue's minified source on stderr and exit status 7.
 * A library must not change how the whole process fails, so such modules are created through
 * `withoutNewProcessListeners`.
 */
import type { EventEmitter } from 'node:events';

/**
 * Calls `create` and removes every listener it added to `process`, on any event, before anything
 * else can run. The glue installs its handlers synchronously while creating the module, so only
 * the synchronous call is watched: listeners others add later are left alone.
 */
export function withoutNewProcessListeners<T>(create: () => T): T {
  const emitter: EventEmitter = process;
  const before = new Map(emitter.eventNames().map((e) => [e, new Set(emitter.listeners(e))]));
  try {
    return create();
  } finally {
    for (const event of emitter.eventNames()) {
      const had = before.get(event);
      for (const l of emitter.listeners(event)) if (!had?.has(l)) emitter.removeListener(event, l as (...args: unknown[]) => void);
    }
  }
}
