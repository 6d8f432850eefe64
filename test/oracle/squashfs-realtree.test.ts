// The writer on a real Debian tree, for every compressor: a copy of /etc, /usr/sbin,
// /usr/share/perl5 and /usr/lib/python3 of the machine running the test (tens of MB, thousands
// of entries: ELF binaries, scripts, symlinks, hard links, set-id modes) plus device nodes,
// a fifo and xattrs set with setfattr (user.*, security.capability, a value stored out of line).
// `unsquashfs -lln` of our image lists exactly the Tree loadDirectory read, `unsquashfs -d`
// extracts every file byte-equal to the source, and `getfattr` finds the same xattrs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { requireTool, run, tempDir } from '../helpers/tools.js';
import { FileSink } from '../../src/io/sink.js';
import { loadDirectory } from '../../src/tree/load-dir.js';
import { writeSquashfs, type SquashfsCompressorName } from '../../src/formats/squashfs/index.js';
import { EPOCH, treeListing, unsquashfsListing } from './squashfs-support.js';
import { buildTimeFor } from '../helpers/sample-tree.js';

const SOURCES = ['/etc', '/usr/sbin', '/usr/share/perl5', '/usr/lib/python3'];
const COMPRESSORS: SquashfsCompressorName[] = ['gzip', 'xz', 'zstd', 'lz4'];

/** `getfattr -R` of a tree, paths relative to it: the xattrs of every entry, in a stable form. */
function xattrDump(root: string): string {
  const out = execFileSync('getfattr', ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'hex', '.'], { cwd: root, maxBuffer: 1 << 28 }).toString();
  return out
    .split('\n\n')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .sort()
    .join('\n\n');
}

test('a real Debian tree: unsquashfs lists, extracts and keeps xattrs exactly, for every compressor', { timeout: 600_000 }, async (t) => {
  if (!requireTool(t, 'unsquashfs', 'getfattr', 'setfattr', 'mknod')) return;
  const dir = tempDir(t);
  const src = join(dir, 'src');
  const present = SOURCES.filter((s) => existsSync(s));
  assert.ok(present.length >= 2, 'needs a Debian /etc and /usr');
  execFileSync('mkdir', ['-p', join(src, 'usr/share'), join(src, 'usr/lib'), join(src, 'dev')]);
  for (const s of present) execFileSync('cp', ['-a', s, join(src, s)]);
  execFileSync('mknod', ['-m', '666', join(src, 'dev/null'), 'c', '1', '3']);
  execFileSync('mknod', ['-m', '660', join(src, 'dev/sda1'), 'b', '8', '1']);
  execFileSync('mkfifo', [join(src, 'dev/initctl')]);
  const setx = (path: string, name: string, hex: string) => execFileSync('setfattr', ['-h', '-n', name, '-v', `0x${hex}`, join(src, path)]);
  setx('etc', 'user.dir-note', Buffer.from('on a directory').toString('hex'));
  setx('etc/passwd', 'user.comment', Buffer.from('real file').toString('hex'));
  setx('etc/passwd', 'user.long', Buffer.alloc(300, 'v').toString('hex'));
  setx('usr/sbin', 'user.empty-ish', '00');
  const sbin = execFileSync('ls', [join(src, 'usr/sbin')]).toString().split('\n').filter(Boolean);
  const binary = sbin.find((n) => !execFileSync('stat', ['-c', '%F', join(src, 'usr/sbin', n)]).toString().includes('link'));
  assert.ok(binary, 'a regular file in /usr/sbin');
  // cap_net_raw+ep, as setcap writes it
  setx(`usr/sbin/${binary}`, 'security.capability', '0100000200200000000000000000000000000000');
  const tree = await loadDirectory(src, { warn: () => undefined });
  let files = 0;
  for (const { node } of tree.walk()) if (node.kind === 'file') files++;
  assert.ok(files > 500, `${files} files`);
  const wantListing = treeListing(tree).sort();
  const wantXattrs = xattrDump(src);
  assert.match(wantXattrs, /security\.capability=0x01000002/);

  for (const compressor of COMPRESSORS) {
    const image = join(dir, `${compressor}.sqfs`);
    const fh = await open(image, 'w');
    try {
      await writeSquashfs(tree, new FileSink(fh, image), { compressor, buildTime: buildTimeFor(tree, EPOCH), workers: 2 });
    } finally {
      await fh.close();
    }
    assert.deepEqual(unsquashfsListing(image).sort(), wantListing, `${compressor}: unsquashfs -lln lists the Tree`);
    const out = join(dir, `x-${compressor}`);
    run('unsquashfs', ['-quiet', '-no-progress', '-d', out, image]);
    let compared = 0;
    for (const { path, node } of tree.walk()) {
      if (node.kind !== 'file') continue;
      assert.ok(readFileSync(join(out, path)).equals(readFileSync(join(src, path))), `${compressor}: ${path} extracts byte-equal`);
      compared++;
    }
    assert.equal(compared, files);
    assert.equal(xattrDump(out), wantXattrs, `${compressor}: xattrs survive`);
    execFileSync('rm', ['-rf', out, image]);
  }
});
