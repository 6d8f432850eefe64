/**
 * Package resolution by apt's own resolver, run with a private configuration that reads nothing
 * of the host's apt setup: the verified indices are laid out as local flat repositories, and
 * `apt-get install --simulate` on an empty dpkg status says which packages, at which versions,
 * a fresh installation takes.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ReprimageError } from '../errors.js';
import { makeTemporaryDirectory } from '../io/temporaries.js';
import type { IndexedPackage } from './apt-index.js';
import { layOutRepository } from './local-repo.js';

export interface Resolution {
  /** name, version, architecture as apt chose them. */
  chosen: Array<{ name: string; version: string; architecture: string }>;
}

/** Runs apt-get under `APT_CONFIG=config` and returns stdout; a failure is a TOOL error with apt's message. */
export async function runApt(args: string[], config: string, what: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('apt-get', args, { env: { ...process.env, APT_CONFIG: config, LC_ALL: 'C.UTF-8', DEBIAN_FRONTEND: 'noninteractive' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => reject(new ReprimageError('TOOL', 'apt-get', `cannot run apt-get (install the apt package): ${e.message}`)));
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      if (code === 0) return resolvePromise(stdout);
      const text = `${stdout}\n${Buffer.concat(err).toString('utf8')}`;
      const lines = text.split('\n').filter((l) => /^(E:|W:| )/.test(l) || /depends|conflicts|unmet|Unable/i.test(l));
      reject(new ReprimageError('TOOL', 'apt-get', `${what} failed: ${lines.slice(0, 8).join(' | ').replace(/\s+/g, ' ').trim() || `exit status ${code}`}`));
    });
  });
}

/** Writes an apt configuration under `root` that sees only `sourcesList`, and returns its path. */
export async function privateAptConfig(root: string, architecture: string, sourcesList: string, recommends: boolean): Promise<string> {
  for (const d of ['etc/apt.conf.d', 'etc/preferences.d', 'etc/trusted.gpg.d', 'etc/sources.list.d', 'state/lists/partial', 'cache/archives/partial', 'log']) {
    await mkdir(join(root, d), { recursive: true });
  }
  await writeFile(join(root, 'state/status'), '');
  await writeFile(join(root, 'etc/sources.list'), `${sourcesList}\n`);
  const conf = [
    `Dir::Etc "${root}/etc";`,
    `Dir::Etc::SourceList "${root}/etc/sources.list";`,
    `Dir::Etc::SourceParts "${root}/etc/sources.list.d";`,
    `Dir::Etc::Parts "${root}/etc/apt.conf.d";`,
    `Dir::Etc::PreferencesParts "${root}/etc/preferences.d";`,
    `Dir::Etc::TrustedParts "${root}/etc/trusted.gpg.d";`,
    `Dir::State "${root}/state";`,
    `Dir::State::status "${root}/state/status";`,
    `Dir::Cache "${root}/cache";`,
    `Dir::Log "${root}/log";`,
    `APT::Architecture "${architecture}";`,
    `APT::Architectures { "${architecture}"; };`,
    `APT::Install-Recommends "${recommends}";`,
    'APT::Install-Suggests "false";',
    'Acquire::Languages "none";',
    'Debug::NoLocking "true";',
    'APT::Sandbox::User "root";',
  ].join('\n');
  const path = join(root, 'apt.conf');
  await writeFile(path, `${conf}\n`);
  return path;
}

/**
 * The dependency closure of `wanted` (package names) that apt chooses from `sources` (each a
 * verified package list). Nothing is downloaded: the repositories hold indices only.
 */
export async function resolveWithApt(sources: IndexedPackage[][], wanted: string[], architecture: string, recommends: boolean): Promise<Resolution> {
  const scratch = await makeTemporaryDirectory('reprimage-resolve-');
  const root = scratch.path;
  try {
    const lines: string[] = [];
    for (let i = 0; i < sources.length; i++) {
      const dir = join(root, `repo${i}`);
      await mkdir(dir);
      lines.push(await layOutRepository(dir, sources[i]!.map((p) => ({ stanza: p.stanza, filename: p.filename })), ''));
    }
    const config = await privateAptConfig(join(root, 'apt'), architecture, lines.join('\n'), recommends);
    await runApt(['update', '-q'], config, 'apt-get update (local indices)');
    const out = await runApt(['install', '--simulate', '-q', '-y', ...wanted], config, `resolving ${wanted.length} packages`);
    return { chosen: parseSimulation(out) };
  } finally {
    await scratch.remove();
  }
}

/** `Inst name (version origin [arch])` lines of `apt-get install --simulate`. */
export function parseSimulation(output: string): Resolution['chosen'] {
  const chosen: Resolution['chosen'] = [];
  for (const line of output.split('\n')) {
    const m = /^Inst (\S+) (?:\[[^\]]*\] )?\((\S+) .*\[([^\]]+)\]\)/.exec(line);
    if (!m) continue;
    const name = m[1]!.replace(/:[a-z0-9-]+$/, '');
    chosen.push({ name, version: m[2]!, architecture: m[3]! });
  }
  return chosen;
}
