/**
 * What `reprimage rebuild` found, as one object: printed with `--json`, written as
 * `rebuild.json` in the work directory, and the source of the in-toto statement.
 */
import type { Verdict } from './verdict.js';

export const REBUILD_REPORT_VERSION = 1;

export interface RebuildReport {
  report_version: typeof REBUILD_REPORT_VERSION;
  verdict: Verdict;
  /** One line for `cannot rebuild`: the input and the problem. */
  reason?: string;
  /** The output's file name, as the manifest lists it. */
  image: string;
  published: { uri: string; sha256: string; size: number; listed: boolean };
  rebuilt?: { path: string; sha256: string; size: number; reused: boolean };
  manifest: { uri: string; sha256: string; reproducible_sha256: string };
  inputs: {
    recipe: { file: string; sha256: string };
    lock: { file: string; sha256: string };
    bundle?: { uri: string; sha256: string };
    source_date_epoch: number;
    packages: number;
  };
  tools: { reprimage: string; host: Record<string, string> };
  /** Whole paths of what differs (`rootfs.tar ▸ etc/motd`), for `differs`. */
  differences?: string[];
  /** Files written in the work directory: the diff reports, the statement, this report. */
  files: Record<string, string>;
  notes: string[];
  seconds: { rebuild: number; compare: number; total: number };
}
