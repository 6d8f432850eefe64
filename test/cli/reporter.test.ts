// The reporter on a fake stderr: what --quiet, --verbose, --no-progress, --color and NO_COLOR
// change, bars only on a terminal, lines lifting a bar, and the bar's text at several widths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StderrReporter, bytesText, liftProgress, progressText, type ReporterStream } from '../../src/cli/reporter.js';

function fake(isTTY: boolean): ReporterStream & { text: string } {
  return {
    text: '',
    isTTY,
    columns: 80,
    write(s: string) {
      this.text += s;
      return true;
    },
  };
}

test('warnings once, stages and summaries unless --quiet, details only with --verbose', () => {
  const out = fake(false);
  const r = new StderrReporter(out, {});
  r.warn('w');
  r.warn('w');
  r.stage('verify', 1234, '2 packages');
  r.info('out.tar: 10 bytes');
  r.detail('hidden');
  r.status('hidden too: not a terminal');
  assert.equal(out.text, 'reprimage: warning: w\nreprimage: verify         1.2 s  2 packages\nreprimage: out.tar: 10 bytes\n');
  r.configure({ verbose: true });
  r.detail('shown');
  r.status('check: build 1');
  assert.match(out.text, /shown\nreprimage: check: build 1\n$/);
  const quiet = fake(true);
  const q = new StderrReporter(quiet, {});
  q.configure({ quiet: true, verbose: true });
  q.warn('w');
  q.stage('s', 1);
  q.info('i');
  q.detail('d');
  q.progress('pack').update({ entries: 1, bytes: 1 }, { entries: 2, bytes: 2 });
  assert.equal(quiet.text, '');
});

test('bars: drawn on a terminal only, not with --no-progress; colour from --color and NO_COLOR; a line lifts the bar', () => {
  const off = fake(false);
  new StderrReporter(off, {}).progress('pack').update({ entries: 1, bytes: 5 }, { entries: 2, bytes: 10 });
  assert.equal(off.text, '');
  const noProgress = fake(true);
  const np = new StderrReporter(noProgress, {});
  np.configure({ progress: false });
  np.progress('pack').update({ entries: 1, bytes: 5 }, { entries: 2, bytes: 10 });
  assert.equal(noProgress.text, '');

  const plain = fake(true);
  const p = new StderrReporter(plain, { NO_COLOR: '1' });
  const bar = p.progress('pack');
  bar.update({ entries: 1, bytes: 5 }, { entries: 2, bytes: 10 });
  p.warn('careful');
  bar.end();
  assert.ok(!plain.text.includes('\u001b'), 'NO_COLOR: no escape code at all');
  assert.match(plain.text, /^\rpack {2}\[#####\.{5}\] {2}50% {2}1\/2 entries {2}5 B\/10 B {2}0:00\r {10,}\rreprimage: warning: careful\n\rpack [^\n]*\n$/);
  assert.match(plain.text, /100% {2}2\/2 entries {2}10 B\/10 B/, 'the final state stays');

  const colored = fake(true);
  const c = new StderrReporter(colored, {});
  c.progress('diff').update({ entries: 3, bytes: 0 });
  c.warn('w');
  const K = '\r\u001b\\[K';
  assert.match(colored.text, new RegExp(`^${K}diff {2}3 entries {2}0:00${K}reprimage: \u001b\\[33mwarning:\u001b\\[0m w\n${K}diff`));
  liftProgress();
  assert.ok(colored.text.endsWith('\r\u001b[K'), 'an error line lifts the bar (process-end.ts)');
  const never = new StderrReporter(fake(true), {});
  never.configure({ color: 'never' });
  assert.equal(never.colorFor({ isTTY: true }), false);
  const always = new StderrReporter(fake(false), { NO_COLOR: '1' });
  always.configure({ color: 'always' });
  assert.equal(always.colorFor({}), true, '--color always wins over NO_COLOR, as no-color.org says');
  assert.equal(new StderrReporter(fake(true), { TERM: 'dumb' }).colorFor({ isTTY: true }), false);
});

test('the bar text: rate and ETA, and what a narrow terminal drops first', () => {
  const done = { entries: 4827, bytes: 117.6 * 2 ** 20 };
  const total = { entries: 4870, bytes: 118.5 * 2 ** 20 };
  assert.equal(progressText('pack', { entries: 10, bytes: 2 ** 20 }, { entries: 40, bytes: 4 * 2 ** 20 }, 2000, undefined, 120), 'pack  [#####...............]  25%  10/40 entries  1.0 MiB/4.0 MiB  512.0 KiB/s  ETA 0:06');
  assert.equal(progressText('pack', done, total, 3500, 'usr/share/doc/x', 79), 'pack  [##########]  99%  4827/4870 entries  117.6 MiB/118.5 MiB  ETA 0:00');
  assert.equal(progressText('pack', done, total, 3500, undefined, 40), 'pack  4827/4870 entries  ETA 0:00');
  assert.equal(progressText('normalize', { entries: 3, bytes: 0 }, { entries: 4, bytes: 0 }, 200, undefined, 79), 'normalize  [########..]  75%  3/4 entries  0:00');
  assert.equal(bytesText(512), '512 B');
  assert.equal(bytesText(1536), '1.5 KiB');
  assert.equal(bytesText(3 * 2 ** 30), '3.0 GiB');
});
