/**
 * A declarative sample tree, shared by the tests of every format: one spec, made real on disk by
 * `materialize` (for the reference tools and for `loadDirectory`) and turned into the Tree our
 * loaders should produce by `specToTree`. `sampleSpec()` holds every entry type and the corner
 * cases archive formats trip over; tests may build their own specs with the same types.
 *
 *   const spec = materialize(sampleSpec(), dir, { epoch: E }); // what could be made here
 *   const want = specToTree(spec, { epoch: E });               // what a reader must return
 *
 * `materialize` returns the spec it actually realized: without root it drops devices and
 * ownership, without `setfattr` (or a file system that refuses) it drops extended attributes.
 * Always pass the returned spec to `specToTree`.
 */
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, closeSync, ftruncateSync, linkSync, lutimesSync, mkdirSync, openSync, symlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { bytesContent, readContent, streamContent, type Content, type DataRegion } from '../../src/tree/content.js';
import { treeToJson, type EntryJson } from '../../src/tree/describe.js';
import { Tree, newMeta, type Meta, type Node, type Time } from '../../src/tree/tree.js';
import { hasTool, run } from './tools.js';

/** File contents: literal bytes, or a (possibly huge, possibly sparse) generated file. */
export type SampleContent =
  | string
  | Uint8Array
  /** `size` bytes of zeros with `regions` written over them; on disk a sparse file. */
  | { size: number; regions?: Array<{ offset: number; text: string }> };

interface Common {
  /** Relative, '/'-separated path; parents are created (0755, owner 0, at `epoch`) when missing. */
  path: string;
  /** Permission bits (0o7777 mask). Defaults: files 0644, directories 0755, devices/fifos 0644. */
  mode?: number;
  uid?: number;
  gid?: number;
  /** Seconds, or seconds and nanoseconds; defaults to the `epoch` option. */
  mtime?: number | Time;
  /** Extended attributes, values as text (latin1) or bytes. */
  xattrs?: Record<string, string | Uint8Array>;
}

export type SampleEntry =
  | (Common & { type: 'file'; content: SampleContent })
  | (Common & { type: 'dir' })
  | (Common & { type: 'symlink'; target: string })
  /** A second path of the file at `target` (an earlier entry); it has no metadata of its own. */
  | { type: 'hardlink'; path: string; target: string }
  | (Common & { type: 'fifo' })
  | (Common & { type: 'char' | 'block'; major: number; minor: number });

export interface SampleSpec {
  /** Metadata of the root directory itself (path ''). */
  root?: Omit<Common, 'path'>;
  entries: SampleEntry[];
}

export interface SampleOptions {
  /** The mtime of every entry that sets none (seconds). */
  epoch: number;
}

const DEFAULT_MODE = { file: 0o644, dir: 0o755, symlink: 0o777, fifo: 0o644, char: 0o644, block: 0o644 } as const;

/**
 * The standard sample: nested directories (one 0700, one sticky 1777, one setgid), empty, small
 * and multi-block files, a setuid file, names whose `./` form is exactly 100 and 101 bytes, a
 * directory whose `./NAME/` form is exactly 100 bytes, a 250-byte path, a 150-byte symlink target,
 * a symlink with a UTF-8 target, a hard link pair, a fifo, a character and a block device, a UTF-8
 * name, a non-root owner, a sub-second mtime, xattrs (a user one and security.capability), and
 * `a`, `a.b`, `a/x`, which sort differently by whole path (`a.b` < `a/x`) and per directory.
 */
export function sampleSpec(): SampleSpec {
  const n100 = 'n'.repeat(100 - './usr/share/'.length);
  const n101 = 'm'.repeat(101 - './usr/share/'.length);
  const d100 = 'd'.repeat(100 - './usr/'.length - 1);
  const deep = 'usr/share/' + 'long/'.repeat(20) + 'f'.repeat(250 - 'usr/share/'.length - 100);
  return {
    root: { mode: 0o755 },
    entries: [
      { type: 'dir', path: 'a', mode: 0o700 },
      { type: 'file', path: 'a/x', content: 'x' },
      { type: 'file', path: 'a.b', content: 'whole-path order puts me before a/x\n' },
      { type: 'dir', path: 'etc' },
      { type: 'file', path: 'etc/hostname', content: 'box\n', mode: 0o640, gid: 42, xattrs: { 'user.comment': 'hello' } },
      { type: 'file', path: 'etc/empty', content: '' },
      { type: 'file', path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n', uid: 1000, gid: 1000, mtime: { sec: 1_500_000_000, nsec: 250_000_000 } },
      { type: 'dir', path: 'usr/bin' },
      { type: 'file', path: 'usr/bin/tool', content: pattern(70_000), mode: 0o4755, xattrs: { 'security.capability': hex('0100000200100000000000000000000000000000') } },
      { type: 'hardlink', path: 'usr/bin/tool-hardlink', target: 'usr/bin/tool' },
      { type: 'symlink', path: 'usr/bin/sh', target: 'tool' },
      { type: 'symlink', path: 'usr/bin/longlink', target: '../../' + 't'.repeat(150 - 6) },
      { type: 'symlink', path: 'usr/bin/caf\u00e9-link', target: 'caf\u00e9' },
      { type: 'dir', path: `usr/${d100}` },
      { type: 'dir', path: 'usr/share', mode: 0o2755 },
      { type: 'file', path: `usr/share/${n100}`, content: 'exactly 100 bytes as ./NAME\n' },
      { type: 'file', path: `usr/share/${n101}`, content: '101 bytes as ./NAME\n' },
      { type: 'file', path: deep, content: 'deep and long\n' },
      { type: 'file', path: 'usr/share/caf\u00e9 \u{1F600}', content: 'utf-8\n' },
      { type: 'dir', path: 'run' },
      { type: 'fifo', path: 'run/fifo', mode: 0o600 },
      { type: 'dir', path: 'tmp', mode: 0o1777 },
      { type: 'dir', path: 'dev' },
      { type: 'char', path: 'dev/null', major: 1, minor: 3, mode: 0o666 },
      { type: 'block', path: 'dev/sda1', major: 8, minor: 1, mode: 0o660, gid: 6 },
    ],
  };
}

/** `n` bytes of a fixed, non-repeating-per-block pattern (so misplaced blocks show). */
export function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function hex(s: string): Uint8Array {
  return Buffer.from(s, 'hex');
}

function mtimeOf(e: { mtime?: number | Time }, options: SampleOptions): Time {
  if (e.mtime === undefined) return { sec: options.epoch, nsec: 0 };
  return typeof e.mtime === 'number' ? { sec: e.mtime, nsec: 0 } : { ...e.mtime };
}

function contentOf(c: SampleContent, origin: string): Content {
  if (typeof c === 'string') return bytesContent(Buffer.from(c, 'utf8'), origin);
  if (c instanceof Uint8Array) return bytesContent(c, origin);
  return generatedContent(c.size, c.regions ?? [], origin);
}

/** A lazily generated file of `size` bytes, zeros except `regions`; its data regions exposed. */
export function generatedContent(size: number, regions: Array<{ offset: number; text: string }>, origin = '<generated>'): Content {
  const sorted = [...regions].sort((a, b) => a.offset - b.offset);
  const dataRegions: DataRegion[] = sorted.map((r) => ({ offset: r.offset, length: Buffer.byteLength(r.text) }));
  return streamContent(
    size,
    origin,
    async function* () {
      const zeros = new Uint8Array(1 << 20);
      let pos = 0;
      const fill = function* (until: number) {
        while (pos < until) {
          const n = Math.min(zeros.length, until - pos);
          pos += n;
          yield zeros.subarray(0, n);
        }
      };
      for (const r of sorted) {
        yield* fill(r.offset);
        const bytes = Buffer.from(r.text);
        pos += bytes.length;
        yield bytes;
      }
      yield* fill(size);
    },
    dataRegions,
  );
}

function xattrsOf(e: { xattrs?: Record<string, string | Uint8Array> }): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>();
  for (const [k, v] of Object.entries(e.xattrs ?? {})) m.set(k, typeof v === 'string' ? Buffer.from(v, 'latin1') : v);
  return m;
}

/** The Tree a loader must produce from `spec` made real with the same `epoch`. */
export function specToTree(spec: SampleSpec, options: SampleOptions): Tree {
  const parentMeta: Partial<Meta> = { mtime: { sec: options.epoch, nsec: 0 } };
  const tree = new Tree();
  Object.assign(tree.root, metaOf({ path: '', ...spec.root }, 'dir', options));
  for (const e of spec.entries) {
    if (e.type === 'hardlink') {
      const target = tree.get(e.target);
      if (!target || target.kind === 'dir') throw new Error(`sample spec: hard link ${e.path} to ${e.target}, which is not an earlier non-directory`);
      tree.set(e.path, target, parentMeta);
      continue;
    }
    const meta = metaOf(e, e.type, options);
    let node: Node;
    switch (e.type) {
      case 'file':
        node = { kind: 'file', ...meta, content: contentOf(e.content, e.path) };
        break;
      case 'dir':
        node = { kind: 'dir', ...meta, children: new Map() };
        break;
      case 'symlink':
        node = { kind: 'symlink', ...meta, target: e.target };
        break;
      case 'fifo':
        node = { kind: 'fifo', ...meta };
        break;
      case 'char':
      case 'block':
        node = { kind: e.type, ...meta, major: e.major, minor: e.minor };
        break;
    }
    tree.set(e.path, node, parentMeta);
  }
  return tree;
}

function metaOf(e: Common, type: keyof typeof DEFAULT_MODE, options: SampleOptions): Meta {
  return newMeta({ mode: e.mode ?? DEFAULT_MODE[type], uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: mtimeOf(e, options), xattrs: xattrsOf(e) });
}

/**
 * Creates `spec` under `dir` (which may exist and must be empty): modes set with chmod (the umask
 * does not matter), owners with chown, xattrs with setfattr, then every mtime with lutimes,
 * deepest first so that making children does not move a directory's time. Returns the spec as
 * realized (see the module comment).
 */
export function materialize(spec: SampleSpec, dir: string, options: SampleOptions): SampleSpec {
  const isRoot = process.getuid?.() === 0;
  const canXattr = hasTool('setfattr');
  const realized: SampleEntry[] = [];
  const strip = <T extends SampleEntry>(e: T): T => {
    if (e.type === 'hardlink') return e;
    const copy = { ...e } as T & Common;
    if (!isRoot) {
      // everything belongs to whoever runs the test
      copy.uid = process.getuid?.() ?? 0;
      copy.gid = process.getgid?.() ?? 0;
      // security.* and trusted.* need privileges
      if (copy.xattrs) copy.xattrs = Object.fromEntries(Object.entries(copy.xattrs).filter(([k]) => k.startsWith('user.')));
    }
    if (!canXattr) delete copy.xattrs;
    return copy;
  };
  mkdirSync(dir, { recursive: true });
  const made = new Set<string>(['']);
  // parents the spec leaves out become explicit entries of the realized spec
  const ensureParents = (path: string) => {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      if (!made.has(p)) {
        const parent = strip<SampleEntry>({ type: 'dir', path: p, mode: 0o755 });
        mkdirSync(join(dir, p));
        if (isRoot) chownSync(join(dir, p), 0, 0);
        chmodSync(join(dir, p), 0o755);
        made.add(p);
        realized.push(parent);
      }
    }
  };
  for (const original of spec.entries) {
    if ((original.type === 'char' || original.type === 'block') && !isRoot) continue;
    const e = strip(original);
    const full = join(dir, e.path);
    ensureParents(e.path);
    switch (e.type) {
      case 'file':
        writeContent(full, e.content);
        break;
      case 'dir':
        mkdirSync(full, { recursive: true });
        break;
      case 'symlink':
        symlinkSync(e.target, full);
        break;
      case 'hardlink':
        linkSync(join(dir, e.target), full);
        break;
      case 'fifo':
        run('mkfifo', [full]);
        break;
      case 'char':
      case 'block':
        run('mknod', [full, e.type === 'char' ? 'c' : 'b', String(e.major), String(e.minor)]);
        break;
    }
    made.add(e.path);
    if (e.type !== 'hardlink' && e.type !== 'symlink') {
      if (isRoot) chownSync(full, e.uid ?? 0, e.gid ?? 0);
      chmodSync(full, e.mode ?? DEFAULT_MODE[e.type]);
    } else if (e.type === 'symlink' && isRoot) {
      run('chown', ['-h', `${e.uid ?? 0}:${e.gid ?? 0}`, full]);
    }
    if (e.type !== 'hardlink') {
      for (const [k, v] of Object.entries(e.xattrs ?? {})) {
        const value = typeof v === 'string' ? Buffer.from(v, 'latin1') : Buffer.from(v);
        run('setfattr', ['-h', '-n', k, '-v', `0x${value.toString('hex')}`, full]);
      }
    }
    realized.push(e);
  }
  const { path: _root, type: _dir, ...root } = strip<SampleEntry>({ type: 'dir', path: '', ...spec.root }) as Common & { type: 'dir' };
  if (isRoot) chownSync(dir, root.uid ?? 0, root.gid ?? 0);
  chmodSync(dir, root.mode ?? 0o755);
  // times last, deepest paths first: creating an entry changes its parent's mtime
  const times = new Map<string, Time>([['', mtimeOf(root, options)]]);
  for (const e of realized) if (e.type !== 'hardlink') times.set(e.path, mtimeOf(e, options));
  const byDepth = [...times.keys()].sort((a, b) => b.split('/').length - a.split('/').length || (a < b ? -1 : 1));
  for (const p of byDepth) {
    const t = times.get(p)!;
    // lutimes takes float seconds, which cannot carry every nanosecond: touch -d can
    if (t.nsec === 0) lutimesSync(join(dir, p), t.sec, t.sec);
    else run('touch', ['-h', '-d', `@${t.sec}.${String(t.nsec).padStart(9, '0')}`, join(dir, p)]);
  }
  return { root, entries: realized };
}

function writeContent(path: string, c: SampleContent): void {
  if (typeof c === 'string' || c instanceof Uint8Array) {
    const bytes = typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
    const fd = openSync(path, 'w');
    try {
      if (bytes.length > 0) writeSync(fd, bytes, 0, bytes.length, 0);
    } finally {
      closeSync(fd);
    }
    return;
  }
  // a sparse file: only the regions take space on disk
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, c.size);
    for (const r of c.regions ?? []) writeSync(fd, Buffer.from(r.text), 0, Buffer.byteLength(r.text), r.offset);
  } finally {
    closeSync(fd);
  }
}

/** treeToJson plus each file's sha256, for comparing trees including their contents. */
export async function treeListing(tree: Tree): Promise<Array<EntryJson & { sha256?: string }>> {
  const json: Array<EntryJson & { sha256?: string }> = treeToJson(tree);
  let i = 0;
  for (const { node, linkTo } of tree.walk()) {
    const e = json[i++]!;
    if (node.kind === 'file' && linkTo === undefined) e.sha256 = await contentSha256(node.content);
  }
  return json;
}

/** The sha256 of a content, streamed (works for multi-GiB generated contents). */
export async function contentSha256(content: Content): Promise<string> {
  if (content.size < 1 << 20) return createHash('sha256').update(await readContent(content)).digest('hex');
  const h = createHash('sha256');
  for await (const chunk of content.chunks()) h.update(chunk);
  return h.digest('hex');
}

/**
 * A build time later than every time the tests' trees hold, for writer tests that are not about
 * clamping (2^33 - 1 still fits tar's 11 octal digits).
 */
export const LATE_BUILD_TIME = 2 ** 33 - 1;

/**
 * `floor`, or a later build time when `tree` holds later times: for writer tests that compare the
 * Tree read back with the Tree written (a real tree made today), which are not about clamping.
 */
export function buildTimeFor(tree: Tree, floor: number): number {
  let t = floor;
  for (const { node } of tree.walk()) t = Math.max(t, node.mtime.sec + (node.mtime.nsec > 0 ? 1 : 0));
  return t;
}
