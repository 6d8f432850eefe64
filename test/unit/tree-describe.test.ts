import { test } from 'node:test';
import assert from 'node:assert/strict';
import { treeToJson } from '../../src/tree/describe.js';
import { Tree, newDir, newMeta, type FileNode } from '../../src/tree/tree.js';
import { bytesContent } from '../../src/tree/content.js';

test('treeToJson: every kind, metadata, xattrs in hex sorted bytewise, hard links named by their first path', () => {
  const tree = new Tree(newDir({ mode: 0o755, mtime: { sec: 10, nsec: 0 } }));
  const shared: FileNode = { kind: 'file', ...newMeta({ mode: 0o4755, uid: 1, gid: 2, mtime: { sec: 5, nsec: 7 } }), content: bytesContent(Buffer.from('abc')) };
  shared.xattrs.set('user.z', new Uint8Array([0xff]));
  shared.xattrs.set('security.capability', new Uint8Array([1, 0]));
  shared.xattrs.set('user.empty', new Uint8Array(0));
  tree.set('b/hard', shared);
  tree.set('a/first', shared);
  tree.set('a/link', { kind: 'symlink', ...newMeta({ mode: 0o777 }), target: '../b' });
  tree.set('dev/sda', { kind: 'block', ...newMeta({ mode: 0o660, gid: 6 }), major: 8, minor: 0 });
  tree.set('dev/null', { kind: 'char', ...newMeta({ mode: 0o666 }), major: 1, minor: 3 });
  tree.set('run/fifo', { kind: 'fifo', ...newMeta({ mode: 0o600, mtime: { sec: -2, nsec: 750_000_000 } }) });
  tree.set('run/sock', { kind: 'socket', ...newMeta({ mode: 0o755 }) });
  assert.equal(
    JSON.stringify(treeToJson(tree)),
    JSON.stringify([
      { path: '.', type: 'dir', mode: '0755', uid: 0, gid: 0, mtime: '10' },
      { path: 'a', type: 'dir', mode: '0755', uid: 0, gid: 0, mtime: '0' },
      { path: 'a/first', type: 'file', mode: '4755', uid: 1, gid: 2, mtime: '5.000000007', size: 3, xattrs: { 'security.capability': '0100', 'user.empty': '', 'user.z': 'ff' } },
      { path: 'a/link', type: 'symlink', mode: '0777', uid: 0, gid: 0, mtime: '0', target: '../b' },
      { path: 'b', type: 'dir', mode: '0755', uid: 0, gid: 0, mtime: '0' },
      { path: 'b/hard', type: 'file', mode: '4755', uid: 1, gid: 2, mtime: '5.000000007', size: 3, xattrs: { 'security.capability': '0100', 'user.empty': '', 'user.z': 'ff' }, hardlinkTo: 'a/first' },
      { path: 'dev', type: 'dir', mode: '0755', uid: 0, gid: 0, mtime: '0' },
      { path: 'dev/null', type: 'char', mode: '0666', uid: 0, gid: 0, mtime: '0', device: [1, 3] },
      { path: 'dev/sda', type: 'block', mode: '0660', uid: 0, gid: 6, mtime: '0', device: [8, 0] },
      { path: 'run', type: 'dir', mode: '0755', uid: 0, gid: 0, mtime: '0' },
      { path: 'run/fifo', type: 'fifo', mode: '0600', uid: 0, gid: 0, mtime: '-2.750000000' },
      { path: 'run/sock', type: 'socket', mode: '0755', uid: 0, gid: 0, mtime: '0' },
    ]),
  );
});
