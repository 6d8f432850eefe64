/**
 * Normalizing a Tree in memory, for `build` (after the fix-ups) and for the members of tar and
 * cpio archives. Every regular file's content goes through the same handlers as files on disk;
 * a file that changes gets its normalized bytes as new content, and nothing else of the node
 * (mode, owner, mtime, xattrs) is touched. Hard links are one node, normalized once, so they
 * stay links. Files are handled a few at a time (their reads overlap); results are reported in
 * walk order, never in the order they finished.
 */
import { isReprimageError, type ErrorCode } from '../errors.js';
import { bufferSource } from '../io/source.js';
import { MemorySink } from '../io/sink.js';
import { bytesContent, readContent } from '../tree/content.js';
import type { FileNode, Tree } from '../tree/tree.js';
import { ComparingSink } from './compare-sink.js';
import { HEAD_SIZE, type HandlerId, type NormalizeContext } from './handler.js';
import { detectNormalizer, normalizerById } from './registry.js';

export interface TreeNormalizeOptions {
  /** SOURCE_DATE_EPOCH, in seconds. */
  buildTime: number;
  /** Clamp times to `buildTime` (default true) rather than setting every time to it. */
  clamp?: boolean;
  /** Only tell what would change; the tree is left as it was. */
  check?: boolean;
  /** Force one handler instead of detecting by content. */
  type?: HandlerId;
  /** Files handled at the same time (default 4). */
  concurrency?: number;
  /** Prefix of the names in messages (the archive a tree was read from). */
  subject?: string;
  /** How deep in archives within archives this tree is (bounded by the tar and cpio handlers). */
  depth?: number;
}

export type TreeFileStatus = 'changed' | 'would-change' | 'unchanged' | 'left-alone' | 'error';

/** One recognised file; files no handler recognises are not listed. */
export interface TreeFileResult {
  path: string;
  status: TreeFileStatus;
  handler: HandlerId;
  /** Sizes before and after (after = before unless changed). */
  sizeBefore: number;
  sizeAfter: number;
  warnings: string[];
  error?: { code: ErrorCode; message: string };
  /** Other paths of the same node (hard links), which share this result. */
  links?: string[];
}

/**
 * Contents larger than this are not normalized in a Tree (they would be held in memory twice);
 * each is left alone with a warning naming it. Build artifacts of that size are rare; normalize
 * them on disk with `reprimage normalize`, which streams.
 */
export const TREE_MEMBER_LIMIT = 256 << 20;

/** Normalizes every regular file of `tree` in place (unless `check`); returns what was recognised, in walk order. */
export async function normalizeTree(tree: Tree, options: TreeNormalizeOptions): Promise<TreeFileResult[]> {
  const files: Array<{ path: string; node: FileNode; links: string[] }> = [];
  const byNode = new Map<FileNode, { links: string[] }>();
  for (const { path, node, linkTo } of tree.walk()) {
    if (node.kind !== 'file') continue;
    if (linkTo !== undefined) {
      byNode.get(node)?.links.push(path);
      continue;
    }
    const entry = { path, node, links: [] as string[] };
    byNode.set(node, entry);
    files.push(entry);
  }
  const results: Array<TreeFileResult | undefined> = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const f = files[i]!;
      results[i] = await normalizeNode(f.path, f.node, options);
      if (results[i] && f.links.length > 0) results[i]!.links = f.links;
    }
  };
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 4, files.length));
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results.filter((r): r is TreeFileResult => r !== undefined);
}

async function normalizeNode(path: string, node: FileNode, options: TreeNormalizeOptions): Promise<TreeFileResult | undefined> {
  const subject = options.subject ? `${options.subject} ▸ ${path}` : path;
  const size = node.content.size;
  const warnings: string[] = [];
  let handler: HandlerId | undefined;
  try {
    const head = await readHead(node, Math.min(HEAD_SIZE, size));
    const normalizer = options.type ? normalizerById(options.type) : detectNormalizer(head, size, path.slice(path.lastIndexOf('/') + 1));
    if (!normalizer) return undefined;
    handler = normalizer.id;
    const result: TreeFileResult = { path, status: 'unchanged', handler, sizeBefore: size, sizeAfter: size, warnings };
    if (size > TREE_MEMBER_LIMIT) {
      warnings.push(`${subject}: left alone: ${size} bytes is more than the ${TREE_MEMBER_LIMIT} a tree normalizes in memory; normalize it on disk`);
      result.status = 'left-alone';
      return result;
    }
    const source = bufferSource(await readContent(node.content), subject);
    const ctx: NormalizeContext = {
      buildTime: options.buildTime,
      clamp: options.clamp ?? true,
      subject,
      depth: options.depth ?? 0,
      warn: (m) => warnings.push(m),
      normalizeMembers: normalizeTree,
    };
    const rewrite = await normalizer.prepare(source, ctx);
    if (!rewrite) {
      result.status = 'left-alone';
      return result;
    }
    const compare = new ComparingSink(source);
    await rewrite(compare);
    if (!compare.differs) return result;
    if (options.check) {
      result.status = 'would-change';
      return result;
    }
    const sink = new MemorySink();
    await rewrite(sink);
    const bytes = sink.bytes();
    node.content = bytesContent(bytes, `${node.content.origin} (normalized)`);
    result.status = 'changed';
    result.sizeAfter = bytes.length;
    return result;
  } catch (e) {
    if (!isReprimageError(e)) throw e;
    if (handler === undefined) throw e; // reading the content failed: the tree itself is broken
    return { path, status: 'error', handler, sizeBefore: size, sizeAfter: size, warnings, error: { code: e.code, message: e.message } };
  }
}

/** The first `n` bytes of a node's content, reading no further than needed. */
async function readHead(node: FileNode, n: number): Promise<Uint8Array> {
  if (n === 0) return new Uint8Array(0);
  if (node.content.range) return node.content.range.source.read(node.content.range.offset, n);
  const out = new Uint8Array(n);
  let at = 0;
  for await (const chunk of node.content.chunks()) {
    const take = Math.min(chunk.length, n - at);
    out.set(chunk.subarray(0, take), at);
    at += take;
    if (at === n) break;
  }
  return out.subarray(0, at);
}
