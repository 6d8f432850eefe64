/**
 * What a scale test compares between a source tree and the image read back: per entry its type,
 * mode, owner, size, symlink target, hard-link group (the first path of the node) and the
 * SHA-256 of its contents. Runs as a child process too (`node tree-digest.js INPUT [PREFIX]`,
 * JSON on stdout), so that a test can measure the reader's own time and peak RSS with
 * /usr/bin/time instead of its own process's.
 */
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openTree } from '../../src/image/open-tree.js';
import type { Tree } from '../../src/tree/tree.js';

export interface EntryDigest {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size?: number;
  target?: string;
  linkTo?: string;
  sha256?: string;
}

/**
 * The entries under `prefix` ('' for all), keyed by their path below it ('.' for `prefix`
 * itself), in walk order. Every file's contents are hashed (streamed, chunk by chunk).
 */
export async function digestTree(tree: Tree, prefix = ''): Promise<Record<string, EntryDigest>> {
  const out: Record<string, EntryDigest> = {};
  const under = (p: string): string | undefined => (prefix === '' ? p || '.' : p === prefix ? '.' : p.startsWith(`${prefix}/`) ? p.slice(prefix.length + 1) : undefined);
  for (const { path, node, linkTo } of tree.walk()) {
    const rel = under(path);
    if (rel === undefined) continue;
    const e: EntryDigest = { type: node.kind, mode: node.mode, uid: node.uid, gid: node.gid };
    if (node.kind === 'symlink') e.target = node.target;
    if (linkTo !== undefined) {
      // a link to a node outside the prefix is no link inside it
      const to = under(linkTo);
      if (to !== undefined) e.linkTo = to;
    }
    if (node.kind === 'file') {
      e.size = node.content.size;
      if (e.linkTo === undefined) {
        const h = createHash('sha256');
        for await (const chunk of node.content.chunks()) h.update(chunk);
        e.sha256 = h.digest('hex');
      }
    }
    out[rel] = e;
  }
  return out;
}

/** Opens any input as `reprimage ls` does and digests it (or the part under `prefix`). */
export async function digestInput(path: string, prefix = ''): Promise<{ format: string; entries: Record<string, EntryDigest> }> {
  const warnings: string[] = [];
  const input = await openTree(path, { warn: (m) => warnings.push(m), xattrs: false });
  try {
    return { format: input.format, entries: await digestTree(input.tree, prefix) };
  } finally {
    await input.close();
  }
}

if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [input, prefix] = process.argv.slice(2);
  const result = await digestInput(input!, prefix ?? '');
  process.stdout.write(JSON.stringify(result));
}
