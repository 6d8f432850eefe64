/**
 * A `node --test` reporter that writes one line per skipped or todo test: file, line, name and
 * the reason given. test/run-tiers.sh adds it beside the spec and TAP reporters, because the TAP
 * summary counts skips but does not say where they come from, and in CI a skip fails the run.
 */
import { relative } from 'node:path';

interface TestResult {
  name: string;
  file?: string;
  line?: number;
  skip?: string | boolean;
  todo?: string | boolean;
}

type Event = { type: string; data: unknown };

function reason(value: string | boolean): string {
  return typeof value === 'string' && value !== '' ? value : 'no reason given';
}

export default async function* skipReporter(source: AsyncIterable<Event>): AsyncGenerator<string> {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const test = event.data as TestResult;
    const where = test.file ? `${relative(process.cwd(), test.file)}:${test.line ?? '?'}` : '(unknown file)';
    if (test.skip !== undefined && test.skip !== false) yield `SKIP ${where} ${test.name}: ${reason(test.skip)}\n`;
    if (test.todo !== undefined && test.todo !== false) yield `TODO ${where} ${test.name}: ${reason(test.todo)}\n`;
  }
}
