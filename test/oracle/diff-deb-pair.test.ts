// reprimage diff on two real versions of a Debian library package (test/fixtures/diff: libexpat1
// 2.5.0-1+deb12u2 and +deb12u5), checked against diffoscope 240 (diffoscope-minimal): the same
// set of differing files, the summary counts, our JSON rendered by `diffoscope
// --load-existing-diff`, readelf/objdump views of the shared objects, and the HTML page in
// headless Chromium at 1400x900 (screenshots kept as test artefacts, test/helpers/diff-browser.ts;
// the summary and the `Version:` change on the first screen, no click needed, measured in the layout).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool, run, tempDir } from '../helpers/tools.js';
import { HEIGHT, WIDTH, openReport, unreadable } from '../helpers/diff-browser.js';
import { diffPaths } from '../../src/diff/engine.js';
import type { Difference } from '../../src/diff/difference.js';
import { summarize } from '../../src/diff/summary.js';
import { renderJson } from '../../src/diff/presenters/json.js';
import { renderHtml } from '../../src/diff/presenters/html.js';

const FIXTURES = join(process.cwd(), 'test/fixtures/diff');
const A = 'libexpat1_2.5.0-1+deb12u2_amd64.deb';
const B = 'libexpat1_2.5.0-1+deb12u5_amd64.deb';

function* nodes(d: Difference): Generator<Difference> {
  yield d;
  for (const c of d.details) yield* nodes(c);
}

/** A member name as both tools can agree on it: no `./`, no trailing `/`, the root left out. */
const clean = (s: string) => s.replace(/^\.\//, '').replace(/\/$/, '');

/** The files our report names as differing: member nodes and file-list entries, innermost name. */
function ourFiles(d: Difference): Set<string> {
  const paths = [...nodes(d)].flatMap((n) => [n.path1, ...(n.entries ?? []).map((e) => e.path1)]).filter((p): p is string => p !== undefined && p !== d.path1);
  return new Set(paths.map((p) => clean(p.split(' ▸ ').pop()!)).filter((p) => p !== '' && p !== '.'));
}

interface JsonNode {
  source1: string;
  unified_diff: string | null;
  comments?: string[];
  details?: JsonNode[];
}

/** The files diffoscope names: member nodes (not its decompressed layers, not views) and changed lines of its file lists. */
function diffoscopeFiles(root: JsonNode): Set<string> {
  const out = new Set<string>();
  const visit = (n: JsonNode, parent: string | undefined) => {
    const layer = parent !== undefined && /^(.*)\.(xz|gz)$/.exec(parent)?.[1]?.endsWith(n.source1);
    const aspect = n.source1 === 'file list' || n.source1.includes(' ');
    if (parent !== undefined && !aspect && !layer) out.add(clean(n.source1));
    if (n.source1 === 'file list' && n.unified_diff) {
      for (const line of n.unified_diff.split('\n')) {
        if (!/^[-+]/.test(line)) continue;
        const tokens = line.slice(1).trim().split(/\s+/);
        const arrow = tokens.indexOf('->');
        out.add(clean(arrow > 0 ? tokens[arrow - 1]! : tokens[tokens.length - 1]!));
      }
    }
    for (const c of n.details ?? []) visit(c, n.source1);
  };
  visit(root, undefined);
  out.delete('');
  return out;
}

async function ourDiff(): Promise<Difference> {
  const old = process.cwd();
  process.chdir(FIXTURES);
  try {
    const d = await diffPaths(A, B);
    assert.ok(d);
    return d;
  } finally {
    process.chdir(old);
  }
}

test('two versions of libexpat1: the files diffoscope names, the summary counts, readelf views; our JSON loads in diffoscope', async (t) => {
  if (!requireTool(t, 'diffoscope', 'readelf', 'objdump')) return;
  const dir = tempDir(t);
  const d = await ourDiff();
  const r = run('diffoscope', ['--json', '-', A, B], { cwd: FIXTURES, allowFail: true });
  assert.equal(r.status, 1, r.stderr);
  const theirs = diffoscopeFiles(JSON.parse(r.stdout.toString('utf8')) as JsonNode);
  const ours = ourFiles(d);
  assert.deepEqual([...ours].sort(), [...theirs].sort());
  assert.equal(ours.size, 22);

  const s = summarize(d);
  assert.deepEqual([s.added, s.removed, s.content, s.metadataOnly, s.metadataFields], [0, 0, 6, 16, { mtime: 16 }]);
  // every file diffoscope names is a container (control.tar.xz, data.tar.xz), a content change or
  // a metadata-only one; the two archives' roots (`./`, mtime only) are counted but not named
  assert.equal(2 + s.content + s.metadataOnly - 2, theirs.size);
  assert.deepEqual(
    s.largest.map((c) => c.path).slice(2),
    ['data.tar.xz ▸ usr/share/doc/libexpat1/changelog.Debian.gz', 'control.tar.xz ▸ md5sums', 'control.tar.xz ▸ symbols', 'control.tar.xz ▸ control'],
  );
  assert.ok(s.largest.slice(0, 2).every((c) => c.path.endsWith('.so.1.8.10')), 'the shared objects are the largest changes');

  // the shared objects are shown through readelf, strings and objdump, never as a hex dump
  const lib = [...nodes(d)].find((n) => n.source1 === './lib/x86_64-linux-gnu/libexpat.so.1.8.10')!;
  const views = lib.details.map((n) => n.source1);
  for (const v of ['readelf --wide --file-header {}', 'readelf --wide --symbols {}', 'strings --all --bytes=8 {}', 'objdump --line-numbers --disassemble --demangle --reloc --no-show-raw-insn --section=.text {}']) {
    assert.ok(views.includes(v), `${v} not in ${views.join(', ')}`);
  }
  assert.equal(lib.unifiedDiff, null, 'no hex dump');
  const symbols = lib.details.find((n) => n.source1 === 'readelf --wide --symbols {}')!;
  assert.match(symbols.unifiedDiff!, /^\+.*XML_SetAllocTrackerActivationThreshold/m);

  const json = join(dir, 'ours.json');
  writeFileSync(json, renderJson(d));
  const loaded = run('diffoscope', ['--load-existing-diff', json, '--text', '-'], { allowFail: true });
  assert.equal(loaded.status, 1, loaded.stderr);
  assert.doesNotMatch(loaded.stderr, /Traceback|Error/);
  const text = loaded.stdout.toString('utf8');
  assert.match(text, /^--- libexpat1_2\.5\.0-1\+deb12u2_amd64\.deb\n\+\+\+ libexpat1_2\.5\.0-1\+deb12u5_amd64\.deb\n│┄ summary: 0 added, 0 removed, 6 changed in content, 16 changed in metadata only \(mtime 16\)\n/);
  assert.match(text, /├── file list\n/);
  assert.match(text, /│ │ ├── \.\/control\n(│ │ │ .*\n)*│ │ │ -Version: 2\.5\.0-1\+deb12u2\n│ │ │ \+Version: 2\.5\.0-1\+deb12u5\n/);
});

test('libexpat1 pair as HTML in Chromium at 1400x900: summary above the fold, the Version: change shown without a click; screenshots kept', async (t) => {
  if (!requireTool(t, 'chromium', 'readelf')) return;
  const d = await ourDiff();
  const { geometry, screenshots } = await openReport(renderHtml(d), 'diff-libexpat1', [
    { selector: 'table.sbs td.del', text: 'Version: 2.5.0-1+deb12u2' },
    { selector: 'table.sbs td.add', text: 'Version: 2.5.0-1+deb12u5' },
  ]);
  t.diagnostic(JSON.stringify(geometry));
  t.diagnostic(`screenshots: ${screenshots.join(' ')}`);
  // small enough for the change itself to be on the first screen, beside the summary
  assert.deepEqual(unreadable(geometry, { aboveFold: true }), []);
  assert.equal(screenshots.length, 3);
  for (const shot of screenshots) {
    const png = readFileSync(shot);
    assert.equal(png.subarray(0, 8).toString('hex'), '89504e470d0a1a0a');
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [WIDTH, HEIGHT], `${shot}: width, height`);
  }
});
