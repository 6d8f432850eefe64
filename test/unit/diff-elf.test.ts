// The differ's own ELF view, used when readelf is not installed: run here with an empty PATH, so
// no tool is found, on two real ELF files of the machine (coreutils' true and false).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { diffPaths } from '../../src/diff/engine.js';
import { describeElfHeader, parseElf } from '../../src/diff/elf.js';

const TRUE = '/bin/true';
const FALSE = '/bin/false';

test('ELF headers: class, machine, sections with names, build ID', () => {
  const bytes = readFileSync(TRUE);
  const elf = parseElf(bytes);
  assert.ok(elf);
  assert.ok(elf.sections.some((s) => s.name === '.text'));
  assert.match(describeElfHeader(elf, bytes), /^class: ELF(32|64)\n/);
  assert.equal(parseElf(bytes.subarray(0, 40)), undefined, 'a cut header is not an ELF file');
  assert.equal(parseElf(new TextEncoder().encode('not an ELF file at all, not even close to one....................')), undefined);
});

test('without readelf: our own header and section views and a note naming the missing tool, no hex dump of the whole file', async () => {
  assert.ok(statSync(TRUE).isFile() && statSync(FALSE).isFile());
  const path = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    const d = await diffPaths(TRUE, FALSE);
    assert.ok(d);
    assert.equal(d.unifiedDiff, null, 'no hex dump of the whole file');
    assert.deepEqual(d.comments, ["readelf not found (Debian package binutils): showing reprimage's own view of the ELF headers"]);
    const views = d.details.map((n) => n.source1);
    assert.ok(views.includes('section headers'), views.join(', '));
    assert.ok(!views.some((v) => v.startsWith('readelf') || v.startsWith('filetype')), views.join(', '));
    assert.ok(views.some((v) => /^section \.\S+ \(hex dump\)$/.test(v)), views.join(', '));
  } finally {
    process.env.PATH = path;
  }
});
