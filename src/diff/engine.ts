/**
 * The diff engine: compares two inputs recursively and builds the Difference tree.
 *
 * For each pair of byte blobs: equal bytes are never opened (sizes first, then both streams in
 * lockstep, stopping at the first difference). Otherwise the first comparator in the registry
 * that recognizes both sides opens them; their described structures are compared as text and
 * their members are paired by name, compared for metadata, and recursed into. Whatever a reader
 * cannot open becomes a comment ("could not read as squashfs: …") and the bytes are compared as
 * text or as a hex dump. Members are compared several at a time; results keep their order, so
 * the report does not depend on which comparison finishes first.
 */
import { stat } from 'node:fs/promises';
import { fromSystemError, ReprimageError } from '../errors.js';
import { abortedError, throwIfAborted } from '../io/abort.js';
import { loadDirectory } from '../tree/load-dir.js';
import { compareNames } from '../tree/names.js';
import { compileExcludes, type PathMatcher } from '../tree/excludes.js';
import { abortableBlob, contentBlob, fileBlob, sameBytes, type Blob } from './blob.js';
import { HEAD_SIZE, type Comparator, type Container, type Member } from './comparator.js';
import { Difference, MISSING, PATH_SEPARATOR, type EntryChange } from './difference.js';
import { aggregateComments, changedClasses, LISTED_CLASSES, listingLine } from './file-list.js';
import { fieldLines, type MetadataClass } from './metadata.js';
import { binaryDifference } from './comparators/binary.js';
import { binaryViews } from './comparators/binary-views.js';
import { textDifference } from './comparators/text.js';
import { sameTreeMetadata, treeContainer } from './comparators/tree-members.js';
import { DEFAULT_MAX_DIFF_LINES, type UnifiedDiffOptions } from './unified.js';

export { PATH_SEPARATOR };

export interface DiffOptions {
  /** Glob patterns of member paths to leave out (docs/metadata-policy.md syntax). */
  exclude?: string[];
  /** Metadata classes not compared. */
  excludeMetadata?: ReadonlySet<MetadataClass>;
  /** Lines kept per unified diff (default 256). */
  maxDiffLines?: number;
  /** Member comparisons in flight at once, per container (default 4). */
  concurrency?: number;
  /** Containers nested deeper than this are compared as bytes (default 16). */
  maxDepth?: number;
  /** The comparators, in the order they are tried (default: registry.ts). */
  comparators?: readonly Comparator[];
  warn?: (message: string) => void;
  /**
   * How `diffPaths` names its two inputs in the report, when not by the paths given (`-` for
   * standard input that the CLI spooled to a temporary file).
   */
  labels?: readonly [string, string];
  /** Hears the whole path of each member as its comparison starts. */
  onProgress?: (path: string) => void;
  /**
   * Stops the comparison (an ABORTED error): before the next member or file, and within one chunk
   * of a long read (two large members compared, a reader going through an image).
   */
  signal?: AbortSignal;
}

/** One member pair compared: its node (if it needs one) and what changed, for the file list. */
interface MemberResult {
  node?: Difference;
  entry?: EntryChange;
}

interface Side {
  name: string;
  path: string;
  blob: Blob;
}

class Engine {
  #comparators: readonly Comparator[] | undefined;
  readonly excluded: PathMatcher;
  readonly excludeMetadata: ReadonlySet<MetadataClass>;
  readonly diffOptions: UnifiedDiffOptions;
  readonly concurrency: number;
  readonly maxDepth: number;
  readonly warn: (message: string) => void;
  /** Whether --exclude or --exclude-metadata is in force. */
  readonly filtering: boolean;

  constructor(readonly options: DiffOptions) {
    this.#comparators = options.comparators;
    this.excluded = options.exclude && options.exclude.length > 0 ? compileExcludes(options.exclude, '--exclude') : () => false;
    this.excludeMetadata = options.excludeMetadata ?? new Set();
    this.diffOptions = { maxLines: options.maxDiffLines ?? DEFAULT_MAX_DIFF_LINES };
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.maxDepth = options.maxDepth ?? 16;
    this.warn = options.warn ?? (() => undefined);
    this.filtering = (options.exclude?.length ?? 0) > 0 || this.excludeMetadata.size > 0;
  }

  /** Compares two blobs; undefined when they hold the same bytes. */
  async compareBlobs(x: Side, y: Side, depth: number): Promise<Difference | undefined> {
    const signal = this.options.signal;
    throwIfAborted(signal, x.path);
    if (await sameBytes(x.blob, y.blob, signal, x.path)) return undefined;
    throwIfAborted(signal, x.path);
    // from here on the readers and views read through blobs that refuse to go on once aborted
    if (signal) {
      x = { ...x, blob: abortableBlob(x.blob, signal, x.path) };
      y = { ...y, blob: abortableBlob(y.blob, signal, y.path) };
    }
    const d = new Difference(x.name, y.name);
    const [ha, hb] = await Promise.all([x.blob.head(HEAD_SIZE), y.blob.head(HEAD_SIZE)]);
    const comparators = await this.comparators();
    const ca = comparators.find((c) => c.recognizes(ha, x.blob.size));
    const cb = comparators.find((c) => c.recognizes(hb, y.blob.size));
    // comparators of one id compare the same kind of thing (a disk in a qcow2 and in a VHD)
    const same = ca !== undefined && cb !== undefined && ca.id === cb.id;
    if (same && cb && depth < this.maxDepth) {
      const details = await this.compareAs([ca, cb], x, y, depth, d);
      if (details !== undefined) {
        if (details.length > 0) {
          d.details = details;
          return d;
        }
        // with filters on, bytes that differ only where the user asked not to look are the same
        if (this.filtering) return undefined;
        d.comments.push(`no ${ca.id}-specific difference found, yet the bytes differ`);
      }
    } else if (!same && (ca || cb)) {
      d.comments.push(`formats differ: ${ca?.id ?? 'unrecognized data'} and ${cb?.id ?? 'unrecognized data'}`);
    } else if (same) {
      d.comments.push(`nested more than ${this.maxDepth} levels deep: compared as bytes`);
    }
    await this.compareBytes(x, y, d);
    return d;
  }

  /** The registry is loaded on first need: equal inputs never load a format module. */
  async comparators(): Promise<readonly Comparator[]> {
    this.#comparators ??= (await import('./registry.js')).defaultComparators;
    return this.#comparators;
  }

  /** Opens each side with its comparator (both of one id); undefined (and a comment on `d`) when either fails. */
  async compareAs([c, cy]: [Comparator, Comparator], x: Side, y: Side, depth: number, d: Difference): Promise<Difference[] | undefined> {
    const [oa, ob] = await Promise.allSettled([
      c.open({ name: x.name, path: x.path, blob: x.blob, warn: this.warn }),
      cy.open({ name: y.name, path: y.path, blob: y.blob, warn: this.warn }),
    ]);
    try {
      for (const [r, side] of [[oa, x], [ob, y]] as const) {
        if (r.status === 'rejected') this.rethrowIfAborted(r.reason, side.path);
      }
      for (const [r, side] of [[oa, x], [ob, y]] as const) {
        if (r.status === 'rejected') d.comments.push(`could not read ${side.path} as ${c.id}: ${message(r.reason)}`);
      }
      if (oa.status === 'rejected' || ob.status === 'rejected') return undefined;
      try {
        return await this.compareContainers(oa.value, ob.value, x, y, depth + 1);
      } catch (e) {
        this.rethrowIfAborted(e, x.path);
        d.comments.push(`could not read as ${c.id}: ${message(e)}`);
        return undefined;
      }
    } finally {
      await Promise.allSettled([oa.status === 'fulfilled' ? oa.value.close() : undefined, ob.status === 'fulfilled' ? ob.value.close() : undefined]);
    }
  }

  async compareBytes(x: Side, y: Side, d: Difference): Promise<void> {
    try {
      const names: [string, string] = [x.name, y.name];
      const text = await textDifference(x.blob, y.blob, names, this.diffOptions);
      if (text) {
        d.unifiedDiff = text.unifiedDiff;
        d.comments.push(...text.comments);
        return;
      }
      // readelf, objdump, strings, file(1) views first; the hex dump when they explain nothing
      const views = await binaryViews(x.blob, y.blob, names, this.diffOptions);
      d.comments.push(...views.comments);
      d.details.push(...views.details);
      if (views.explains) return;
      const bytes = await binaryDifference(x.blob, y.blob, names, this.diffOptions);
      d.unifiedDiff = bytes.unifiedDiff;
      d.comments.push(...bytes.comments);
    } catch (e) {
      this.rethrowIfAborted(e, x.path);
      d.comments.push(`could not read the bytes: ${message(e)}`);
    }
  }

  /** An error caught to become a comment is rethrown as ABORTED when the comparison was stopped. */
  rethrowIfAborted(error: unknown, subject: string): void {
    const signal = this.options.signal;
    if (signal?.aborted) throw abortedError(signal, subject);
    if (error instanceof ReprimageError && error.code === 'ABORTED') throw error;
  }

  /** The differences between two opened containers: described structures, file list, member order, members. */
  async compareContainers(oa: Container, ob: Container, x: Side, y: Side, depth: number): Promise<Difference[]> {
    const out: Difference[] = [];
    const none: Record<string, string> = {};
    const [da, db] = await Promise.all([oa.describe?.() ?? none, ob.describe?.() ?? none]);
    for (const key of [...new Set([...Object.keys(da), ...Object.keys(db)])]) {
      const diff = Difference.fromText(key, key, da[key] ?? '', db[key] ?? '', this.diffOptions);
      if (diff) out.push(diff);
    }
    const structures = out.length;
    const keep = (m: Member) => !this.excluded(m.name);
    const listing = (members: Iterable<Member>) => [...members].filter((m) => !m.transparent).map((m) => listingLine(m.fields, m.label ?? m.name, this.excludeMetadata));
    let results: MemberResult[];
    let listings: () => Promise<[string[], string[]]>;
    if (oa.walk && ob.walk) {
      results = await this.pairWalks(filterWalk(oa.walk(), keep), filterWalk(ob.walk(), keep), x, y, depth);
      // walked a second time, and only when a listed field differs
      const walked = async (c: Container) => {
        const lines: string[] = [];
        for await (const m of filterWalk(c.walk!(), keep)) lines.push(...listing([m]));
        return lines;
      };
      listings = async () => Promise.all([walked(oa), walked(ob)]);
    } else {
      const [ma, mb] = await Promise.all([oa.members(), ob.members()]);
      const la = ma.filter(keep);
      const lb = mb.filter(keep);
      const order = await this.memberOrder(oa, ob);
      if (order) out.push(order);
      const byKey = (list: Member[]) => new Map(list.map((m) => [m.key ?? m.name, m]));
      const mapA = byKey(la);
      const mapB = byKey(lb);
      const keys = [...new Set([...mapA.keys(), ...mapB.keys()])].sort(compareNames);
      results = await inOrder(keys, this.concurrency, (k) => this.compareMember(mapA.get(k), mapB.get(k), x, y, depth));
      listings = async () => [listing(la), listing(lb)];
    }
    const list = await this.fileList(results, listings);
    if (list) out.splice(structures, 0, list);
    for (const r of results) if (r.node) out.push(r.node);
    return out;
  }

  /** A `member order` node when both sides hold the same names in another stored order. */
  async memberOrder(oa: Container, ob: Container): Promise<Difference | undefined> {
    if (!oa.order || !ob.order) return undefined;
    const [na, nb] = await Promise.all([oa.order(), ob.order()]);
    const fa = na.filter((n) => !this.excluded(n));
    const fb = nb.filter((n) => !this.excluded(n));
    const sorted = (l: string[]) => [...l].sort(compareNames).join('\n');
    if (fa.join('\n') === fb.join('\n') || sorted(fa) !== sorted(fb)) return undefined;
    const diff = Difference.fromLines('member order', 'member order', fa, fb, this.diffOptions);
    diff?.comments.push('the same members, stored in another order');
    return diff;
  }

  /**
   * Two walks paired as they go (a merge of two sorted sequences), with at most `concurrency`
   * comparisons in flight; only the results that differ are kept, then put in the order the
   * listed path takes (bytewise by name, as for members given as lists).
   */
  async pairWalks(wa: AsyncIterable<Member>, wb: AsyncIterable<Member>, x: Side, y: Side, depth: number): Promise<MemberResult[]> {
    const ia = wa[Symbol.asyncIterator]();
    const ib = wb[Symbol.asyncIterator]();
    const kept: Array<{ key: string; result: MemberResult }> = [];
    const running = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    const start = (ma: Member | undefined, mb: Member | undefined) => {
      const key = (ma ?? mb)!.name;
      const p: Promise<void> = this.compareMember(ma, mb, x, y, depth)
        .then(
          (result) => {
            if (result.node || result.entry) kept.push({ key, result });
          },
          (error: unknown) => {
            failure ??= { error };
          },
        )
        .finally(() => running.delete(p));
      running.add(p);
    };
    try {
      let [na, nb] = await Promise.all([ia.next(), ib.next()]);
      while ((!na.done || !nb.done) && !failure) {
        const order = na.done ? 1 : nb.done ? -1 : compareWalkOrder(na.value.name, nb.value.name);
        if (order === 0) {
          start(na.value, nb.value);
          [na, nb] = await Promise.all([ia.next(), ib.next()]);
        } else if (order < 0) {
          start(na.value, undefined);
          na = await ia.next();
        } else {
          start(undefined, nb.value);
          nb = await ib.next();
        }
        if (running.size >= this.concurrency) await Promise.race(running);
      }
    } finally {
      await Promise.all(running);
      await Promise.allSettled([ia.return?.(), ib.return?.()]);
    }
    if (failure) throw failure.error;
    kept.sort((p, q) => compareNames(p.key, q.key));
    return kept.map((k) => k.result);
  }

  /**
   * The `file list` node: both sides' listings diffed, and the members differing in metadata
   * only counted in its comments. Undefined when no listed field differs and no member is on
   * one side only (then the listing is not even built).
   */
  async fileList(results: MemberResult[], listings: () => Promise<[string[], string[]]>): Promise<Difference | undefined> {
    const metadataOnly = results.map((r) => r.entry).filter((e): e is EntryChange => e?.kind === 'metadata');
    const listed = results.some((r) => r.entry && (r.entry.kind === 'added' || r.entry.kind === 'removed' || r.entry.fields.some((f) => LISTED_CLASSES.has(f as MetadataClass))));
    if (!listed && metadataOnly.length === 0) return undefined;
    const d = listed ? Difference.fromLines('file list', 'file list', ...(await listings()), this.diffOptions) : undefined;
    const node = d ?? new Difference('file list', 'file list');
    if (metadataOnly.length > 0) {
      node.entries = metadataOnly;
      node.comments.push(...aggregateComments(metadataOnly.map((e) => e.fields)));
    }
    return node.isEmpty ? undefined : node;
  }

  async compareMember(ma: Member | undefined, mb: Member | undefined, x: Side, y: Side, depth: number): Promise<MemberResult> {
    const path1 = ma && (ma.transparent ? x.path : x.path + PATH_SEPARATOR + ma.name);
    const path2 = mb && (mb.transparent ? y.path : y.path + PATH_SEPARATOR + mb.name);
    throwIfAborted(this.options.signal, path1 ?? path2!);
    this.options.onProgress?.(path1 ?? path2!);
    if (!ma || !mb) {
      const only = (ma ?? mb)!;
      const d = new Difference(ma ? (only.label ?? only.name) : MISSING, mb ? (only.label ?? only.name) : MISSING);
      if (!only.transparent) {
        if (ma) d.path1 = path1;
        else d.path2 = path2;
      }
      d.comments.push(`only in ${ma ? x.path : y.path}`);
      const line = [listingLine(only.fields, only.label ?? only.name, this.excludeMetadata)];
      const listing = Difference.fromLines('', '', ma ? line : [], mb ? line : [], this.diffOptions);
      if (listing) d.unifiedDiff = listing.unifiedDiff;
      d.entry = { kind: ma ? 'removed' : 'added', fields: [] };
      if (ma) {
        d.entry.path1 = path1;
        if (ma.content) d.entry.size1 = ma.content.size;
      } else {
        d.entry.path2 = path2;
        if (mb!.content) d.entry.size2 = mb!.content.size;
      }
      return { node: d, entry: d.entry };
    }
    const d = new Difference(ma.label ?? ma.name, mb.label ?? mb.name);
    if (!ma.transparent) d.path1 = path1;
    if (!mb.transparent) d.path2 = path2;
    // the same metadata in both trees: no line to format or compare
    const same = sameTreeMetadata(ma, mb);
    const fields = same ? [] : changedClasses(ma.fields, mb.fields, this.excludeMetadata);
    // listed fields show in the container's file list; the others (xattrs, format fields) here
    const unlisted = (m: Member) => fieldLines(m.fields.filter((f) => !LISTED_CLASSES.has(f.class)), this.excludeMetadata);
    const meta = same ? undefined : Difference.fromLines('metadata', 'metadata', unlisted(ma), unlisted(mb), this.diffOptions);
    if (meta) d.details.push(meta);
    let content = false;
    const sameLink = ma.linkTo !== undefined && ma.linkTo === mb.linkTo; // compared at the first path
    if (ma.content && mb.content && !sameLink) {
      const sa: Side = { name: ma.name, path: path1!, blob: contentBlob(ma.content, path1!) };
      const sb: Side = { name: mb.name, path: path2!, blob: contentBlob(mb.content, path2!) };
      try {
        const sub = await this.compareBlobs(sa, sb, depth);
        if (sub) {
          content = true;
          d.unifiedDiff = sub.unifiedDiff;
          d.comments.push(...sub.comments);
          d.details.push(...sub.details);
        }
      } catch (e) {
        this.rethrowIfAborted(e, path1!);
        content = true;
        d.comments.push(`could not compare the contents: ${message(e)}`);
      }
    } else if (ma.container && mb.container) {
      const before = d.details.length;
      const [oa, ob] = await Promise.allSettled([ma.container(), mb.container()]);
      try {
        if (oa.status === 'rejected' || ob.status === 'rejected') {
          const reason: unknown = oa.status === 'rejected' ? oa.reason : (ob as PromiseRejectedResult).reason;
          this.rethrowIfAborted(reason, path1!);
          d.comments.push(`could not read: ${message(reason)}`);
        } else {
          const sa: Side = { name: ma.name, path: path1!, blob: emptyBlob };
          const sb: Side = { name: mb.name, path: path2!, blob: emptyBlob };
          d.details.push(...(await this.compareContainers(oa.value, ob.value, sa, sb, depth + 1)));
        }
      } catch (e) {
        this.rethrowIfAborted(e, path1!);
        d.comments.push(`could not compare: ${message(e)}`);
      } finally {
        await Promise.allSettled([oa.status === 'fulfilled' ? oa.value.close() : undefined, ob.status === 'fulfilled' ? ob.value.close() : undefined]);
      }
      content = d.details.length > before || d.comments.length > 0;
    }
    if (!content && fields.length === 0) return {};
    const entry: EntryChange = { kind: content ? 'content' : 'metadata', fields, path1, path2 };
    if (ma.content) entry.size1 = ma.content.size;
    if (mb.content) entry.size2 = mb.content.size;
    if (content && !ma.transparent) d.entry = entry;
    // a member differing in listed metadata only is told by the file list alone
    return { node: d.isEmpty ? undefined : d, entry };
  }

  /** Two directories on disk: their entries compared as members (the roots' own metadata left out). */
  async compareDirectories(a: string, b: string, la = a, lb = b): Promise<Difference | undefined> {
    const load = (p: string) => loadDirectory(p, { warn: this.warn });
    const [ta, tb] = await Promise.all([load(a), load(b)]);
    const x: Side = { name: la, path: la, blob: emptyBlob };
    const y: Side = { name: lb, path: lb, blob: emptyBlob };
    const details = await this.compareContainers(treeContainer(ta, { root: false }), treeContainer(tb, { root: false }), x, y, 1);
    if (details.length === 0) return undefined;
    const d = new Difference(la, lb);
    d.path1 = la;
    d.path2 = lb;
    d.details = details;
    return d;
  }
}

const emptyBlob: Blob = {
  size: 0,
  chunks: async function* () {},
  head: async () => new Uint8Array(0),
  open: async () => {
    throw new ReprimageError('UNSUPPORTED', '', 'no bytes');
  },
};

/**
 * Compares two files or two directories. Resolves to undefined when they are the same, else to
 * the Difference tree. Throws a ReprimageError only for a problem with the arguments themselves
 * (missing file, not a file or directory); trouble inside the inputs becomes comments.
 */
export async function diffPaths(a: string, b: string, options: DiffOptions = {}): Promise<Difference | undefined> {
  const engine = new Engine(options);
  const [la, lb] = options.labels ?? [a, b];
  const [sa, sb] = await Promise.all([statOf(a, la), statOf(b, lb)]);
  for (const [s, l] of [[sa, la], [sb, lb]] as const) {
    if (!s.isFile() && !s.isDirectory()) throw new ReprimageError('USAGE', l, 'not a regular file or a directory');
  }
  if (sa.isDirectory() && sb.isDirectory()) return engine.compareDirectories(a, b, la, lb);
  if (sa.isDirectory() !== sb.isDirectory()) {
    const d = Difference.withComment(la, lb, `${sa.isDirectory() ? la : lb} is a directory, ${sa.isDirectory() ? lb : la} is a file`);
    d.path1 = la;
    d.path2 = lb;
    return d;
  }
  const d = await engine.compareBlobs({ name: la, path: la, blob: fileBlob(a, sa.size, la) }, { name: lb, path: lb, blob: fileBlob(b, sb.size, lb) }, 0);
  if (d) {
    d.path1 = la;
    d.path2 = lb;
  }
  return d;
}

/** Compares two blobs (for the library and tests); names are used as the outermost paths. */
export async function diffBlobs(a: { name: string; blob: Blob }, b: { name: string; blob: Blob }, options: DiffOptions = {}): Promise<Difference | undefined> {
  const d = await new Engine(options).compareBlobs({ ...a, path: a.name }, { ...b, path: b.name }, 0);
  if (d) {
    d.path1 = a.name;
    d.path2 = b.name;
  }
  return d;
}

/** A walk with the excluded members left out. */
async function* filterWalk(walk: AsyncIterable<Member>, keep: (m: Member) => boolean): AsyncGenerator<Member> {
  for await (const m of walk) if (keep(m)) yield m;
}

/**
 * The order of `Tree.walk` between two member names: the root `.` first, then path by path,
 * each component bytewise (a `/` sorts before any character a name can hold).
 */
function compareWalkOrder(a: string, b: string): number {
  const key = (name: string) => (name === '.' ? '' : name.replaceAll('/', '\0'));
  return compareNames(key(a), key(b));
}

async function statOf(path: string, label: string) {
  try {
    return await stat(path);
  } catch (e) {
    throw fromSystemError(e, label);
  }
}

function message(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}

/** Runs `work` over `items` with at most `limit` in flight; results in the order of `items`. */
async function inOrder<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
