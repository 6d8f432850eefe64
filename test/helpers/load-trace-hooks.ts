/**
 * Module hooks (node:module `register`) that append the URL of every module a process loads to
 * a file, one a line: test/cli/startup-modules.test.ts reads which modules a command line needs.
 */
import { appendFileSync } from 'node:fs';

let traceFile = '';

export function initialize(data: { traceFile: string }): void {
  traceFile = data.traceFile;
}

type Resolved = { url: string };
type NextResolve = (specifier: string, context: unknown) => Promise<Resolved>;

export async function resolve(specifier: string, context: unknown, nextResolve: NextResolve): Promise<Resolved> {
  const resolved = await nextResolve(specifier, context);
  appendFileSync(traceFile, `${resolved.url}\n`);
  return resolved;
}
