/** `reprimage ls IMAGE`: the entries of any supported input, like `tar -tv`, or as JSON. */
import { Command } from 'commander';
import { displayName } from '../tree/names.js';
import type { Tree, Node } from '../tree/tree.js';
import type { Reporter } from './reporter.js';
import { withInputPath } from './stdin-input.js';
import { interruption } from './process-end.js';

export function lsCommand(reporter: Reporter): Command {
  return new Command('ls')
    .description('list the entries of a directory, archive or image with their metadata')
    .argument('<image>', "a directory, archive or image; '-' reads a tar or cpio stream (compressed or not) from standard input")
    .option('--json', 'print the entries as JSON (schema reprimage-ls/1, docs/json.md)')
    .option('--no-xattrs', 'do not read extended attributes from a source directory')
    // '-': a tar or cpio stream on standard input, copied to a file that `path` then names
    .action(async (image: string, values: { json?: boolean; xattrs: boolean }) => withInputPath(image, async (path) => {
      const { openTree } = await import('../image/open-tree.js');
      const input = await openTree(path, { warn: (m) => reporter.warn(m), xattrs: values.xattrs, signal: interruption() });
      try {
        const boot = await input.describe?.();
        if (values.json) {
          const { treeToJson } = await import('../tree/describe.js');
          process.stdout.write(`${JSON.stringify({ schema: 'reprimage-ls/1', input: image, format: input.format, entries: treeToJson(input.tree), ...(boot ? { boot: boot.json } : {}) }, null, 1)}\n`);
        } else {
          for (const line of listingLines(input.tree)) process.stdout.write(`${line}\n`);
          for (const line of boot?.lines ?? []) process.stdout.write(`${line}\n`);
        }
      } finally {
        await input.close();
      }
    }));
}

/**
 * One line per entry, in `tar --sort=name` order: type and permissions, uid/gid, size (or
 * major,minor), the mtime in UTC, the path, and `-> target` or `link to FIRST`; names and
 * targets escaped as `tar -tv` prints them (`\n`, `\\`, `\351` for a byte that is not UTF-8).
 * Times are always UTC so the listing does not depend on the reader's time zone.
 */
export function* listingLines(tree: Tree): Generator<string> {
  for (const { path, node, linkTo } of tree.walk()) {
    const size =
      node.kind === 'block' || node.kind === 'char' ? `${node.major},${node.minor}` : node.kind === 'file' ? String(node.content.size) : '0';
    // escaped (names.ts): a newline or a byte that is not UTF-8 must not split or garble a line
    const name = path === '' ? '.' : `./${displayName(path)}${node.kind === 'dir' ? '/' : ''}`;
    const suffix = linkTo !== undefined ? ` link to ./${displayName(linkTo)}` : node.kind === 'symlink' ? ` -> ${displayName(node.target)}` : '';
    yield `${modeString(node)} ${node.uid}/${node.gid} ${size.padStart(9)} ${utcTime(node.mtime.sec)} ${name}${suffix}`;
  }
}

const TYPE_CHAR: Record<Node['kind'], string> = { file: '-', dir: 'd', symlink: 'l', block: 'b', char: 'c', fifo: 'p', socket: 's' };

export function modeString(node: Node): string {
  const m = node.mode;
  const bit = (mask: number, c: string) => (m & mask ? c : '-');
  const exec = (x: number, special: number, on: string, off: string) => (m & special ? (m & x ? on : off) : m & x ? 'x' : '-');
  return (
    TYPE_CHAR[node.kind] +
    bit(0o400, 'r') + bit(0o200, 'w') + exec(0o100, 0o4000, 's', 'S') +
    bit(0o040, 'r') + bit(0o020, 'w') + exec(0o010, 0o2000, 's', 'S') +
    bit(0o004, 'r') + bit(0o002, 'w') + exec(0o001, 0o1000, 't', 'T')
  );
}

function utcTime(sec: number): string {
  const d = new Date(sec * 1000);
  return Number.isNaN(d.getTime()) ? String(sec) : d.toISOString().slice(0, 16).replace('T', ' ');
}
