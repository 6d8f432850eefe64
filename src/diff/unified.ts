/**
 * Line diffs in unified format, as `diff -u` prints them minus the `---`/`+++` header (which
 * the Difference tree holds as source1/source2, as diffoscope does).
 *
 * The edit script is Myers' greedy O(ND) algorithm after trimming the common prefix and suffix.
 * Its memory grows with the square of the number of edits, so it gives up past `maxEdits` and
 * reports the remaining middle as one replaced block: still a correct diff, only a longer one.
 */

export interface UnifiedDiffOptions {
  /** Lines of context around each change (default 3). */
  context?: number;
  /** Cut the diff after this many lines (default 256); a last line says how many were cut. */
  maxLines?: number;
  /** Give up looking for the shortest edit script past this many edits (default 2000). */
  maxEdits?: number;
}

export const DEFAULT_MAX_DIFF_LINES = 256;

/** One step of an edit script: keep a line of both, drop a line of a, or add a line of b. */
type Op = 0 | 1 | 2;
const KEEP: Op = 0;
const DEL: Op = 1;
const ADD: Op = 2;

/** The unified diff of two line lists; '' when they are equal. */
export function unifiedDiff(a: readonly string[], b: readonly string[], options: UnifiedDiffOptions = {}): string {
  const context = options.context ?? 3;
  const maxLines = options.maxLines ?? DEFAULT_MAX_DIFF_LINES;
  const ops = editScript(a, b, options.maxEdits ?? 2000);
  if (!ops.some((op) => op !== KEEP)) return '';
  const out: string[] = [];
  let cut = 0;
  const emit = (line: string) => {
    if (out.length < maxLines) out.push(line);
    else cut++;
  };
  // walk the script hunk by hunk; `k` is where the previous hunk ended
  let i = 0;
  let k = 0;
  // line numbers of a and b at op index `scanned`, advanced as hunks are found
  let scanned = 0;
  let la = 0;
  let lb = 0;
  while (i < ops.length) {
    if (ops[i] === KEEP) {
      i++;
      continue;
    }
    // a hunk: from `context` keeps before this change to `context` keeps after the last change
    // that is separated from the next by no more than 2*context keeps
    let end = i;
    for (let j = i; j < ops.length; ) {
      if (ops[j] !== KEEP) {
        end = j + 1;
        j++;
        continue;
      }
      let run = 0;
      while (j + run < ops.length && ops[j + run] === KEEP) run++;
      if (j + run >= ops.length || run > 2 * context) break;
      j += run;
    }
    const start = Math.max(i - context, k);
    const stop = Math.min(end + context, ops.length);
    for (; scanned < start; scanned++) {
      if (ops[scanned] !== ADD) la++;
      if (ops[scanned] !== DEL) lb++;
    }
    let na = 0;
    let nb = 0;
    const body: string[] = [];
    let pa = la;
    let pb = lb;
    for (let j = start; j < stop; j++) {
      const op = ops[j];
      if (op === KEEP) {
        body.push(` ${a[pa]}`);
        pa++;
        pb++;
        na++;
        nb++;
      } else if (op === DEL) {
        body.push(`-${a[pa]}`);
        pa++;
        na++;
      } else {
        body.push(`+${b[pb]}`);
        pb++;
        nb++;
      }
    }
    emit(`@@ -${range(la, na)} +${range(lb, nb)} @@`);
    for (const line of body) emit(line);
    k = stop;
    i = stop;
  }
  if (cut > 0) out.push(`[ ${cut} lines left out: over the limit of ${maxLines} lines (--max-diff-lines) ]`);
  return `${out.join('\n')}\n`;
}

/** diff -u's range notation: `start,count`, with `start` 1-based, or one before for count 0. */
function range(start: number, count: number): string {
  if (count === 1) return `${start + 1}`;
  return `${count === 0 ? start : start + 1},${count}`;
}

/** The shortest (or, past maxEdits, a correct) edit script turning a into b. */
export function editScript(a: readonly string[], b: readonly string[], maxEdits: number): Op[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  // intern lines as numbers so the inner loop compares integers
  const ids = new Map<string, number>();
  const intern = (lines: readonly string[], from: number, to: number): Int32Array => {
    const out = new Int32Array(to - from);
    for (let i = from; i < to; i++) {
      const line = lines[i]!;
      let id = ids.get(line);
      if (id === undefined) ids.set(line, (id = ids.size));
      out[i - from] = id;
    }
    return out;
  };
  const x = intern(a, pre, a.length - suf);
  const y = intern(b, pre, b.length - suf);
  const middle = myers(x, y, maxEdits) ?? [...new Array<Op>(x.length).fill(DEL), ...new Array<Op>(y.length).fill(ADD)];
  return [...new Array<Op>(pre).fill(KEEP), ...middle, ...new Array<Op>(suf).fill(KEEP)];
}

/** Myers' greedy algorithm keeping each round's frontier for the backtrack; undefined past maxD. */
function myers(a: Int32Array, b: Int32Array, maxD: number): Op[] | undefined {
  const n = a.length;
  const m = b.length;
  if (n === 0) return new Array<Op>(m).fill(ADD);
  if (m === 0) return new Array<Op>(n).fill(DEL);
  const limit = Math.min(n + m, maxD);
  const offset = limit + 1;
  let v = new Int32Array(2 * limit + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= limit; d++) {
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    const next = v;
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && next[offset + k - 1]! < next[offset + k + 1]!) ? next[offset + k + 1]! : next[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      next[offset + k] = x;
      if (x >= n && y >= m) return backtrack(trace, d, n, m);
    }
    v = next;
  }
  return undefined;
}

function backtrack(trace: Int32Array[], dEnd: number, n: number, m: number): Op[] {
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = dEnd; d > 0; d--) {
    const v = trace[d]!; // frontier before round d, indexed k + d + 1
    const at = (k: number) => v[k + d + 1]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push(KEEP);
      x--;
      y--;
    }
    if (prevK === k + 1) ops.push(ADD);
    else ops.push(DEL);
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) {
    ops.push(KEEP);
    x--;
    y--;
  }
  return ops.reverse();
}
