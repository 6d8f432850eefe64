/**
 * Extended attributes of a whole directory tree, read with one run of `getfattr` (package attr).
 * Node has no xattr API, and reprimage takes no native addon that would need a compiler at
 * install time; one process for the whole tree costs milliseconds, one per file would cost
 * seconds on a root file system.
 */
import { spawn } from 'node:child_process';
import { ReprimageError } from '../errors.js';
import { nameFromBytes } from './names.js';

/** Attributes of one path as getfattr printed them: the absolute path and name → value. */
export interface XattrRecord {
  path: string;
  xattrs: Map<string, Uint8Array>;
}

/**
 * Runs `getfattr -R -P -h -d -m - -e hex --absolute-names` on `root` (an absolute path with no
 * trailing slash; with `--one-file-system` when asked) and returns its records, or undefined when getfattr is not installed.
 * getfattr exits 1 when some entry cannot hold attributes; only a permission or I/O error fails.
 */
export async function dumpXattrs(root: string, options: { oneFileSystem?: boolean } = {}): Promise<XattrRecord[] | undefined> {
  const args = ['--absolute-names', '--physical', '--no-dereference', '--recursive', '--dump', '--match=-', '--encoding=hex'];
  if (options.oneFileSystem) args.push('--one-file-system');
  args.push('--', root);
  const output = await new Promise<Buffer | undefined>((resolve, reject) => {
    // LC_ALL=C: getfattr escapes bytes by isprint(), which depends on the locale
    const child = spawn('getfattr', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? resolve(undefined) : reject(new ReprimageError('TOOL', 'getfattr', e.message, { cause: e }))));
    child.on('close', (code) => {
      const stderr = Buffer.concat(err).toString('utf8').trim();
      if (code !== 0 && /Permission denied|Input\/output error/.test(stderr)) {
        reject(new ReprimageError('IO', root, `getfattr failed: ${stderr.split('\n')[0]}`));
      } else resolve(Buffer.concat(out));
    });
  });
  return output === undefined ? undefined : parseXattrDump(output);
}

/**
 * Parses getfattr's dump format: a `# file: PATH` line, then one `NAME=0xHEX` line per
 * attribute (or `NAME` alone, or `NAME=0x`, for an empty value), then a blank line. In PATH and
 * NAME getfattr writes `\`, control characters and (in NAME) `=` as a backslash and three octal
 * digits; other bytes are raw and may be UTF-8. Values must be hex (`-e hex`).
 */
export function parseXattrDump(output: Uint8Array): XattrRecord[] {
  const text = Buffer.from(output.buffer, output.byteOffset, output.byteLength).toString('latin1');
  const records: XattrRecord[] = [];
  let current: XattrRecord | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('# file: ')) {
      current = { path: unescapeName(line.slice(8)), xattrs: new Map() };
      records.push(current);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    if (!current) throw new ReprimageError('TOOL', 'getfattr', `attribute line before any '# file:' line: ${JSON.stringify(line)}`);
    const eq = line.indexOf('=');
    const name = unescapeName(eq < 0 ? line : line.slice(0, eq));
    const value = eq < 0 ? '0x' : line.slice(eq + 1);
    if (!/^0x([0-9a-fA-F]{2})*$/.test(value)) {
      throw new ReprimageError('TOOL', 'getfattr', `value of ${name} on ${current.path} is not hex: ${JSON.stringify(value.slice(0, 40))}`);
    }
    current.xattrs.set(name, new Uint8Array(Buffer.from(value.slice(2), 'hex')));
  }
  return records;
}

/** Undoes getfattr's `\ooo` escapes; the text is bytes as latin1, the result a name (names.ts). */
function unescapeName(s: string): string {
  const bytes = Buffer.from(s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8) & 0xff)), 'latin1');
  return nameFromBytes(bytes);
}
