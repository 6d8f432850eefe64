/**
 * Flat APT repositories laid out by reprimage itself (`deb [trusted=yes] copy:DIR ./`; copy: so that apt copies the files into the chroot): a
 * Packages file with the verified stanzas, a Release listing its hash, and the .deb files at
 * their pool paths. `trusted=yes` is right here because reprimage verified every byte before
 * laying it out; apt is only asked to install, not to trust a network.
 */
import { createHash } from 'node:crypto';
import { copyFile, link, mkdir, open, writeFile } from 'node:fs/promises';
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
    const { sha, size } = await writePackagesFile(join(dir, 'Packages'), packages);
    const date = suiteDate === '' ? 'Thu, 01 Jan 1970 00:00:00 UTC' : suiteDate;
    await writeFile(join(dir, 'Release'), `Origin: reprimage\nLabel: reprimage\nDate: ${date}\nSHA256:\n ${sha} ${size} Packages\n`);
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

/** Stanzas encoded per this many characters: the index of a whole archive is never one string. */
const PACKAGES_PIECE = 1 << 20;

/**
 * The stanzas, separated by "\n", written piece by piece and hashed as they go: the Packages
 * index of a whole archive (tens of MB as text, twice that in memory when it holds characters
 * outside Latin-1) is never joined into one string nor encoded whole.
 */
async function writePackagesFile(path: string, packages: RepoPackage[]): Promise<{ sha: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const fh = await open(path, 'w');
  try {
    let piece: string[] = [];
    let chars = 0;
    const write = async () => {
      const bytes = Buffer.from(piece.join(''), 'utf8');
      piece = [];
      chars = 0;
      hash.update(bytes);
      size += bytes.length;
      for (let done = 0; done < bytes.length; ) done += (await fh.write(bytes, done, bytes.length - done)).bytesWritten;
    };
    for (let i = 0; i < packages.length; i++) {
      const text = i === 0 ? packages[i]!.stanza : `\n${packages[i]!.stanza}`;
      piece.push(text);
      chars += text.length;
      if (chars >= PACKAGES_PIECE) await write();
    }
    if (chars > 0) await write();
  } finally {
    await fh.close();
  }
  return { sha: hash.digest('hex'), size };
}
