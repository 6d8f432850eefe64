/**
 * The contract every normalizer follows. A normalizer reads one file through a
 * RandomAccessSource and, if it recognises it, returns a `Rewrite` that writes the whole
 * normalized file to a Sink, sequentially (never `writeAt`), so the same rewrite can first be
 * compared with the input and then written for real. Nondeterministic fields are replaced by
 * values derived from the context only; everything else is copied byte for byte.
 */
import { ReprimageError } from '../errors.js';
import type { RandomAccessSource } from '../io/source.js';
import type { Sink } from '../io/sink.js';
import type { ErrorCode } from '../errors.js';
import type { Tree } from '../tree/tree.js';

/** The handlers reprimage has; `--type` takes one of these names. */
export const HANDLER_IDS = ['zip', 'jar', 'gzip', 'png', 'ar', 'gettext-po', 'gettext-mo', 'pom-properties', 'javadoc', 'pyc', 'tar', 'cpio'] as const;
export type HandlerId = (typeof HANDLER_IDS)[number];

export interface NormalizeContext {
  /** The reference time in seconds since the epoch (SOURCE_DATE_EPOCH). */
  readonly buildTime: number;
  /**
   * true: only times later than `buildTime` are lowered to it (docs/design.md rule 3);
   * false: every time is set to `buildTime`, as `strip-nondeterminism --timestamp` does.
   */
  readonly clamp: boolean;
  /** The file name used in messages (and by handlers that look at the name). */
  readonly subject: string;
  /** How many archives this file is inside (0 on disk); the archive handlers bound it. */
  readonly depth?: number;
  warn(message: string): void;
  /**
   * Runs every handler over the files of an archive's member Tree (tree.ts's `normalizeTree`).
   * The tar and cpio handlers get it from their caller rather than importing it, since it
   * dispatches through the registry that lists them (no import cycle).
   */
  readonly normalizeMembers: MemberNormalizer;
}

/** What `NormalizeContext.normalizeMembers` does: one result per recognised member file. */
export type MemberNormalizer = (
  tree: Tree,
  options: { buildTime: number; clamp: boolean; subject: string; depth: number; concurrency: number },
) => Promise<Array<{ warnings: string[]; error?: { code: ErrorCode; message: string } }>>;

/** Writes the complete normalized file, front to back. */
export type Rewrite = (sink: Sink) => Promise<void>;

export interface Normalizer {
  readonly id: HandlerId;
  /** One line for `--help` and the JSON report. */
  readonly description: string;
  /**
   * Whether the file is of this type, judged from its first bytes (up to HEAD_SIZE) and its
   * size; `name` only breaks ties between formats sharing a magic (zip vs jar, .po vs .pot).
   */
  detect(head: Uint8Array, size: number, name: string): boolean;
  /**
   * Parses the file. Returns undefined when it must be left alone (a signed jar), otherwise the
   * rewrite. A file that cannot be parsed throws a ReprimageError naming `ctx.subject`.
   */
  prepare(source: RandomAccessSource, ctx: NormalizeContext): Promise<Rewrite | undefined>;
}

/** How many leading bytes detection looks at. */
export const HEAD_SIZE = 4096;

/** The time a field gets: `t` clamped to the context's timestamp, or the timestamp itself. */
export function normalizedTime(ctx: Pick<NormalizeContext, 'buildTime' | 'clamp'>, t: number): number {
  return ctx.clamp ? Math.min(t, ctx.buildTime) : ctx.buildTime;
}

/** Reads a whole (small) file into memory, refusing sizes above `limit`. */
export async function readWhole(source: RandomAccessSource, limit: number, what: string): Promise<Uint8Array> {
  if (source.size > limit) {
    throw new ReprimageError('OVERFLOW', source.name, `${what} of ${source.size} bytes is larger than the ${limit} bytes this handler reads`);
  }
  return source.read(0, source.size);
}
