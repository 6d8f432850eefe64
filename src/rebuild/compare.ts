/**
 * A published image against its rebuild, through the diff engine (the same report as
 * `reprimage diff`): the text and JSON reports are written to the work directory, and the whole
 * paths of the deepest differing members are listed for the verdict.
 */
import { join } from 'node:path';
import { writeAtomically } from '../io/atomic-output.js';
import { diffPaths, PATH_SEPARATOR } from '../diff/engine.js';
import type { Difference } from '../diff/difference.js';

export async function compareImages(published: string, rebuilt: string, name: string, workDir: string, warn: (m: string) => void, signal?: AbortSignal): Promise<{ differences: string[]; files: Record<string, string> }> {
  const difference = await diffPaths(published, rebuilt, { warn, signal });
  if (!difference) return { differences: [], files: {} };
  const { renderText } = await import('../diff/presenters/text.js');
  const { renderJson } = await import('../diff/presenters/json.js');
  const files = { diff_text: join(workDir, 'diff.txt'), diff_json: join(workDir, 'diff.json') };
  await writeAtomically(files.diff_text, async (sink) => sink.write(Buffer.from(renderText(difference), 'utf8')), { signal });
  await writeAtomically(files.diff_json, async (sink) => sink.write(Buffer.from(renderJson(difference), 'utf8')), { signal });
  const differences = deepestPaths(difference).map((p) => (p === published ? name : p.startsWith(published + PATH_SEPARATOR) ? name + p.slice(published.length) : p));
  return { differences: [...new Set(differences)], files };
}

/** The whole paths of the nodes that stand for a file or member and hold no such node below them. */
export function deepestPaths(d: Difference): string[] {
  const below = d.details.flatMap((c) => deepestPaths(c));
  if (below.length > 0) return below;
  return d.path1 !== undefined ? [d.path1] : [];
}
