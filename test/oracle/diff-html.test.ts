// The HTML reports opened in headless Chromium (Debian package chromium): the page shows the
// tree of differences, and --html-dir pages load their pieces on demand from file://.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { requireTool, run, tempDir } from '../helpers/tools.js';
import { diffPaths } from '../../src/diff/engine.js';
import { renderHtml, writeHtmlDir } from '../../src/diff/presenters/html.js';

function chromium(args: string[]): string {
  return run('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', ...args], { allowFail: false }).stdout.toString('utf8');
}

function pair(dir: string): [string, string] {
  for (const side of ['a', 'b']) {
    mkdirSync(join(dir, side, 'etc'), { recursive: true });
    writeFileSync(join(dir, side, 'etc/shadow'), side === 'a' ? 'root:*:19000::::::\n' : 'root:!:19000::::::\n');
    writeFileSync(join(dir, side, 'etc/hostname'), 'box\n');
    const long = Array.from({ length: 3000 }, (_, i) => `line ${i} ${side === 'a' ? 'old' : 'new'}`).join('\n');
    writeFileSync(join(dir, side, 'etc/big.conf'), `${long}\n`);
  }
  run('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-cf', join(dir, 'a.tar'), '-C', join(dir, 'a'), '.']);
  run('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-cf', join(dir, 'b.tar'), '-C', join(dir, 'b'), '.']);
  return [join(dir, 'a.tar'), join(dir, 'b.tar')];
}

test('the HTML page shows the tree of differences in Chromium, and a screenshot is taken', async (t) => {
  if (!requireTool(t, 'chromium', 'tar')) return;
  const dir = tempDir(t);
  const [a, b] = pair(dir);
  const d = await diffPaths(a, b);
  assert.ok(d);
  const page = join(dir, 'report.html');
  writeFileSync(page, renderHtml(d));
  const dom = chromium(['--dump-dom', pathToFileURL(page).href]);
  assert.match(dom, /<h1>Comparing .*a\.tar and .*b\.tar<\/h1>/);
  for (const member of ['etc/shadow', 'etc/big.conf']) {
    assert.match(dom, new RegExp(`<summary title="[^"]*a\\.tar ▸ ${member.replace('.', '\\.')}">\\./${member.replace('.', '\\.')}<`), member);
  }
  assert.match(dom, /<span class="del">-root:\*:19000::::::<\/span><span class="add">\+root:!:19000::::::<\/span>/);
  assert.match(dom, /<section id="summary">.*<td class="n">2<\/td><td>changed in content/s);
  assert.ok((dom.match(/<details/g) ?? []).length >= 3);
  const shot = join(dir, 'report.png');
  chromium([`--screenshot=${shot}`, '--window-size=1200,900', pathToFileURL(page).href]);
  const png = readFileSync(shot);
  assert.equal(png.subarray(0, 8).toString('hex'), '89504e470d0a1a0a');
  assert.ok(png.length > 5000, `screenshot of ${png.length} bytes`);
});

test('--html-dir: pieces are loaded when their node is opened (file://, no server)', async (t) => {
  if (!requireTool(t, 'chromium', 'tar')) return;
  const dir = tempDir(t);
  const [a, b] = pair(dir);
  const d = await diffPaths(a, b, { maxDiffLines: 10000 });
  assert.ok(d);
  const out = join(dir, 'report');
  await writeHtmlDir(d, out);
  const pieces = readdirSync(join(out, 'pieces'));
  assert.ok(pieces.length >= 1, 'the large diff went into a piece');
  assert.ok(statSync(join(out, 'index.html')).size < 32 * 1024);
  const index = pathToFileURL(join(out, 'index.html')).href;
  const closed = chromium(['--dump-dom', index]);
  assert.doesNotMatch(closed, /line 2999 new/);
  const opened = chromium(['--virtual-time-budget=3000', '--dump-dom', `${index}#expand-all`]);
  assert.match(opened, /<span class="add">\+line 2999 new<\/span>/);
});
