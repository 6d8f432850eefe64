/**
 * The variations of `reprimage check`, in the spirit of reprotest: what the second build changes
 * about the environment. Each one knows its control and experiment values and how to change a
 * build's setup; `detectVariations` keeps only those this machine can be shown to apply and
 * gives a reason for each one skipped.
 */
import { ReprimageError } from '../errors.js';
import { currentUserName, probeDisorderfs, probeFaketime, probeLocales, probeTimeZone, probeUts, VARIED_DOMAINNAME, VARIED_HOSTNAME } from './probe.js';

export const VARIATION_IDS = ['environment', 'build-path', 'user', 'home', 'umask', 'locale', 'timezone', 'workers', 'hostname', 'directory-order', 'clock'] as const;
export type VariationId = (typeof VARIATION_IDS)[number];

/** How one build runs. The runner builds the command line from it (runner.ts). */
export interface BuildSetup {
  env: Record<string, string>;
  umask: number;
  /** The directory name the build runs in, under the work directory. */
  buildDirName: string;
  /** Replaces `{workers}` in the command; also REPRIMAGE_WORKERS. */
  workers: number;
  /** Run the build directory through disorderfs (shuffled listings). */
  disorderfs: boolean;
  /** Command prefixes, outermost first (unshare …, faketime …). */
  wrappers: string[][];
}

export interface Variation {
  id: VariationId;
  /** What it varies, for the report. */
  what: string;
  control: string;
  experiment: string;
  /** A caveat about how it was applied, for the report. */
  note?: string;
  vary(setup: BuildSetup): void;
}

export interface SkippedVariation {
  id: VariationId;
  what: string;
  reason: string;
}

export interface VariationSet {
  applied: Variation[];
  skipped: SkippedVariation[];
  /** The setup of the control build. */
  control(): BuildSetup;
}

/** Days faketime moves the clock forward: more than a year, so even the year differs. */
export const CLOCK_SHIFT_DAYS = 398;
export const CONTROL_WORKERS = 1;
export const EXPERIMENT_WORKERS = 4;

export interface DetectOptions {
  /** Only these (all when undefined). */
  only?: ReadonlySet<VariationId>;
  /** Not these. */
  exclude?: ReadonlySet<VariationId>;
  /** Whether the command names `{workers}` (otherwise only REPRIMAGE_WORKERS carries the count). */
  commandUsesWorkers: boolean;
  /** The work directory's home directories for the two builds. */
  homes: { control: string; experiment: string };
}

export function detectVariations(options: DetectOptions): VariationSet {
  const applied: Variation[] = [];
  const skipped: SkippedVariation[] = [];
  const wanted = (id: VariationId, what: string): boolean => {
    if (options.only && !options.only.has(id)) return false;
    if (options.exclude?.has(id)) {
      skipped.push({ id, what, reason: 'left out on request (--skip)' });
      return false;
    }
    return true;
  };
  const user = currentUserName();
  let controlLocale = 'C';
  const controlTz = 'UTC';

  if (wanted('environment', 'an extra environment variable')) {
    applied.push({ id: 'environment', what: 'an extra environment variable', control: '(unset)', experiment: 'REPRIMAGE_CHECK_EXTRA=varied', vary: (s) => void (s.env.REPRIMAGE_CHECK_EXTRA = 'varied') });
  }
  if (wanted('build-path', 'build directory path')) {
    applied.push({ id: 'build-path', what: 'build directory path', control: '<work>/build', experiment: '<work>/build-varied-path', vary: (s) => void (s.buildDirName = 'build-varied-path') });
  }
  if (wanted('user', 'user name (USER, LOGNAME)')) {
    applied.push({
      id: 'user',
      what: 'user name (USER, LOGNAME)',
      control: user,
      experiment: 'reprimage-check-user',
      note: 'the environment only; the uid stays',
      vary: (s) => Object.assign(s.env, { USER: 'reprimage-check-user', LOGNAME: 'reprimage-check-user' }),
    });
  }
  if (wanted('home', 'home directory (HOME)')) {
    applied.push({ id: 'home', what: 'home directory (HOME)', control: '<work>/home', experiment: '<work>/home-varied', vary: (s) => void (s.env.HOME = options.homes.experiment) });
  }
  if (wanted('umask', 'umask')) {
    applied.push({ id: 'umask', what: 'umask', control: '0022', experiment: '0002', vary: (s) => void (s.umask = 0o002) });
  }
  if (wanted('locale', 'locale (LANG, LC_ALL)')) {
    const probe = probeLocales();
    if (probe.ok) {
      controlLocale = probe.value.control;
      const to = probe.value.experiment;
      applied.push({ id: 'locale', what: 'locale (LANG, LC_ALL)', control: controlLocale, experiment: to, vary: (s) => Object.assign(s.env, { LANG: to, LC_ALL: to, LANGUAGE: to.split(/[._@]/)[0]! }) });
    } else {
      skipped.push({ id: 'locale', what: 'locale (LANG, LC_ALL)', reason: probe.reason });
    }
  }
  if (wanted('timezone', 'time zone (TZ)')) {
    const probe = probeTimeZone();
    if (probe.ok) {
      const tz = probe.value;
      applied.push({ id: 'timezone', what: 'time zone (TZ)', control: controlTz, experiment: tz, note: probe.note, vary: (s) => void (s.env.TZ = tz) });
    }
  }
  if (wanted('workers', 'worker count')) {
    applied.push({
      id: 'workers',
      what: 'worker count',
      control: String(CONTROL_WORKERS),
      experiment: String(EXPERIMENT_WORKERS),
      note: options.commandUsesWorkers ? '{workers} in the command and REPRIMAGE_WORKERS' : 'REPRIMAGE_WORKERS only: put {workers} in the command (e.g. --workers {workers}) to vary it for reprimage',
      vary: (s) => {
        s.workers = EXPERIMENT_WORKERS;
        s.env.REPRIMAGE_WORKERS = String(EXPERIMENT_WORKERS);
      },
    });
  }
  if (wanted('hostname', 'host and domain name (UTS namespace)')) {
    const probe = probeUts();
    if (probe.ok) {
      const prefix = probe.value.prefix;
      if (probe.value.host === VARIED_HOSTNAME) {
        skipped.push({ id: 'hostname', what: 'host and domain name (UTS namespace)', reason: `the host is already called ${VARIED_HOSTNAME}` });
      } else {
        applied.push({ id: 'hostname', what: 'host and domain name (UTS namespace)', control: probe.value.host, experiment: `${VARIED_HOSTNAME} / ${VARIED_DOMAINNAME}`, note: probe.note, vary: (s) => void s.wrappers.unshift(prefix) });
      }
    } else {
      skipped.push({ id: 'hostname', what: 'host and domain name (UTS namespace)', reason: probe.reason });
    }
  }
  if (wanted('directory-order', 'directory listing order (disorderfs)')) {
    const probe = probeDisorderfs();
    if (probe.ok) {
      applied.push({ id: 'directory-order', what: 'directory listing order (disorderfs)', control: 'as the file system lists', experiment: 'shuffled and reversed (disorderfs)', vary: (s) => void (s.disorderfs = true) });
    } else {
      skipped.push({ id: 'directory-order', what: 'directory listing order (disorderfs)', reason: probe.reason });
    }
  }
  if (wanted('clock', 'clock (faketime)')) {
    const probe = probeFaketime(CLOCK_SHIFT_DAYS);
    if (probe.ok) {
      const prefix = probe.value;
      // NO_FAKE_STAT (as reprotest): libfaketime would otherwise shift the times stat() reports for
      // existing files too, which no later build would see; only the clock itself moves
      const vary = (s: BuildSetup) => {
        s.wrappers.push(prefix);
        s.env.NO_FAKE_STAT = '1';
      };
      applied.push({ id: 'clock', what: 'clock (faketime)', control: 'now', experiment: `now + ${CLOCK_SHIFT_DAYS} days`, note: 'file times read by stat() are not shifted (NO_FAKE_STAT=1)', vary });
    } else {
      skipped.push({ id: 'clock', what: 'clock (faketime)', reason: probe.reason });
    }
  }
  return {
    applied,
    skipped,
    control: () => ({
      env: { TZ: controlTz, LANG: controlLocale, LC_ALL: controlLocale, HOME: options.homes.control, USER: user, LOGNAME: user, REPRIMAGE_WORKERS: String(CONTROL_WORKERS) },
      umask: 0o022,
      buildDirName: 'build',
      workers: CONTROL_WORKERS,
      disorderfs: false,
      wrappers: [],
    }),
  };
}

export function parseVariationList(text: string, option: string): Set<VariationId> {
  const out = new Set<VariationId>();
  for (const raw of text.split(',')) {
    const id = raw.trim();
    if (id === '') continue;
    if (!(VARIATION_IDS as readonly string[]).includes(id)) {
      throw new ReprimageError('USAGE', option, `unknown variation '${id}' (known: ${VARIATION_IDS.join(', ')})`);
    }
    out.add(id as VariationId);
  }
  return out;
}
