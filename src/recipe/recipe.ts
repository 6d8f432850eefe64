/**
 * Loading a recipe: YAML parsed with source positions, then checked against the schema. Every
 * problem is one ReprimageError naming the file, the line and the key, e.g.
 * `examples/x/recipe.yaml:7: sources[0].suite: expected a string`.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { ReprimageError, fromSystemError } from '../errors.js';
import { RecipeSchema, type RecipeData } from './schema.js';

export interface Recipe extends RecipeData {
  /** The recipe file as given. */
  file: string;
  /** Directory against which relative paths in the recipe are resolved. */
  dir: string;
  /** SHA-256 of the recipe file's bytes. */
  sha256: string;
}

export async function loadRecipe(file: string): Promise<Recipe> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw fromSystemError(e, file);
  }
  const data = parseRecipe(bytes.toString('utf8'), file);
  return { ...data, file, dir: dirname(resolve(file)), sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Parses and validates recipe text; `file` names it in errors. */
export function parseRecipe(text: string, file: string): RecipeData {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0].line ?? lines.linePos(first.pos[0]).line;
    throw new ReprimageError('USAGE', `${file}:${line}`, `invalid YAML: ${first.message.split('\n')[0]}`);
  }
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (e) {
    // the yaml package resolves aliases only here: an alias to no anchor, or too many aliases
    throw new ReprimageError('USAGE', file, `invalid YAML: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
  }
  const result = RecipeSchema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const { line, key } = locate(doc, lines, issue);
  throw new ReprimageError('USAGE', `${file}:${line}`, `${key}: ${describeIssue(issue)}`);
}

/** The line and dotted key of a schema issue; a missing key points at the mapping that lacks it. */
function locate(doc: Document, lines: LineCounter, issue: z.core.$ZodIssue): { line: number; key: string } {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  let keyPath = path;
  if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) keyPath = [...path, issue.keys[0]!];
  // the deepest node on the path that exists
  let node: unknown = doc.contents;
  let line = node && (node as YamlNode).range ? lines.linePos((node as YamlNode).range![0]).line : 1;
  for (const step of keyPath) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === step);
      if (!pair) break;
      const keyNode = pair.key as YamlNode;
      if (keyNode.range) line = lines.linePos(keyNode.range[0]).line;
      node = pair.value;
    } else if (isSeq(node) && typeof step === 'number') {
      node = node.items[step];
      if (node && (node as YamlNode).range) line = lines.linePos((node as YamlNode).range![0]).line;
    } else break;
  }
  return { line, key: formatKey(keyPath) || '(top level)' };
}

function formatKey(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return 'unknown key';
    case 'invalid_type':
    {
      // zod 4 leaves the input out of issues; its message ends in "received <type>"
      const received = /received (\w+)/.exec(issue.message)?.[1] ?? 'something else';
      return received === 'undefined' ? `required (expected ${issue.expected})` : `expected ${issue.expected}, got ${received === 'array' ? 'a list' : received === 'object' ? 'a mapping' : received}`;
    }
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      return issue.message.replace(/^Invalid string: must match pattern .*$/, 'invalid format');
    default:
      return issue.message;
  }
}
