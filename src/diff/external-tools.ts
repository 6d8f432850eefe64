/**
 * The reference tools the differ uses for views of binaries (readelf, objdump, strings, file),
 * as diffoscope does: found on PATH once per process, run with LC_ALL=C so their output does not
 * depend on the locale, and their output capped so that a huge binary cannot exhaust memory.
 */
import { execFile, spawnSync } from 'node:child_process';

const found = new Map<string, boolean>();

/**
 * Whether `name` is an executable on PATH (looked up once). The shell does the lookup, so the
 * library reads no environment itself: the CLI owns the process.
 */
export function toolInstalled(name: string): boolean {
  let ok = found.get(name);
  if (ok === undefined) {
    ok = spawnSync('sh', ['-c', 'command -v "$1" >/dev/null', 'sh', name], { stdio: 'ignore' }).status === 0;
    found.set(name, ok);
  }
  return ok;
}

/** Output kept from one run of a tool; more is cut with a note. */
export const TOOL_OUTPUT_LIMIT = 64 << 20;

export interface ToolOutput {
  text: string;
  /** Set when the tool failed or its output was cut: said in a comment. */
  problem?: string;
}

/** Runs a tool and gives its standard output (with `input` on standard input, when given). */
export function runTool(cmd: string, args: string[], input?: Uint8Array): Promise<ToolOutput> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env: { ...process.env, LC_ALL: 'C' }, maxBuffer: TOOL_OUTPUT_LIMIT, encoding: 'utf8' }, (error, stdout) => {
      if (!error) resolve({ text: stdout });
      else if ((error as { code?: unknown }).code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') resolve({ text: stdout, problem: `output over ${TOOL_OUTPUT_LIMIT} bytes: cut` });
      else resolve({ text: stdout, problem: error.message.split('\n')[0]! });
    });
    child.stdin?.on('error', () => undefined); // a tool may stop reading early (file(1) does)
    child.stdin?.end(input);
  });
}
