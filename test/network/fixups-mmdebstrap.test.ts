/**
 * The fix-ups on real root trees: mmdebstrap (minbase plus the packages that write the state
 * the fix-ups handle: fontconfig, gdk-pixbuf, GLib and glib-networking (GIO modules),
 * shared-mime-info, desktop-file-utils, cracklib-runtime, python3-minimal for bytecode, systemd
 * and dbus for the machine ids) installs from deb.debian.org twice, with mmdebstrap's own
 * clean-ups skipped so the trees keep everything a build leaves: once with SOURCE_DATE_EPOCH
 * exported (as `build` does), once without it, in another time zone and locale (the worst
 * case: every tool uses the clock). The raw trees differ; after `applyFixups` they are
 * identical, and written as tar they are byte-identical.
 * Needs the network and root (mmdebstrap's root mode): the `network` tier.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { requireTool, run, skipOrFailInCi, tempDir } from '../helpers/tools.js';
import { openFileSource } from '../../src/io/source.js';
import type { Sink } from '../../src/io/sink.js';
import { loadTar, writeTar } from '../../src/formats/tar/index.js';
import { applyFixups, type FixupReport } from '../../src/normalize/fixups/index.js';
import type { Tree } from '../../src/tree/tree.js';
import { readContent } from '../../src/tree/content.js';

const T = 1700000000;
const MIRROR = process.env['REPRIMAGE_DEBIAN_MIRROR'] ?? 'http://deb.debian.org/debian';
const PACKAGES = [
  'fontconfig', 'fonts-dejavu-core', 'libgdk-pixbuf-2.0-0', 'libglib2.0-0', 'glib-networking', 'shared-mime-info',
  'desktop-file-utils', 'cracklib-runtime', 'python3-minimal', 'systemd', 'dbus',
].join(',');

function mmdebstrap(out: string, env: Record<string, string | undefined>): void {
  const environment: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete environment[k];
  run('mmdebstrap', [
    // apt's sandbox user cannot always write /dev/null in containers; root can
    '--aptopt=APT::Sandbox::User "root"',
    '--variant=minbase',
    `--include=${PACKAGES}`,
    // keep what a build leaves behind: the fix-ups, not mmdebstrap, are under test
    '--skip=cleanup/reproducible,cleanup/apt,cleanup/tmp',
    'bookworm', out, MIRROR,
  ], { env: environment, timeout: 15 * 60_000 });
}

/** path → kind, metadata and content hash of every entry. */
async function entries(tree: Tree): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const { path, node, linkTo } of tree.walk()) {
    let what = `${node.kind} ${node.mode.toString(8)} ${node.uid}:${node.gid} ${node.mtime.sec}.${node.mtime.nsec}`;
    if (linkTo !== undefined) what += ` => ${linkTo}`;
    else if (node.kind === 'file') {
      const h = createHash('sha256');
      for await (const c of node.content.chunks()) h.update(c);
      what += ` ${h.digest('hex')}`;
    } else if (node.kind === 'symlink') what += ` -> ${node.target}`;
    else if (node.kind === 'char' || node.kind === 'block') what += ` ${node.major},${node.minor}`;
    out.set(path, what);
  }
  return out;
}

function differing(a: Map<string, string>, b: Map<string, string>): string[] {
  const paths = new Set([...a.keys(), ...b.keys()]);
  return [...paths].filter((p) => a.get(p) !== b.get(p)).sort();
}

/** A sink that keeps only the SHA-256 of what it is given (the tars are hundreds of MB). */
class HashSink implements Sink {
  readonly hash = createHash('sha256');
  position = 0;
  write(bytes: Uint8Array): Promise<void> {
    this.hash.update(bytes);
    this.position += bytes.length;
    return Promise.resolve();
  }
  writeAt(): Promise<void> {
    return Promise.reject(new Error('HashSink cannot seek'));
  }
  flush(): Promise<void> {
    return Promise.resolve();
  }
}

async function tarSha256(tree: Tree): Promise<string> {
  const sink = new HashSink();
  await writeTar(tree, sink, { format: 'pax', buildTime: T });
  return sink.hash.digest('hex');
}

test('two mmdebstrap builds differ raw and are identical after the fix-ups', { timeout: 40 * 60_000 }, async (t) => {
  if (!requireTool(t, 'mmdebstrap')) return;
  if (process.getuid?.() !== 0) return skipOrFailInCi(t, 'mmdebstrap root mode needs root');
  const dir = tempDir(t, 'reprimage-fixups-net-');
  const trees: Tree[] = [];
  const reports: FixupReport[] = [];
  let raw: string[] = [];
  const started = Date.now();
  const variants = [
    { SOURCE_DATE_EPOCH: String(T), TZ: 'UTC', LANG: 'C.UTF-8' },
    { SOURCE_DATE_EPOCH: undefined, TZ: 'Asia/Tokyo', LANG: 'fr_FR.UTF-8' },
  ];
  for (const [i, env] of variants.entries()) {
    const out = join(dir, `root${i}.tar`);
    mmdebstrap(out, env);
    const source = await openFileSource(out);
    t.after(() => source.close());
    trees.push(await loadTar(source));
  }
  const built = Date.now();
  raw = differing(await entries(trees[0]!), await entries(trees[1]!));
  for (const tree of trees) reports.push(await applyFixups(tree, { buildTime: T }));
  const fixedAt = Date.now();
  const after = differing(await entries(trees[0]!), await entries(trees[1]!));
  t.diagnostic(`raw trees: ${raw.length} paths differ, e.g. ${raw.slice(0, 12).join(' ')}`);
  for (const [i, r] of reports.entries()) {
    t.diagnostic(`build ${i + 1} fix-ups: ${JSON.stringify(r.counts)}; normalize recognised ${r.normalize.length} files, changed ${r.normalize.filter((x) => x.status === 'changed').length}`);
  }
  t.diagnostic(`mmdebstrap x2: ${((built - started) / 1000).toFixed(0)} s; applyFixups x2: ${((fixedAt - built) / 1000).toFixed(1)} s`);
  assert.ok(raw.length > 0, 'the raw builds differ (else this test shows nothing)');
  assert.deepEqual(after, [], 'after the fix-ups no path differs');
  const [h0, h1] = [await tarSha256(trees[0]!), await tarSha256(trees[1]!)];
  t.diagnostic(`rootfs tar sha256 ${h0}`);
  assert.equal(h0, h1);
  // what the real tools made is there and deterministic, or gone as documented
  const present = (p: string) => trees[0]!.get(p) !== undefined;
  assert.ok(present('usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders.cache'), 'loaders.cache kept (sorted)');
  assert.ok(present('var/cache/cracklib/cracklib_dict.pwd'), 'cracklib dictionary kept');
  assert.ok(!present('var/cache/ldconfig/aux-cache'));
  assert.ok(!present('var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease'));
  assert.equal(reports[0]!.changes.filter((c) => c.path.endsWith('.pyc')).length > 0, true, 'bytecode removed');
  // the build without SOURCE_DATE_EPOCH had the problems the fix-ups are for, made by the real tools
  const fixed = new Set(reports[1]!.changes.map((c) => c.fixup));
  for (const id of ['shadow', 'machine-id', 'dbus-machine-id', 'ldconfig-aux-cache', 'logs', 'apt-lists', 'backup-files', 'pyc'] as const) {
    assert.ok(fixed.has(id), `${id} had something to fix in the build without SOURCE_DATE_EPOCH`);
  }
  assert.ok(reports[1]!.clampedTimes > 1000, 'times clamped');
  const machineId = trees[0]!.get('etc/machine-id');
  assert.ok(machineId?.kind === 'file');
  assert.equal(Buffer.from(await readContent(machineId.content)).toString(), 'uninitialized\n');
  assert.ok(present('usr/lib/x86_64-linux-gnu/gio/modules/giomodule.cache'), 'giomodule.cache kept (sorted)');
});
