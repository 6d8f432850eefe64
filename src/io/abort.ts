/**
 * Stopping a library call with an AbortSignal (docs/api.md, "Stop a long write"). The call
 * rejects with an ABORTED ReprimageError naming what it was working on, whose `cause` is the
 * signal's reason. Readers and writers need not know of the signal: they are handed a source or
 * sink that refuses every read or write once it is aborted, so they stop within one block.
 */
import { ReprimageError } from '../errors.js';
import type { Sink } from './sink.js';
import type { RandomAccessSource } from './source.js';

/** The error an aborted call rejects with: the reason itself when it is already one. */
export function abortedError(signal: AbortSignal, subject: string): ReprimageError {
  const reason: unknown = signal.reason;
  if (reason instanceof ReprimageError && reason.code === 'ABORTED') return reason;
  const why = reason instanceof Error ? reason.message : String(reason);
  return new ReprimageError('ABORTED', subject, `aborted: ${why}`, { cause: reason });
}

/** Throws `abortedError` when `signal` is aborted; between the stages, entries and files of a long call. */
export function throwIfAborted(signal: AbortSignal | undefined, subject: string): void {
  if (signal?.aborted) throw abortedError(signal, subject);
}

/** `sink`, refusing every write once `signal` is aborted. */
export function abortableSink(sink: Sink, signal: AbortSignal, subject: string): Sink {
  return {
    get position() {
      return sink.position;
    },
    write: (bytes) => (throwIfAborted(signal, subject), sink.write(bytes)),
    writeAt: (offset, bytes) => (throwIfAborted(signal, subject), sink.writeAt(offset, bytes)),
    flush: () => sink.flush(),
    skip: sink.skip ? (length) => (throwIfAborted(signal, subject), sink.skip!(length)) : undefined,
    fill: sink.fill ? (length, produce) => (throwIfAborted(signal, subject), sink.fill!(length, produce)) : undefined,
  };
}

/** `source`, refusing every read once `signal` is aborted: a reader stops at its next block. */
export function abortableSource(source: RandomAccessSource, signal: AbortSignal): RandomAccessSource {
  const guarded: RandomAccessSource = {
    name: source.name,
    size: source.size,
    read: async (offset, length) => {
      throwIfAborted(signal, source.name);
      return source.read(offset, length);
    },
    close: () => source.close(),
  };
  // reads into a reused buffer stay possible (the differ compares stored extents that way)
  const into = source.readInto?.bind(source);
  if (into) {
    guarded.readInto = async (offset, target) => {
      throwIfAborted(signal, source.name);
      return into(offset, target);
    };
  }
  return guarded;
}
