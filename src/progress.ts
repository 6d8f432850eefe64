/**
 * How long library jobs tell their caller how far they are. Library code never writes to a
 * terminal; it calls the callback its caller passed in options, and the CLI draws
 * (src/cli/reporter.ts).
 */

/** Work done so far, or the whole of it: entries (files, members) and their bytes. */
export interface ProgressCount {
  entries: number;
  bytes: number;
}

/** Called as work advances; `total` is what the whole job will amount to, when it is known. */
export type ProgressCallback = (done: ProgressCount, total: ProgressCount | undefined) => void;

/** Called when a named stage of a long job ends, with its wall time and what it produced. */
export type StageCallback = (name: string, milliseconds: number, detail?: string) => void;
