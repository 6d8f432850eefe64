/**
 * The table of commands: each name with the loader of its module, so that a call loads only
 * the command it names. The order is the order of `--help`, of the man pages and of the
 * completions.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Reporter } from './reporter.js';

type Definer = (reporter: Reporter) => Command;

export const COMMAND_LOADERS: Readonly<Record<string, () => Promise<Definer>>> = {
  pack: async () => (await import('./pack.js')).packCommand,
  disk: async () => (await import('./disk.js')).diskCommand,
  'verify-disk': async () => (await import('./verify-disk.js')).verifyDiskCommand,
  ls: async () => (await import('./ls.js')).lsCommand,
  diff: async () => (await import('./diff.js')).diffCommand,
  normalize: async () => (await import('./normalize.js')).normalizeCommand,
  'po-changed': async () => (await import('./po-changed.js')).poChangedCommand,
  check: async () => (await import('./check.js')).checkCommand,
  iuk: async () => (await import('./iuk.js')).iukCommand,
  'iuk-apply': async () => (await import('./iuk.js')).iukApplyCommand,
  lock: async () => (await import('./lock.js')).lockCommand,
  build: async () => (await import('./build.js')).buildCommand,
  rebuild: async () => (await import('./rebuild.js')).rebuildCommand,
};

export const COMMAND_NAMES: readonly string[] = Object.keys(COMMAND_LOADERS);

/**
 * The command an argument list names: its first word that is not an option (the program's own
 * options take no values). Undefined for none, `help`, or a name we do not know.
 */
export function commandNamed(args: readonly string[]): string | undefined {
  const word = args.find((a) => !a.startsWith('-'));
  return word !== undefined && Object.hasOwn(COMMAND_LOADERS, word) ? word : undefined;
}

/** The version in reprimage's package.json, found by walking up from this compiled file. */
export function packageVersion(): string {
  for (let up = '../'; up.length < 30; up += '../') {
    try {
      const pkg = JSON.parse(readFileSync(new URL(`${up}package.json`, import.meta.url), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'reprimage') return pkg.version;
    } catch {
      // not at this level
    }
  }
  return 'unknown';
}
