/**
 * The one error type of reprimage, with a closed set of codes.
 *
 * Every error a user can cause (bad usage, bad input) is a ReprimageError; the CLI prints its
 * `message` as one line and exits 2. Anything else escaping is a bug: one line "internal error,
 * please report" and exit 70 (src/cli/process-end.ts, docs/errors.md).
 * The message always names the file (or option) and what is wrong with it.
 */
export type ErrorCode =
  /** Wrong command-line usage or an invalid option value. */
  | 'USAGE'
  /** The input ends before a structure it declares. */
  | 'TRUNCATED'
  /** A structure holds nonsense: bad magic, bad checksum, impossible value. */
  | 'CORRUPT_IMAGE'
  /** A reference points outside the image or archive. */
  | 'OUT_OF_BOUNDS'
  /** A declared size is too large to be honest (usually a corrupt or hostile input). */
  | 'OVERFLOW'
  /** Valid input using a feature reprimage does not implement. */
  | 'UNSUPPORTED'
  /** A path that is absolute or climbs out of its root with `..`. */
  | 'PATH_ESCAPE'
  /** Symbolic links that never resolve, or a directory containing itself. */
  | 'LINK_LOOP'
  /** A named file, entry or key does not exist. */
  | 'NOT_FOUND'
  /** Two entries claim the same path, or an entry is used where another type is needed. */
  | 'CONFLICT'
  /** The operating system refused an operation (permissions, disk full, …). */
  | 'IO'
  /** An external tool reprimage runs failed. */
  | 'TOOL'
  /** The caller stopped the call with its AbortSignal; nothing was written. */
  | 'ABORTED';

export class ReprimageError extends Error {
  override readonly name = 'ReprimageError';
  constructor(
    readonly code: ErrorCode,
    /** The file, option or entry the error is about; printed first. */
    readonly subject: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(subject ? `${subject}: ${detail}` : detail, options);
  }
}

export function usageError(detail: string, subject = 'reprimage'): ReprimageError {
  return new ReprimageError('USAGE', subject, detail);
}

/** `what` at byte `offset` of `subject` needs `needed` bytes that are not there. */
export function truncatedError(subject: string, what: string, offset: number, needed?: number): ReprimageError {
  const need = needed === undefined ? '' : ` (${needed} more byte${needed === 1 ? '' : 's'} needed)`;
  return new ReprimageError('TRUNCATED', subject, `truncated ${what} at byte ${offset}${need}`);
}

export function corruptError(subject: string, what: string, offset: number | undefined, detail: string): ReprimageError {
  const at = offset === undefined ? '' : ` at byte ${offset}`;
  return new ReprimageError('CORRUPT_IMAGE', subject, `corrupt ${what}${at}: ${detail}`);
}

export function isReprimageError(e: unknown): e is ReprimageError {
  return e instanceof ReprimageError;
}

/**
 * Turns an error from node:fs into a ReprimageError naming the file, so that missing files and
 * permission problems reach the user as one line. Other errors pass through unchanged.
 */
export function fromSystemError(e: unknown, subject: string): unknown {
  if (e instanceof ReprimageError) return e;
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && typeof err.syscall === 'string') {
    const code: ErrorCode = err.code === 'ENOENT' ? 'NOT_FOUND' : err.code === 'ELOOP' ? 'LINK_LOOP' : 'IO';
    const reason = SYSTEM_REASONS[err.code] ?? `${err.syscall} failed (${err.code})`;
    // a Buffer path (a name that is not UTF-8) is named by the caller's escaped subject
    return new ReprimageError(code, typeof err.path === 'string' ? err.path : subject, reason, { cause: e });
  }
  return e;
}

const SYSTEM_REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links',
  ENOSPC: 'no space left on device',
  EEXIST: 'already exists',
};
