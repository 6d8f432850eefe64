/**
 * Everything the CLI says on stderr besides errors: warnings, summaries, the stages of long jobs
 * and progress bars. One reporter serves every command, so `--quiet`, `--verbose`,
 * `--no-progress`, `--color` and NO_COLOR mean the same everywhere:
 *
 * - warnings, summaries and stage lines are plain lines, silenced by `--quiet`;
 * - a progress bar is drawn only on a terminal, never with `--quiet` or `--no-progress`, and
 *   redrawn with carriage returns (no escape code unless colour is on);
 * - colour is on with `--color always`, or with `auto` on a terminal when NO_COLOR is unset.
 */
import type { ProgressCount } from '../progress.js';

export type ColorWhen = 'auto' | 'always' | 'never';

export interface OutputSettings {
  quiet: boolean;
  verbose: boolean;
  progress: boolean;
  color: ColorWhen;
}

/** A bar or counter for one job; drawn only where the reporter draws. */
export interface Progress {
  /** Work done so far and, when known, the whole; `item` names what is being worked on. */
  update(done: ProgressCount, total?: ProgressCount, item?: string): void;
  /** Ends the bar: its final state stays on the terminal, or with `keep` false it is erased. */
  end(keep?: boolean): void;
}

export interface Reporter {
  warn(message: string): void;
  /** A summary line (what was written); silent with --quiet. */
  info(message: string): void;
  /** A line printed only with --verbose. */
  detail(message: string): void;
  /** Where a long job is (which build runs): on a terminal, or with --verbose. */
  status(message: string): void;
  /** A finished stage of a long job: its name, its wall time and what it made. */
  stage(name: string, milliseconds: number, detail?: string): void;
  /** Whether progress bars are drawn (a terminal, no --quiet, no --no-progress). */
  readonly animates: boolean;
  /** A bar for the job `label`; does nothing where nothing is drawn. */
  progress(label: string): Progress;
  /** Whether a report written to `stream` may carry colour escape codes. */
  colorFor(stream: { isTTY?: boolean }): boolean;
}

/** Where the reporter writes: process.stderr, or a fake in tests. */
export interface ReporterStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export const DEFAULT_SETTINGS: OutputSettings = { quiet: false, verbose: false, progress: true, color: 'auto' };

const ESC = '\u001b';
const REDRAW_MS = 100;

/** The reporter whose bar is on the terminal now, so that an error line can lift it first. */
let drawing: (() => void) | undefined;

/** Erases a bar from the terminal before process-end.ts writes an error or signal line. */
export function liftProgress(): void {
  drawing?.();
}

/**
 * The CLI's reporter. Made before the command line is parsed and configured once it is
 * (main.ts), so that commands can be handed it when they are defined.
 */
export class StderrReporter implements Reporter {
  private settings: OutputSettings = DEFAULT_SETTINGS;
  private readonly said = new Set<string>();
  /** The width of the bar line now on the terminal, 0 when none is shown. */
  private shown = 0;
  private redraw: (() => void) | undefined;

  constructor(
    private readonly stream: ReporterStream = process.stderr,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  configure(settings: Partial<OutputSettings>): void {
    this.settings = { ...this.settings, ...settings };
  }

  warn(message: string): void {
    if (this.settings.quiet || this.said.has(message)) return; // the same warning once per run is enough
    this.said.add(message);
    this.line(`reprimage: ${this.paint('33', 'warning:')} ${message}`);
  }

  info(message: string): void {
    if (!this.settings.quiet) this.line(`reprimage: ${message}`);
  }

  detail(message: string): void {
    if (this.settings.verbose && !this.settings.quiet) this.line(message);
  }

  status(message: string): void {
    if (this.settings.quiet) return;
    if (this.settings.verbose || this.animates) this.line(`reprimage: ${message}`);
  }

  stage(name: string, milliseconds: number, detail?: string): void {
    if (this.settings.quiet) return;
    const seconds = `${(milliseconds / 1000).toFixed(1)} s`.padStart(8);
    this.line(`reprimage: ${this.paint('1', name.padEnd(12))}${seconds}${detail ? `  ${detail}` : ''}`);
  }

  get animates(): boolean {
    return this.stream.isTTY === true && this.settings.progress && !this.settings.quiet;
  }

  colorFor(stream: { isTTY?: boolean }): boolean {
    if (this.settings.color !== 'auto') return this.settings.color === 'always';
    return stream.isTTY === true && (this.env.NO_COLOR ?? '') === '' && this.env.TERM !== 'dumb';
  }

  progress(label: string): Progress {
    if (!this.animates) return { update() {}, end() {} };
    const started = performance.now();
    let last = -Infinity;
    let state: { done: ProgressCount; total?: ProgressCount; item?: string } = { done: { entries: 0, bytes: 0 } };
    const draw = () => this.draw(progressText(label, state.done, state.total, performance.now() - started, state.item, this.width()));
    return {
      update: (done, total, item) => {
        state = { done: { ...done }, total: total && { ...total }, item };
        this.redraw = draw;
        const now = performance.now();
        if (now - last < REDRAW_MS) return;
        last = now;
        draw();
      },
      end: (keep = true) => {
        this.redraw = undefined;
        if (keep) {
          const done = state.total ?? state.done;
          this.draw(progressText(label, { entries: Math.max(done.entries, state.done.entries), bytes: Math.max(done.bytes, state.done.bytes) }, state.total, performance.now() - started, undefined, this.width()));
          this.stream.write('\n');
          this.shown = 0;
          if (drawing === this.lift) drawing = undefined;
        } else {
          this.erase();
        }
      },
    };
  }

  /** Erases the bar, for good: the process is ending. */
  private readonly lift = (): void => {
    this.redraw = undefined;
    this.erase();
  };

  /** Writes one line, lifting a bar out of the way and drawing it again below. */
  private line(text: string): void {
    this.erase();
    this.stream.write(`${text}\n`);
    this.redraw?.();
  }

  private draw(text: string): void {
    const color = this.colorFor(this.stream);
    // without escape codes, spaces overwrite what is left of a longer line before
    const pad = color ? '' : ' '.repeat(Math.max(0, this.shown - text.length));
    this.stream.write(`\r${color ? `${ESC}[K` : ''}${text}${pad}`);
    this.shown = text.length;
    drawing = this.lift;
  }

  private erase(): void {
    if (this.shown === 0) return;
    this.stream.write(this.colorFor(this.stream) ? `\r${ESC}[K` : `\r${' '.repeat(this.shown)}\r`);
    this.shown = 0;
    if (drawing === this.lift) drawing = undefined;
  }

  private width(): number {
    return Math.max(40, (this.stream.columns || 80) - 1);
  }

  private paint(code: string, text: string): string {
    return this.colorFor(this.stream) ? `${ESC}[${code}m${text}${ESC}[0m` : text;
  }
}

/**
 * The bar's text: `LABEL [####......]  42%  120/300 files  1.2/3.0 MiB  4.0 MiB/s  ETA 0:01`,
 * or a counter when the whole is unknown; cut to `width` characters.
 */
export function progressText(label: string, done: ProgressCount, total: ProgressCount | undefined, elapsedMs: number, item: string | undefined, width: number): string {
  const seconds = elapsedMs / 1000;
  const byBytes = total !== undefined && total.bytes > 0;
  const fraction = total === undefined ? undefined : byBytes ? done.bytes / total.bytes : total.entries > 0 ? done.entries / total.entries : 1;
  let bar: string | undefined;
  if (fraction !== undefined) {
    const f = Math.min(1, Math.max(0, fraction));
    const cells = width < 100 ? 10 : 20;
    const full = Math.round(f * cells);
    bar = `[${'#'.repeat(full)}${'.'.repeat(cells - full)}] ${String(Math.floor(f * 100)).padStart(3)}%`;
  }
  const entries = total === undefined ? `${done.entries} entries` : `${Math.min(done.entries, total.entries)}/${total.entries} entries`;
  const bytes = done.bytes > 0 || byBytes ? (total === undefined || !byBytes ? bytesText(done.bytes) : `${bytesText(Math.min(done.bytes, total.bytes))}/${bytesText(total.bytes)}`) : undefined;
  const rate = seconds >= 0.5 && done.bytes > 0 ? `${bytesText(done.bytes / seconds)}/s` : undefined;
  const time = fraction !== undefined && fraction > 0 && fraction < 1 && seconds >= 1 ? `ETA ${clock((seconds * (1 - fraction)) / fraction)}` : clock(seconds);
  // what a narrow terminal loses first: the item, the rate, the bytes, the bar
  const parts: Array<string | undefined> = [label, bar, entries, bytes, rate, time, item];
  const dropOrder = [6, 4, 3, 1];
  const text = () => parts.filter((p) => p !== undefined).join('  ');
  for (const k of dropOrder) {
    if (text().length <= width) break;
    if (k === 6 && item !== undefined) {
      // an item is cut from the left (the end of a path tells most) before it goes
      const room = width - parts.slice(0, 6).filter((p) => p !== undefined).join('  ').length - 2;
      if (room >= 12) {
        parts[6] = item.length > room ? `…${item.slice(-(room - 1))}` : item;
        continue;
      }
    }
    parts[k] = undefined;
  }
  const line = text();
  return line.length > width ? line.slice(0, width) : line;
}

/** Bytes in binary units with one decimal: `512 B`, `1.5 KiB`, `3.0 GiB`. */
export function bytesText(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = bytes;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(n)} B` : `${n.toFixed(1)} ${units[u]}`;
}

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** A reporter configured at once, for callers outside main.ts (tests, the library's own tools). */
export function stderrReporter(quiet: boolean): StderrReporter {
  const reporter = new StderrReporter();
  reporter.configure({ quiet });
  return reporter;
}
