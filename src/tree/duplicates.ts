/**
 * Archives (tar, cpio) may hold the same path twice. Extraction keeps the last one (GNU tar,
 * GNU cpio), and so do the readers; this notes such paths so that the reader can say so in one
 * warning instead of dropping an entry silently (docs/design.md rule 8). A directory listed again is
 * not worth a warning: its children stay and only its metadata is replaced.
 */
import { displayName } from './names.js';

export class DuplicateNames {
  readonly #seen = new Map<string, boolean>();
  readonly #found = new Set<string>();

  constructor(
    private readonly archive: string,
    private readonly noun: string,
  ) {}

  /** Records one entry at `path`; `isDir` tells whether it is a directory. */
  see(path: string, isDir: boolean): void {
    const wasDir = this.#seen.get(path);
    if (wasDir !== undefined && !(wasDir && isDir) ) this.#found.add(path);
    this.#seen.set(path, isDir);
  }

  /** Forgets the paths seen so far (a concatenated cpio archive may overlay an earlier one). */
  forgetSeen(): void {
    this.#seen.clear();
  }

  /** One warning for the whole archive, naming the (first) path that appeared twice. */
  report(warn: (message: string) => void): void {
    const [first] = this.#found;
    if (first === undefined) return;
    const more = this.#found.size > 1 ? ` (and ${this.#found.size - 1} more paths)` : '';
    warn(`${this.archive}: ${this.noun} "${displayName(first)}"${more} appears more than once; the last one is kept, as extraction would`);
  }
}
