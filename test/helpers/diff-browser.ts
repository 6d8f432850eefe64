/**
 * Opens an HTML diff report in headless Chromium (Debian's /usr/bin/chromium) through one
 * DevTools-protocol session over `--remote-debugging-pipe` (no npm package, no browser download):
 * the viewport is set to exactly WIDTH x HEIGHT, the layout is measured (where the summary and
 * the content changes are, and whether a closed `<details>` or a hidden view hides them), and
 * screenshots of that same layout are kept as test artefacts. The page is not modified: the
 * measuring script runs in the browser beside it.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Writable, Readable } from 'node:stream';
import { REPO } from './cli.js';

export const WIDTH = 1400;
export const HEIGHT = 900;

/**
 * Where screenshots are kept: REPRIMAGE_TEST_ARTEFACTS, else in CI test-artefacts/ at the
 * repository's root (for the CI runner to collect), else a directory under the system's temp.
 */
export function artefactsDir(): string {
  const dir = process.env.REPRIMAGE_TEST_ARTEFACTS ?? (process.env.CI === 'true' ? join(REPO, 'test-artefacts') : join(tmpdir(), 'reprimage-test-artefacts'));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A content change to look for: the first element matching `selector` whose text starts with `text`. */
export interface ChangeProbe {
  selector: string;
  text: string;
}

export interface Box {
  top: number;
  bottom: number;
  height: number;
}

export interface ChangeGeometry extends Box {
  found: boolean;
  /** Closed `<details>` elements around it: each would need a click. */
  closedAncestors: number;
  /** Chromium's own verdict (display, visibility, content-visibility of every ancestor). */
  visible: boolean;
}

export interface PageGeometry {
  width: number;
  height: number;
  summary: Box | null;
  changes: ChangeGeometry[];
}

export interface Shots {
  geometry: PageGeometry;
  /** The page as first shown (the fold), then with each change found scrolled into the middle. */
  screenshots: string[];
}

/**
 * Runs in the page (plain JavaScript: the tests are compiled without the DOM's types): measures
 * the summary and each change, without clicking or changing anything.
 */
const MEASURE = `(function (changes) {
  function box(e) { var r = e.getBoundingClientRect(); return { top: r.top, bottom: r.bottom, height: r.height }; }
  function find(c) {
    return Array.prototype.find.call(document.querySelectorAll(c.selector), function (x) { return (x.textContent || '').indexOf(c.text) === 0; });
  }
  var summary = document.getElementById('summary');
  return {
    width: innerWidth,
    height: innerHeight,
    summary: summary ? box(summary) : null,
    changes: changes.map(function (c) {
      var e = find(c);
      if (!e) return { found: false, top: 0, bottom: 0, height: 0, closedAncestors: 0, visible: false };
      var closed = 0;
      for (var p = e.parentElement; p; p = p.parentElement) if (p.tagName === 'DETAILS' && !p.open) closed++;
      var visible = e.getClientRects().length > 0 && e.checkVisibility({ contentVisibilityAuto: true, opacityProperty: true, visibilityProperty: true });
      var r = box(e);
      return { found: true, top: r.top, bottom: r.bottom, height: r.height, closedAncestors: closed, visible: visible };
    }),
  };
})`;

/** Scrolls the n-th change into the middle of the viewport (for its screenshot). */
const SCROLL_TO = `(function (changes, n) {
  var c = changes[n];
  var e = Array.prototype.find.call(document.querySelectorAll(c.selector), function (x) { return (x.textContent || '').indexOf(c.text) === 0; });
  if (e) e.scrollIntoView({ block: 'center' });
})`;

/**
 * Writes `html` to the artefacts directory as NAME.html, opens it at WIDTH x HEIGHT, measures it
 * and takes the screenshots NAME-1400.png (as first shown) and NAME-1400-change-N.png.
 */
export async function openReport(html: string, name: string, changes: ChangeProbe[]): Promise<Shots> {
  const dir = artefactsDir();
  const page = join(dir, `${name}.html`);
  writeFileSync(page, html);
  const cdp = await Devtools.launch();
  try {
    const { targetId } = (await cdp.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await cdp.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    const send = (method: string, params: object = {}) => cdp.send(method, params, sessionId);
    await send('Emulation.setDeviceMetricsOverride', { width: WIDTH, height: HEIGHT, deviceScaleFactor: 1, mobile: false });
    await send('Page.enable');
    const loaded = cdp.once('Page.loadEventFired');
    await send('Page.navigate', { url: pathToFileURL(page).href });
    await loaded;
    const evaluate = async (fn: string, n = 0) => {
      const r = (await send('Runtime.evaluate', { expression: `${fn}(${JSON.stringify(changes)}, ${n})`, returnByValue: true })) as { result: { value: unknown }; exceptionDetails?: unknown };
      if (r.exceptionDetails) throw new Error(`in the page: ${JSON.stringify(r.exceptionDetails).slice(0, 2000)}`);
      return r.result.value;
    };
    const geometry = (await evaluate(MEASURE)) as PageGeometry;
    const shot = async (file: string) => {
      const { data } = (await send('Page.captureScreenshot', { format: 'png' })) as { data: string };
      writeFileSync(file, Buffer.from(data, 'base64'));
      return file;
    };
    const screenshots = [await shot(join(dir, `${name}-${WIDTH}.png`))];
    for (let n = 0; n < changes.length; n++) {
      if (!geometry.changes[n]!.found) continue;
      await evaluate(SCROLL_TO, n);
      screenshots.push(await shot(join(dir, `${name}-${WIDTH}-change-${n + 1}.png`)));
    }
    return { geometry, screenshots };
  } finally {
    await cdp.close();
  }
}

/** The DevTools protocol over Chromium's pipe: JSON messages separated by NUL bytes on fds 3 and 4. */
class Devtools {
  #next = 1;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #waiting = new Map<string, Array<() => void>>();
  #buffer = '';
  #stderr = '';

  private constructor(
    private readonly child: ReturnType<typeof spawn>,
    private readonly input: Writable,
    output: Readable,
  ) {
    output.setEncoding('utf8');
    output.on('data', (text: string) => {
      this.#buffer += text;
      for (let end = this.#buffer.indexOf('\0'); end >= 0; end = this.#buffer.indexOf('\0')) {
        this.#message(JSON.parse(this.#buffer.slice(0, end)) as { id?: number; method?: string; result?: unknown; error?: { message: string } });
        this.#buffer = this.#buffer.slice(end + 1);
      }
    });
    child.stderr!.on('data', (b: Buffer) => (this.#stderr = (this.#stderr + b.toString()).slice(-4000)));
    child.on('exit', () => {
      for (const p of this.#pending.values()) p.reject(new Error(`chromium exited: ${this.#stderr}`));
      this.#pending.clear();
    });
  }

  static async launch(): Promise<Devtools> {
    const child = spawn(
      'chromium',
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--hide-scrollbars', '--remote-debugging-pipe', 'about:blank'],
      { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
    );
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    return new Devtools(child, child.stdio[3] as Writable, child.stdio[4] as Readable);
  }

  #message(m: { id?: number; method?: string; result?: unknown; error?: { message: string } }): void {
    if (m.id !== undefined) {
      const p = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      if (m.error) p?.reject(new Error(m.error.message));
      else p?.resolve(m.result);
    } else if (m.method) {
      const waiters = this.#waiting.get(m.method) ?? [];
      this.#waiting.delete(m.method);
      for (const w of waiters) w();
    }
  }

  send(method: string, params: object = {}, sessionId?: string): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.input.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  }

  /** Resolves when the event `method` next arrives. */
  once(method: string): Promise<void> {
    return new Promise((resolve) => this.#waiting.set(method, [...(this.#waiting.get(method) ?? []), resolve]));
  }

  async close(): Promise<void> {
    const exited = new Promise<void>((resolve) => (this.child.exitCode !== null ? resolve() : this.child.once('exit', () => resolve())));
    await this.send('Browser.close').catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * What keeps a reader from seeing the report at first sight, as sentences (none: readable): the
 * viewport is not WIDTH x HEIGHT, the summary does not end above the fold, a change is missing,
 * folded (a closed `<details>` around it) or hidden; with `aboveFold`, a change below the fold.
 */
export function unreadable(g: PageGeometry, options: { aboveFold?: boolean } = {}): string[] {
  const out: string[] = [];
  if (g.width !== WIDTH || g.height !== HEIGHT) out.push(`viewport ${g.width}x${g.height}, not ${WIDTH}x${HEIGHT}`);
  if (!g.summary) out.push('no #summary');
  else if (g.summary.top < 0 || g.summary.bottom > g.height || g.summary.height <= 0) out.push(`summary at ${g.summary.top}..${g.summary.bottom}, not above the fold (${g.height})`);
  g.changes.forEach((c, i) => {
    const n = `change ${i + 1}`;
    if (!c.found) out.push(`${n} not in the page`);
    else if (c.closedAncestors > 0) out.push(`${n} inside ${c.closedAncestors} closed <details>`);
    else if (!c.visible || c.height <= 0) out.push(`${n} hidden (height ${c.height})`);
    else if (options.aboveFold && (c.top < 0 || c.bottom > g.height)) out.push(`${n} at ${c.top}..${c.bottom}, below the fold (${g.height})`);
  });
  return out;
}
