/**
 * What this machine lets `check` vary, found by trying it: a locale is used only if `locale`
 * accepts it, a UTS namespace only if `hostname` inside it reports the new name, disorderfs only
 * if a mount shows up in /proc/mounts and lists a directory, faketime only if `date` under it is
 * really shifted. A variation that cannot be shown to apply is skipped, with the reason.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export type Probe<T> = { ok: true; value: T; note?: string } | { ok: false; reason: string };

function sh(args: string[], env?: NodeJS.ProcessEnv): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8', env, timeout: 20_000 });
  if (r.error) return { status: -1, stdout: '', stderr: r.error.message };
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function hasCommand(name: string): boolean {
  return commandPath(name) !== undefined;
}

/**
 * The absolute path of a program on PATH, as the shell finds it. (Node's own PATH search gives
 * EACCES when a PATH directory is unreadable to the user, e.g. /root/… for nobody.)
 */
export function commandPath(name: string): string | undefined {
  const r = sh(['sh', '-c', 'command -v "$1"', 'sh', name]);
  const path = r.stdout.trim();
  return r.status === 0 && path.startsWith('/') ? path : undefined;
}

/** Locales installed (`locale -a`), as spelled there. */
export function installedLocales(): string[] {
  const r = sh(['locale', '-a']);
  return r.status === 0 ? r.stdout.split('\n').map((l) => l.trim()).filter(Boolean) : [];
}

/** Whether `locale` runs without complaint with LC_ALL set to `name`. */
export function localeWorks(name: string): boolean {
  const r = sh(['locale'], { ...process.env, LANG: name, LC_ALL: name });
  return r.status === 0 && !/cannot set|Cannot set/i.test(r.stderr);
}

/** The control's locale (C.UTF-8 where it exists, else C) and a contrasting installed one. */
export function probeLocales(): Probe<{ control: string; experiment: string }> {
  const all = installedLocales();
  if (all.length === 0) return { ok: false, reason: '`locale -a` lists nothing (is the locale command installed?)' };
  const normalized = new Map(all.map((l) => [l.toLowerCase().replace('utf-8', 'utf8'), l]));
  const control = normalized.has('c.utf8') && localeWorks('C.UTF-8') ? 'C.UTF-8' : 'C';
  for (const want of ['fr_FR.UTF-8', 'de_DE.UTF-8', 'tr_TR.UTF-8', 'es_ES.UTF-8', 'ja_JP.UTF-8', 'en_GB.UTF-8', 'en_US.UTF-8']) {
    if (normalized.has(want.toLowerCase().replace('utf-8', 'utf8')) && localeWorks(want)) return { ok: true, value: { control, experiment: want } };
  }
  const other = all.find((l) => !/^(C|POSIX|C\.utf-?8)$/i.test(l) && localeWorks(l));
  if (other) return { ok: true, value: { control, experiment: other } };
  return { ok: false, reason: `no locale other than C/POSIX is installed (locale -a: ${all.join(', ')}); install locales-all` };
}

/** A time zone far from UTC: the zoneinfo name when tzdata is there, else a POSIX TZ string. */
export function probeTimeZone(): Probe<string> {
  if (existsSync('/usr/share/zoneinfo/Pacific/Kiritimati')) return { ok: true, value: 'Pacific/Kiritimati' };
  return { ok: true, value: 'KIR-14', note: 'tzdata missing: a POSIX TZ string' };
}

/** The name the machine has, for contrast with the one the UTS namespace sets. */
function currentHostname(): string {
  try {
    return readFileSync('/proc/sys/kernel/hostname', 'utf8').trim();
  } catch {
    return sh(['hostname']).stdout.trim();
  }
}

export const VARIED_HOSTNAME = 'reprimage-check-other-host';
export const VARIED_DOMAINNAME = 'other-domain.invalid';

/**
 * The command prefix that runs a program in a new UTS namespace with another host and domain
 * name: `unshare --uts` as root, else `unshare -r --uts` (a user namespace; the program then sees
 * itself as uid 0, which the report says). Proved by reading both names inside.
 */
export function probeUts(): Probe<{ prefix: string[]; host: string }> {
  if (!hasCommand('unshare')) return { ok: false, reason: 'unshare not found (package util-linux)' };
  // domainname(1) uses setdomainname(2), allowed in a user namespace's own UTS namespace,
  // where writing /proc/sys/kernel/domainname is not
  const setNames = `hostname ${VARIED_HOSTNAME} && { domainname ${VARIED_DOMAINNAME} || echo ${VARIED_DOMAINNAME} > /proc/sys/kernel/domainname; } && exec "$@"`;
  const root = process.getuid?.() === 0;
  const attempts: Array<{ prefix: string[]; note?: string }> = root
    ? [{ prefix: ['unshare', '--uts'] }, { prefix: ['unshare', '-r', '--uts'], note: 'in a user namespace: the command sees uid 0' }]
    : [{ prefix: ['unshare', '-r', '--uts'], note: 'in a user namespace: the command sees uid 0' }];
  const errors: string[] = [];
  for (const a of attempts) {
    const prefix = [...a.prefix, 'sh', '-c', setNames, 'sh'];
    const r = sh([...prefix, 'sh', '-c', 'hostname; cat /proc/sys/kernel/domainname']);
    if (r.status === 0 && r.stdout === `${VARIED_HOSTNAME}\n${VARIED_DOMAINNAME}\n`) {
      return { ok: true, value: { prefix, host: currentHostname() }, note: a.note };
    }
    errors.push(`${a.prefix.join(' ')}: ${(r.stderr.trim().split('\n')[0] ?? '') || `exit ${r.status}`}`);
  }
  return { ok: false, reason: `cannot set the host name in a UTS namespace (${errors.join('; ')})` };
}

/** faketime with a shift of `days`, proved by `date +%s` under it. */
export function probeFaketime(days: number): Probe<string[]> {
  if (!hasCommand('faketime')) return { ok: false, reason: 'faketime not found (package faketime)' };
  const prefix = ['faketime', '-f', `+${days}d`];
  const before = Date.now() / 1000;
  const r = sh([...prefix, 'date', '+%s']);
  const shifted = Number(r.stdout.trim());
  const expected = before + days * 86400;
  if (r.status !== 0 || !Number.isFinite(shifted) || Math.abs(shifted - expected) > 3600) {
    return { ok: false, reason: `faketime did not shift the clock (date printed ${JSON.stringify(r.stdout.trim())}, ${r.stderr.trim().split('\n')[0] ?? ''})` };
  }
  return { ok: true, value: prefix };
}

/**
 * disorderfs (FUSE) with shuffled directory listings, proved by a test mount that appears in
 * /proc/mounts and lists a directory. Containers often have no /dev/fuse or no right to mount.
 */
export function probeDisorderfs(): Probe<true> {
  if (!hasCommand('disorderfs')) return { ok: false, reason: 'disorderfs not found (package disorderfs)' };
  if (!existsSync('/dev/fuse')) return { ok: false, reason: '/dev/fuse is missing (FUSE is not available in this container)' };
  const dir = mkdtempSync(join(tmpdir(), 'reprimage-disorderfs-probe-'));
  const backing = join(dir, 'backing');
  const mnt = join(dir, 'mnt');
  try {
    mkdirSync(backing);
    mkdirSync(mnt);
    for (const n of ['a', 'b', 'c']) writeFileSync(join(backing, n), n);
    const r = mountDisorderfs(backing, mnt);
    if (!r.ok) return r;
    try {
      const listed = sh(['ls', '-U', mnt]).stdout.split('\n').filter(Boolean).sort();
      if (listed.join(',') !== 'a,b,c') return { ok: false, reason: `a disorderfs mount lists ${listed.join(',')} instead of a,b,c` };
    } finally {
      unmountFuse(mnt);
    }
    return { ok: true, value: true };
  } finally {
    // never delete through a mount that stayed
    if (!isMounted(mnt)) rmSync(dir, { recursive: true, force: true });
  }
}

export function mountDisorderfs(backing: string, mountPoint: string): Probe<true> {
  // The FUSE daemon that stays behind may keep the descriptors it was given: never a pipe we
  // wait on (spawnSync would wait for the daemon to end), but /dev/null and a file.
  const errFile = `${mountPoint}.disorderfs-stderr`;
  const errFd = openSync(errFile, 'w');
  let r;
  try {
    r = spawnSync(commandPath('disorderfs') ?? 'disorderfs', ['--shuffle-dirents=yes', '--quiet', backing, mountPoint], { stdio: ['ignore', 'ignore', errFd], timeout: 20_000 });
  } finally {
    closeSync(errFd);
  }
  const stderr = readFileSync(errFile, 'utf8').trim();
  rmSync(errFile, { force: true });
  const mounted = isMounted(mountPoint);
  if (r.status !== 0 || r.error) {
    if (mounted) unmountFuse(mountPoint);
    return { ok: false, reason: `disorderfs could not mount: ${stderr.split('\n')[0] || (r.error?.message ?? `exit ${r.status}`)}` };
  }
  if (!mounted) return { ok: false, reason: 'disorderfs exited 0 but no mount appeared' };
  return { ok: true, value: true };
}

/** Whether `path` is a mount point now (/proc/mounts escapes spaces as \040). */
export function isMounted(path: string): boolean {
  const escaped = path.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === escaped);
}

/** Unmounts a FUSE mount; lazily (detached now, gone when unused) if a process still holds it. */
export function unmountFuse(mountPoint: string): boolean {
  const attempts = [['fusermount', '-u'], ['fusermount3', '-u'], ['umount'], ['fusermount', '-uz'], ['fusermount3', '-uz'], ['umount', '-l']];
  for (const cmd of attempts) {
    if (sh([...cmd, mountPoint]).status === 0) return true;
  }
  return false;
}

export function currentUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? 'unknown'}`; // no passwd entry (a container's arbitrary uid)
  }
}
