/**
 * The layering rules of docs/design.md, checked on the source: imports go down the layers only
 * (cli → check → recipe, iuk → diff → image, normalize → formats → compress, parallel → tree →
 * io → errors), no module imports another format's internals, no file takes part in an import
 * cycle, and library code (everything outside src/cli) leaves the process alone: it reads no
 * environment variable, installs no process-wide handler and sets no V8 flag.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { REPO } from '../helpers/cli.js';

/**
 * Rank of each part of src/: an import must go to a lower rank (or stay inside its own part).
 * A part is a top-level file or folder, or a format's folder (`formats/squashfs`); the format
 * contract (formats/format.ts) sits below the format folders and their registry above them.
 */
const RANKS: Readonly<Record<string, number>> = {
  'errors.ts': 0,
  'stage-timer.ts': 0,
  'progress.ts': 0,
  types: 0,
  io: 1,
  tree: 2,
  compress: 3,
  parallel: 3,
  'formats/format.ts': 4,
  formats: 5,
  'formats/registry.ts': 6,
  'formats/index.ts': 6.5,
  image: 7,
  normalize: 7,
  diff: 8,
  iuk: 9,
  recipe: 9,
  check: 10,
  rebuild: 10,
  cli: 11,
  'index.ts': 12,
};

interface Import {
  from: string;
  to: string;
  /** `import type` / `export type`: erased at run time. */
  typeOnly: boolean;
  /** `await import(...)`: loaded when called, not when the importing module loads. */
  dynamic: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The relative imports of one file, as paths relative to the repository. */
function importsOf(file: string, source: ts.SourceFile): Import[] {
  const out: Import[] = [];
  const add = (spec: ts.Expression | undefined, typeOnly: boolean, dynamic: boolean) => {
    if (!spec || !ts.isStringLiteralLike(spec) || !spec.text.startsWith('.')) return;
    const to = relative(REPO, join(dirname(file), spec.text)).replace(/\.js$/, '.ts');
    out.push({ from: relative(REPO, file), to, typeOnly, dynamic });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const allTypes = clause !== undefined && (clause.isTypeOnly || (clause.name === undefined && clause.namedBindings !== undefined && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.length > 0 && clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier, allTypes, false);
    } else if (ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier, node.isTypeOnly, false);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], false, true);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, true, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** `formats/squashfs`, `formats/registry.ts`, `image`, `errors.ts`: the part of src/ a file belongs to. */
function partOf(path: string): string {
  const [, top, sub] = path.split('/');
  if (top === 'formats' && sub !== undefined) return `formats/${sub}`;
  return top!;
}

function rankOf(part: string): number | undefined {
  return RANKS[part] ?? RANKS[part.split('/')[0]!];
}

/** What one format's folder may import from another: its index.ts (the registry: also its format.ts). */
function isFormatEntry(path: string, importer: string): boolean {
  if (/^src\/formats\/[^/]+\/index\.ts$/.test(path)) return true;
  return importer === 'src/formats/registry.ts' && /^src\/formats\/[^/]+\/format\.ts$/.test(path);
}

/** A format's own folder (`formats/squashfs`), as opposed to the shared files in formats/. */
function isFormatFolder(part: string): boolean {
  return part.startsWith('formats/') && !part.endsWith('.ts');
}

const SRC = join(REPO, 'src');
const parsed = sourceFiles(SRC).map((file) => ({ file, source: ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true) }));
const imports = parsed.flatMap(({ file, source }) => importsOf(file, source));

/** Problems found by `layeringProblems`, one line each. */
export function layeringProblems(all: Import[]): string[] {
  const problems: string[] = [];
  for (const imp of all) {
    const a = partOf(imp.from);
    const b = partOf(imp.to);
    if (a === b) continue;
    const ra = rankOf(a);
    const rb = rankOf(b);
    if (ra === undefined || rb === undefined) {
      problems.push(`${imp.from}: imports ${imp.to}, and ${ra === undefined ? a : b} has no place in the layers (add it to RANKS)`);
    } else if (isFormatFolder(b) && (isFormatFolder(a) || a === 'formats/registry.ts')) {
      if (!isFormatEntry(imp.to, imp.from)) problems.push(`${imp.from}: imports ${imp.to}, another format's internals (import its index.ts)`);
    } else if (rb >= ra) {
      problems.push(`${imp.from}: imports ${imp.to} (${b} is not below ${a})`);
    }
  }
  return problems;
}

/** Every cycle of static value imports, each as its files in order (Tarjan's strongly connected components). */
export function importCycles(all: Import[]): string[][] {
  const next = new Map<string, string[]>();
  for (const imp of all) {
    if (imp.typeOnly || imp.dynamic) continue;
    next.set(imp.from, [...(next.get(imp.from) ?? []), imp.to]);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let counter = 0;
  const connect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (next.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) connect(v);
  return cycles;
}

/** Uses of the process that only the program owning it (the CLI) may make. */
export function processProblems(file: string, source: ts.SourceFile): string[] {
  const problems: string[] = [];
  const where = (node: ts.Node) => `${file}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'process') {
      const name = node.name.text;
      // `{ ...process.env, LC_ALL: 'C' }` hands our environment on to a child, as spawn does by default
      if (name === 'env' && !ts.isSpreadAssignment(node.parent)) problems.push(`${where(node)}: reads process.env (take the value as an option; the CLI reads the environment)`);
      if (['on', 'once', 'addListener', 'prependListener', 'prependOnceListener', 'setUncaughtExceptionCaptureCallback', 'exit', 'abort'].includes(name)) {
        problems.push(`${where(node)}: process.${name} (the CLI owns the process; take an AbortSignal)`);
      }
    }
    if (ts.isIdentifier(node) && node.text === 'setFlagsFromString') problems.push(`${where(node)}: sets a V8 flag (the CLI owns the process)`);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return problems;
}

test('imports go down the layers only, and never into another format', () => {
  assert.deepEqual(layeringProblems(imports), []);
});

test('no file of src/ takes part in an import cycle', () => {
  assert.deepEqual(importCycles(imports).map((c) => c.join(' → ')), []);
});

test('library code reads no environment variable, installs no process handler, sets no V8 flag', () => {
  const problems = parsed.filter(({ file }) => !relative(SRC, file).startsWith('cli/')).flatMap(({ file, source }) => processProblems(relative(REPO, file), source));
  assert.deepEqual(problems, []);
});

test('the checks find what they look for', () => {
  // each rule on a planted example, so a check that stopped looking would fail here
  const imp = (from: string, to: string): Import => ({ from, to, typeOnly: false, dynamic: false });
  assert.equal(layeringProblems([imp('src/compress/registry.ts', 'src/image/initramfs-repack.ts')]).length, 1);
  assert.equal(layeringProblems([imp('src/formats/iso9660/system-area.ts', 'src/formats/gpt/gpt.ts')]).length, 1);
  assert.deepEqual(layeringProblems([imp('src/formats/iso9660/system-area.ts', 'src/formats/gpt/index.ts'), imp('src/image/pack.ts', 'src/tree/tree.ts')]), []);
  assert.deepEqual(importCycles([imp('src/a.ts', 'src/b.ts'), imp('src/b.ts', 'src/c.ts'), imp('src/c.ts', 'src/a.ts')]), [['src/a.ts', 'src/b.ts', 'src/c.ts']]);
  assert.deepEqual(importCycles([imp('src/a.ts', 'src/b.ts'), { ...imp('src/b.ts', 'src/a.ts'), typeOnly: true }]), []);
  const planted = ts.createSourceFile('x.ts', "const a = process.env.HOME;\nprocess.on('SIGINT', f);\nspawn('x', [], { env: { ...process.env } });\nsetFlagsFromString('--no-opt');\n", ts.ScriptTarget.ES2022, true);
  assert.deepEqual(processProblems('x.ts', planted).map((p) => p.split(':').slice(0, 2).join(':')), ['x.ts:1', 'x.ts:2', 'x.ts:4']);
});
