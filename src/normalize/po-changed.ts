/**
 * Whether two gettext catalogs (.po/.pot) differ in more than what every extraction run changes:
 * the header's `POT-Creation-Date` and the `#:` reference comments (source line numbers). A build
 * uses it to keep the old catalog when the new one only moved, so catalogs are not rewritten
 * for nothing (the Tails reproducible-build approach).
 */

export interface PoComparison {
  changed: boolean;
  /** 1-based line numbers of the first meaningful difference (0 when a file ended first). */
  oldLine?: number;
  newLine?: number;
}

export interface PoCompareOptions {
  /** Also ignore every other comment line (translator `# `, extracted `#.`, flags `#,`, previous `#|`). */
  ignoreAllComments?: boolean;
}

const CREATION_DATE = /^"POT-Creation-Date: [^"]*"\r?$/;

function meaningfulLines(text: string, options: PoCompareOptions): Array<{ line: number; text: string }> {
  const out: Array<{ line: number; text: string }> = [];
  text.split('\n').forEach((raw, i) => {
    const s = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (s.startsWith('#:') || CREATION_DATE.test(s)) return;
    if (options.ignoreAllComments && s.startsWith('#')) return;
    out.push({ line: i + 1, text: s });
  });
  while (out.length > 0 && out[out.length - 1]!.text === '') out.pop();
  return out;
}

/** Compares two catalogs' bytes (read as Latin-1, so any encoding compares byte for byte). */
export function comparePo(oldBytes: Uint8Array, newBytes: Uint8Array, options: PoCompareOptions = {}): PoComparison {
  const a = meaningfulLines(Buffer.from(oldBytes).toString('latin1'), options);
  const b = meaningfulLines(Buffer.from(newBytes).toString('latin1'), options);
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i]!.text !== b[i]!.text) return { changed: true, oldLine: a[i]!.line, newLine: b[i]!.line };
  }
  if (a.length !== b.length) return { changed: true, oldLine: a[n]?.line ?? 0, newLine: b[n]?.line ?? 0 };
  return { changed: false };
}
