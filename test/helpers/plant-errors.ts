/**
 * Loaded into the `reprimage` process with `node --import` (through NODE_OPTIONS) to plant the
 * kind of failure no input can cause: a bug (TypeError), a dependency's error with its whole
 * source in the message, an exception nobody catches while an output is being written, and a
 * second error right after a first. REPRIMAGE_TEST_PLANT says which; it acts on paths that
 * contain "planted" only, so the command's other work is untouched.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const plant = process.env.REPRIMAGE_TEST_PLANT;
const realStat = fs.promises.stat;
const realOpen = fs.promises.open;

const planted = (path: unknown) => String(path).includes('planted');

if (plant === 'typeerror' || plant === 'dump' || plant === 'second-error') {
  fs.promises.stat = (async (path: fs.PathLike, options?: fs.StatOptions) => {
    if (!planted(path)) return realStat(path, options);
    if (plant === 'typeerror') throw new TypeError("Cannot read properties of undefined (reading 'postMessage')");
    if (plant === 'dump') throw new Error(`${'var Module=typeof Module!="undefined"?Module:{};'.repeat(2000)}\n${'function a(b){return b}\n'.repeat(3000)}`);
    // a first error the CLI reports, and a bug right after it that must not replace it
    setImmediate(() => {
      throw new TypeError('a consequence of the first error');
    });
    throw Object.assign(new Error(`ENOSPC: no space left on device, stat '${String(path)}'`), { code: 'ENOSPC', syscall: 'stat', path: String(path) });
  }) as typeof fs.promises.stat;
}

if (plant === 'uncaught') {
  // once the output's temporary exists, an exception escapes from a callback nobody awaits
  fs.promises.open = (async (...args: Parameters<typeof realOpen>) => {
    const handle = await realOpen(...args);
    if (args[1] === 'wx' && String(args[0]).endsWith('.tmp')) {
      setImmediate(() => {
        throw new TypeError("Cannot read properties of undefined (reading 'postMessage')");
      });
    }
    return handle;
  }) as typeof fs.promises.open;
}

syncBuiltinESMExports();
