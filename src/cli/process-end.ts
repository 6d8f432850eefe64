/**
 * How the `reprimage` process ends: on success, on an error, on SIGINT/SIGTERM/SIGHUP and on an
 * error nobody caught. The CLI owns the process, so it (and only it, never library code) installs
 * these handlers; the library records its temporary files in src/io/temporaries.ts and they are
 * removed here on every way out. docs/errors.md describes what the user sees.
 */
import { isReprimageError, fromSystemError, ReprimageError } from '../errors.js';
import { afterCriticalSections, pendingOutputs, removeTemporariesSync, trackedCount } from '../io/temporaries.js';
import { liftProgress } from './reporter.js';

export const EXIT_OK = 0;
export const EXIT_USAGE_OR_INPUT = 2;
/** EX_SOFTWARE of sysexits.h: a bug of ours, not a problem with the input. */
export const EXIT_INTERNAL = 70;

const SIGNAL_NUMBERS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;

/**
 * How long an interrupted command may take to unwind (its library calls reject with ABORTED and
 * their finally blocks remove their temporaries) before the process ends without it.
 */
export const UNWIND_GRACE_MS = 10_000;

/** Whether an internal error also prints its stack: `-v`/`--verbose`, or REPRIMAGE_DEBUG set to anything. */
export function stackWanted(argv: readonly string[]): boolean {
  return argv.includes('--verbose') || argv.includes('-v') || (process.env.REPRIMAGE_DEBUG ?? '') !== '';
}

/** The status of the first error reported; later errors (often consequences of the first) stay silent. */
let firstStatus: number | undefined;

let stopping = false;

/** `-v`, `--verbose` or REPRIMAGE_DEBUG: an interrupted command also says how it unwound. */
let verbose = false;

/** Aborted on SIGINT, SIGTERM or SIGHUP: every command passes it to the library calls it makes. */
const interrupted = new AbortController();

/**
 * The signal every command hands its library calls. A library call owns no signal handler; it
 * stops when this aborts (its listeners, such as the killing of a running build, run at once)
 * and unwinds, removing what it made; the process ends when the command has (or after
 * UNWIND_GRACE_MS), removing whatever is still recorded.
 */
export function interruption(): AbortSignal {
  return interrupted.signal;
}

/** Installs the signal, uncaught-error and exit handlers. Call once, before any work starts. */
export function ownProcess(argv: readonly string[]): void {
  verbose = stackWanted(argv);
  for (const [signal, number] of Object.entries(SIGNAL_NUMBERS)) {
    const announce = () => {
      if (firstStatus !== undefined) return;
      firstStatus = 128 + number;
      // the newest output is the one being written when the signal came
      const outputs = pendingOutputs();
      const subject = outputs.length > 0 ? `${outputs[outputs.length - 1]}: ` : '';
      writeLine(`reprimage: ${subject}interrupted by ${signal}${subject ? ', not written' : ''}`);
    };
    const stop = () => {
      announce();
      removeTemporariesSync();
      process.exit(firstStatus);
    };
    process.on(signal, () => {
      if (stopping) return stop(); // a second signal does not wait
      stopping = true;
      // the line and the status first: the aborted call's own error then adds nothing
      announce();
      // the command's library calls stop at their next block and unwind, removing what they made
      // in their own finally blocks; main's end (finish) then exits with the status announced.
      // One that does not end within the grace is ended here, its temporaries removed for it,
      // once a file being rewritten through its own inode is finished (normalize of hard links)
      interrupted.abort(new ReprimageError('ABORTED', '', `interrupted by ${signal}`));
      setTimeout(() => afterCriticalSections(stop), UNWIND_GRACE_MS);
    });
  }
  const die = (e: unknown) => {
    const status = reportError(e, verbose);
    removeTemporariesSync();
    process.exit(status);
  };
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
  // the last chance, whoever calls process.exit (a closed stdout, a dependency)
  process.on('exit', () => removeTemporariesSync());
}

/**
 * Prints the one line an error gets and returns the exit status, unless an error was reported
 * already: then nothing is printed and the first error's status is returned.
 */
export function reportError(e: unknown, verbose = false): number {
  if (firstStatus !== undefined) return firstStatus;
  const [status, line, stack] = describe(e);
  firstStatus = status;
  if (line !== undefined) writeLine(line);
  if (verbose && stack !== undefined) writeLine(stack);
  return status;
}

function describe(e: unknown): [status: number, line: string | undefined, stack: string | undefined] {
  if (isCommanderError(e)) {
    // commander printed its own message already (configureOutput in program.ts)
    const ok = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help';
    return [ok ? EXIT_OK : EXIT_USAGE_OR_INPUT, undefined, undefined];
  }
  // an error of the operating system that no layer named (disk full, too many open files)
  const named = fromSystemError(e, '');
  if (isReprimageError(named)) return [EXIT_USAGE_OR_INPUT, `reprimage: ${firstLine(named.message)}`, undefined];
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return [EXIT_INTERNAL, `reprimage: internal error, please report: ${firstLine(text)}`, e instanceof Error ? e.stack : undefined];
}

/**
 * commander's errors, known by their codes rather than by class: `instanceof` would load
 * commander at start-up, which `--version` and the signal handlers do not need.
 */
function isCommanderError(e: unknown): e is { code: string } {
  const code = e instanceof Error ? (e as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('commander.');
}

/** One line of reasonable length: a dependency may put its whole source into a message. */
function firstLine(text: string): string {
  const line = text.split('\n', 1)[0]!.trimEnd();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

function writeLine(text: string): void {
  liftProgress(); // a bar on the terminal would share the line
  process.stderr.write(`${text}\n`);
}

/**
 * Ends the process with `status` (or the first error's or signal's) once standard output and
 * error have taken everything written to them, after removing any temporary a failed command
 * left. Ending explicitly, rather than
 * when the event loop empties, means a worker or timer left behind by a failure cannot keep
 * the process alive.
 */
export async function finish(status: number): Promise<never> {
  // an interrupted command that unwound: a section that must not be cut short may still run
  if (stopping) {
    await new Promise<void>((resolve) => afterCriticalSections(resolve));
    // what the library's own finally blocks did not remove (none, when the command unwound whole)
    if (verbose) writeLine(`reprimage: the interrupted command unwound; ${trackedCount()} temporaries left for the exit to remove`);
  }
  removeTemporariesSync();
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  process.exit(firstStatus ?? status);
}

function drained(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed || stream.writableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    stream.write('', () => resolve());
  });
}
