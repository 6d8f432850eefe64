/**
 * The three verdicts of a rebuild and what each means for the exit status:
 * - `reproduced` (0): the rebuilt image has the published image's bytes;
 * - `differs` (1): it was rebuilt from the recorded inputs and its bytes are not the published
 *   ones; the diff report says where;
 * - `cannot rebuild` (2): the rebuild did not happen, because an input is missing or does not
 *   match its recorded hash, a package is no longer served, or a tool's version is outside what
 *   the manifest allows. This says nothing about the image either way.
 */
export type Verdict = 'reproduced' | 'differs' | 'cannot rebuild';

export const VERDICT_EXIT: Record<Verdict, number> = { reproduced: 0, differs: 1, 'cannot rebuild': 2 };

/** Why a rebuild cannot happen: one line naming the input and the problem. */
export class CannotRebuild extends Error {
  override readonly name = 'CannotRebuild';
  constructor(
    readonly subject: string,
    readonly detail: string,
  ) {
    super(`${subject}: ${detail}`);
  }
}

/** The verdict from the two digests: equal bytes are the only `reproduced`. */
export function verdictOf(published: { sha256: string; size: number }, rebuilt: { sha256: string; size: number } | undefined): Verdict {
  if (rebuilt === undefined) return 'cannot rebuild';
  return published.sha256 === rebuilt.sha256 && published.size === rebuilt.size ? 'reproduced' : 'differs';
}

/** The verdict line printed first: `reproduced: rootfs.tar sha256 …`. */
export function verdictLine(verdict: Verdict, image: string, detail: string): string {
  return `${verdict}: ${image}${detail ? `: ${detail}` : ''}`;
}
