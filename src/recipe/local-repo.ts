/**
 * Flat APT repositories laid out by reprimage itself (`deb [trusted=yes] copy:DIR ./`; copy: so that apt copies the files into the chroot): a
 * Packages file with the verified stanzas, a Release listing its hash, and the .deb files at
 * their pool paths. `trusted=yes` is right here because reprimage verified every byte before
 * laying it out; apt is only asked to install, not to trust a network.
 */
import { createHash } from 'node:crypto';
import { copyFile, link, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fromSystemError } from '../errors.js';

export interface RepoPackage {
  /** The verified index stanza, written verbatim. */
  stanza: string;
  filename: string;
  /** Where the verified .deb is (in the cache); undefined for an index-only repository. */
  debPath?: string;
}

/** Writes the repository into `dir` (which must exist and be empty) and returns its sources.list line. */
export async function layOutRepository(dir: string, packages: RepoPackage[], suiteDate: string): Promise<string> {
  try {
    const text = packages.map((p) => p.stanza).join('\n');
    await writeFile(join(dir, 'Packages'), text);
    const sha = createHash('sha256').update(text).digest('hex');
    const date = suiteDate === '' ? 'Thu, 01 Jan 1970 00:00:00 UTC' : suiteDate;
    await writeFile(join(dir, 'Release'), `Origin: reprimage\nLabel: reprimage\nDate: ${date}\nSHA256:\n ${sha} ${Buffer.byteLength(text)} Packages\n`);
    for (const p of packages) {
      if (!p.debPath) continue;
      const target = join(dir, p.filename);
      await mkdir(dirname(target), { recursive: true });
      await link(p.debPath, target).catch(() => copyFile(p.debPath!, target));
    }
  } catch (e) {
    throw fromSystemError(e, dir);
  }
  return `deb [trusted=yes] copy:${dir} ./`;
}
