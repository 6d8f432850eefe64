/** Runs the built `reprimage` command in a child process, with a chosen environment and umask. */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/src/cli/main.js, next to this compiled helper in dist/test/helpers. */
export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
/**
 * The repository root. Tests run compiled from dist/ or from a build directory at another
 * depth (.build/<name>/), so look upwards for the directory that holds package.json and src/.
 */
export const REPO = findRepo();

function findRepo(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src'))) return dir;
  }
  throw new Error('repository root not found above the compiled tests');
}

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
  /** The signal that ended the child: SIGKILL when `hangGuardMs` ran out. */
  signal?: NodeJS.Signals | null;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  umask?: number;
  cwd?: string;
  input?: string;
  /**
   * Kill the child after this long. Only a guard against a hang (set it far above any normal
   * run, e.g. 120 s): tests never assert how fast a command is.
   */
  hangGuardMs?: number;
}

export function runCli(args: string[], options: CliOptions = {}): CliResult {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const umask = (options.umask ?? 0o022).toString(8);
  const r = spawnSync('sh', ['-c', `umask ${umask}; exec "$0" "$@"`, process.execPath, CLI, ...args], {
    env: env as NodeJS.ProcessEnv,
    cwd: options.cwd ?? REPO,
    input: options.input,
    maxBuffer: 1 << 28,
    ...(options.hangGuardMs === undefined ? {} : { timeout: options.hangGuardMs, killSignal: 'SIGKILL' as const }),
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw r.error;
  return { status: r.status ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), signal: r.signal };
}

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}
