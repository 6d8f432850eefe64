/**
 * docs/api.md's examples work: every `ts` block is a whole program, type-checked under strict +
 * NodeNext against the built package (imported by its name, as a user would: a module inside the
 * package resolves `reprimage/...` through package.json's exports) and run; blocks marked
 * `ts compile-only` (they need the network or Debian tools) are type-checked only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../helpers/cli.js';

interface Example {
  line: number;
  code: string;
  run: boolean;
}

function examplesOf(markdown: string): Example[] {
  const out: Example[] = [];
  for (const m of markdown.matchAll(/^```ts( compile-only)?\n([\s\S]*?)^```$/gm)) {
    out.push({ line: markdown.slice(0, m.index).split('\n').length, code: m[2]!, run: m[1] === undefined });
  }
  return out;
}

const examples = examplesOf(readFileSync(join(REPO, 'docs/api.md'), 'utf8'));

test('docs/api.md has examples, and they import only the package and Node', () => {
  assert.ok(examples.filter((e) => e.run).length >= 8, `${examples.length} examples`);
  for (const e of examples) {
    for (const [, from] of e.code.matchAll(/from '([^']+)'/g)) {
      assert.match(from!, /^(reprimage(\/[a-z0-9/]+)?|node:[a-z/]+)$/, `docs/api.md:${e.line} imports ${from}`);
    }
  }
});

test('every example of docs/api.md type-checks (strict, NodeNext) and runs', { timeout: 600_000 }, (t) => {
  // inside the repository, so that `reprimage/...` resolves to the package itself
  mkdirSync(join(REPO, '.build'), { recursive: true });
  const dir = mkdtempSync(join(REPO, '.build', 'api-docs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const names = examples.map((e) => `line-${e.line}.mts`);
  examples.forEach((e, i) => writeFileSync(join(dir, names[i]!), `// docs/api.md line ${e.line}\n${e.code}`));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023'], types: ['node'], strict: true, noUncheckedIndexedAccess: true, outDir: 'out', rootDir: '.' },
    files: names,
  }));
  const tsc = spawnSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', dir], { encoding: 'utf8' });
  assert.equal(tsc.status, 0, `tsc:\n${tsc.stdout}${tsc.stderr}`);
  for (const [i, e] of examples.entries()) {
    if (!e.run) continue;
    const r = spawnSync(process.execPath, [join(dir, 'out', names[i]!.replace(/\.mts$/, '.mjs'))], { encoding: 'utf8', cwd: dir });
    assert.equal(r.status, 0, `docs/api.md line ${e.line} failed:\n${r.stdout}${r.stderr}`);
  }
});
