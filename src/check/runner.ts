/**
 * One build of a plan under one setup: a fresh build directory (through disorderfs when the
 * setup asks), the source copied in, the command run with the setup's environment, umask and
 * wrappers, its artifacts copied out, and the build directory removed again, so that the next
 * build can use the same path.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ReprimageError } from '../errors.js';
import { abortedError, throwIfAborted } from '../io/abort.js';
import { trackCleanup, trackProcess } from '../io/temporaries.js';
import type { BuildPlan } from './plan.js';
import { isMounted, mountDisorderfs, unmountFuse } from './probe.js';
import type { BuildSetup } from './variations.js';

export interface BuildResult {
  /** Where the artifacts were copied, under their relative paths. */
  artifactsDir: string;
  /** The command's output (stdout and stderr), kept in the work directory. */
  log: string;
  seconds: number;
}

export interface RunOptions {
  work: string;
  /** A unique name of this build within the work directory (`control`, `experiment`, `bisect-3`). */
  name: string;
  timeoutSeconds: number;
  /** Stops the build (its whole process group is killed) with an ABORTED error. */
  signal?: AbortSignal;
}

function expand(arg: string, setup: BuildSetup, buildPath: string): string {
  return arg.replaceAll('{workers}', String(setup.workers)).replaceAll('{build}', buildPath);
}

function copyTree(from: string, to: string, what: string): void {
  mkdirSync(dirname(to), { recursive: true });
  const r = spawnSync('cp', ['-a', from, to], { encoding: 'utf8' });
  if (r.status !== 0) throw new ReprimageError('IO', what, `cannot copy: ${r.stderr.trim() || `cp exited ${r.status}`}`);
}

export async function runBuild(plan: BuildPlan, setup: BuildSetup, options: RunOptions): Promise<BuildResult> {
  const buildPath = join(options.work, setup.buildDirName);
  const backing = `${buildPath}.backing`;
  const home = setup.env.HOME;
  rmSync(buildPath, { recursive: true, force: true });
  mkdirSync(buildPath, { recursive: true });
  if (home !== undefined) {
    rmSync(home, { recursive: true, force: true });
    mkdirSync(home, { recursive: true });
  }
  let mounted = false;
  let forgetMount: () => void = () => undefined;
  const started = performance.now();
  try {
    if (setup.disorderfs) {
      rmSync(backing, { recursive: true, force: true });
      mkdirSync(backing);
      const m = mountDisorderfs(backing, buildPath);
      if (!m.ok) throw new ReprimageError('TOOL', 'disorderfs', m.reason);
      mounted = true;
      // an interrupted check unmounts it before its work directory is removed
      forgetMount = trackCleanup(() => void unmountFuse(buildPath));
    }
    if (plan.source !== undefined) copyTree(`${plan.source}/.`, `${buildPath}/`, plan.source);
    const command = plan.command.map((a) => expand(a, setup, buildPath));
    const umask = setup.umask.toString(8).padStart(4, '0');
    const argv = [...setup.wrappers.flat(), 'sh', '-c', `umask ${umask} && cd "$1" && shift && exec "$@"`, 'sh', buildPath, ...command];
    const log = join(options.work, `${options.name}.log`);
    const status = await spawnLogged(argv, { ...process.env, ...setup.env, PWD: buildPath }, log, options.timeoutSeconds, options.signal);
    if (status !== 0) {
      const tail = readFileSync(log, 'utf8').trim().split('\n').slice(-1)[0] ?? '';
      throw new ReprimageError('TOOL', plan.title, `the ${options.name} build ${status === null ? 'timed out' : `exited ${status}`}${tail ? `: ${tail.slice(0, 200)}` : ''} (log: ${log})`);
    }
    const artifactsDir = join(options.work, `${options.name}.artifacts`);
    rmSync(artifactsDir, { recursive: true, force: true });
    for (const artifact of plan.artifacts) {
      const from = join(buildPath, artifact);
      if (!existsSync(from)) throw new ReprimageError('NOT_FOUND', artifact, `the ${options.name} build did not make this artifact (log: ${log})`);
      copyTree(from, join(artifactsDir, artifact), artifact);
    }
    for (const file of plan.kept ?? []) if (existsSync(join(buildPath, file))) copyTree(join(buildPath, file), join(artifactsDir, file), file);
    return { artifactsDir, log, seconds: (performance.now() - started) / 1000 };
  } finally {
    // a mount that will not go away (even lazily) leaves the directory behind rather than
    // deleting through it; the next build's mkdir then reports the problem
    const unmounted = !mounted || unmountFuse(buildPath) || !isMounted(buildPath);
    forgetMount();
    if (unmounted) {
      rmSync(buildPath, { recursive: true, force: true });
      rmSync(backing, { recursive: true, force: true });
    }
  }
}

/** Runs argv with stdout and stderr into `log`; resolves to the exit status, null on timeout. */
function spawnLogged(argv: string[], env: NodeJS.ProcessEnv, log: string, timeoutSeconds: number, signal: AbortSignal | undefined): Promise<number | null> {
  throwIfAborted(signal, argv[0]!);
  const fd = openSync(log, 'w');
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', fd, fd], detached: true });
    // a build in its own process group gets no ^C from the terminal: an interrupted check stops it
    const forget = child.pid === undefined ? () => undefined : trackProcess(-child.pid, 'SIGKILL');
    let timedOut = false;
    const killAll = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL'); // the whole process group the build started
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killAll();
    }, timeoutSeconds * 1000);
    signal?.addEventListener('abort', killAll, { once: true });
    child.on('error', (e) => {
      forget();
      clearTimeout(timer);
      closeSync(fd);
      reject(new ReprimageError('TOOL', argv[0]!, `cannot run: ${e.message}`));
    });
    child.on('close', (code, killedBy) => {
      forget();
      clearTimeout(timer);
      signal?.removeEventListener('abort', killAll);
      closeSync(fd);
      if (signal?.aborted) reject(abortedError(signal, argv[0]!));
      else resolve(timedOut ? null : (code ?? (killedBy ? 128 : 1)));
    });
  });
}
