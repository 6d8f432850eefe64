/**
 * A generated directory tree with the shape of a desktop Debian root file system (the
 * desktop-class tree of docs/benchmarks.md: 1.3 GB, 45,000 entries), made by a seeded generator so that the scale tests
 * need neither the network nor an hour of mmdebstrap, and see the same tree on every run.
 *
 * Shape, after a real desktop tree: directories 1 to 14 levels deep, some holding hundreds of
 * entries (icon themes, locale and module directories); most files a few KB, a tail of tens of
 * MB (libxul, libreoffice's libmergedlo); empty files; relative, absolute, dangling and long
 * symlink targets; hard-link groups; executable, setuid and read-only modes and a few non-root
 * owners; names up to 255 bytes, some not ASCII (UTF-8). Contents are text (compresses about
 * 5x), machine code-like (about 2x), already compressed (incompressible) and zeros; a few files
 * are copies of others (SquashFS deduplicates them).
 *
 * Also makes `esp/`: a FAT-safe subtree (files and directories only, no case clashes, 8.3 and
 * long names), for the FAT partition of the disk test.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { chmodSync, chownSync, closeSync, constants, copyFileSync, linkSync, mkdirSync, openSync, statSync, symlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface DesktopTreeOptions {
  /** Seed of every choice; the same seed gives the same tree. */
  seed: string;
  /** Entries (directories, files, symlinks, hard links) outside `esp/`, at least. */
  entries: number;
  /** File bytes in all, at least (reached with a tail of large files). */
  bytes: number;
  /**
   * Scales every file size (default 1): the same entries and shape with fewer bytes, for the
   * slow compressors (`bytes` should be scaled with it).
   */
  sizeScale?: number;
}

export interface DesktopTreeSummary {
  dirs: number;
  files: number;
  emptyFiles: number;
  symlinks: number;
  hardlinks: number;
  bytes: number;
  largest: number;
  /** Relative path of the FAT-safe subtree. */
  esp: string;
}

/** mulberry32 over a 32-bit state drawn from the seed's SHA-256. */
class Rng {
  #s: number;
  constructor(seed: string) {
    this.#s = createHash('sha256').update(seed).digest().readUInt32LE(0);
  }
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  /** log-uniform in [lo, hi]: as many files of 100 B-1 KB as of 1-10 KB. */
  logUniform(lo: number, hi: number): number {
    return Math.round(Math.exp(Math.log(lo) + this.next() * (Math.log(hi) - Math.log(lo))));
  }
}

const SYLLABLES = ['lib', 'gtk', 'x11', 'ui', 'core', 'plug', 'in', 'data', 'share', 'pyth', 'on', 'gnome', 'icon', 'font', 'mo', 'de', 'fr', 'ja', 'office', 'writer', 'fox', 'moz', 'dbus', 'sys', 'temd', 'net', 'ssl', 'xml', 'png', 'svg', 'cfg', 'util', 'kit', 'glib', 'cairo', 'pango', 'harf', 'buzz', 'uno', 'java'];
const EXTENSIONS = ['', '.so', '.so.6', '.py', '.pyc', '.png', '.svg', '.mo', '.gz', '.txt', '.conf', '.h', '.js', '.json', '.xml', '.desktop', '.ttf', '.html'];
const WORDS = 'the of and to in is that for it as with be on not this by are or from at which an but have if can all will one there when use file system package debian license copyright version install library module function return value default option configuration directory user'.split(' ');
// names that are not ASCII (UTF-8), as translations and fonts have
const UNICODE_PARTS = ['é', 'ü', 'ß', 'ñ', 'ø', 'Ж', 'Ω', '中文', '日本語', 'ไทย', 'ğ'];

type ContentKind = 'text' | 'code' | 'random' | 'zeros';

/** Writes the tree into `dir` (which must exist and be empty). */
export function generateDesktopTree(dir: string, options: DesktopTreeOptions): DesktopTreeSummary {
  const rng = new Rng(options.seed);
  const scale = options.sizeScale ?? 1;
  const data = new ContentSource(options.seed);
  const summary: DesktopTreeSummary = { dirs: 0, files: 0, emptyFiles: 0, symlinks: 0, hardlinks: 0, bytes: 0, largest: 0, esp: 'esp' };
  const dirs: string[] = [''];
  const files: string[] = [];
  const taken = new Set<string>();
  let entries = 0;

  const name = (): string => {
    const r = rng.next();
    let n: string;
    if (r < 0.01) n = 'long-' + Array.from({ length: rng.int(20, 45) }, () => rng.pick(SYLLABLES)).join('-');
    else if (r < 0.03) n = rng.pick(SYLLABLES) + rng.pick(UNICODE_PARTS) + rng.pick(SYLLABLES);
    else n = Array.from({ length: rng.int(1, 4) }, () => rng.pick(SYLLABLES)).join(rng.pick(['', '-', '_', '.'])) + (rng.next() < 0.3 ? String(rng.int(0, 99)) : '');
    n = n.slice(0, 240);
    return n;
  };
  const fresh = (parent: string, suffix = ''): string => {
    for (;;) {
      const base = name() + suffix;
      const path = parent === '' ? base : `${parent}/${base}`;
      if (Buffer.byteLength(base) <= 255 && !taken.has(path)) {
        taken.add(path);
        return path;
      }
    }
  };
  // most new entries go into a recent directory, as package trees cluster; some into wide ones
  const wide: string[] = [];
  const parentFor = (): string => {
    const r = rng.next();
    if (r < 0.15 && wide.length > 0) return rng.pick(wide);
    if (r < 0.75) return dirs[Math.max(0, dirs.length - 1 - rng.int(0, 20))]!;
    return rng.pick(dirs);
  };
  const depth = (p: string): number => (p === '' ? 0 : p.split('/').length);

  const addDir = (): void => {
    // a depth drawn from a real tree's histogram (most directories 3 to 7 deep, a few 14)
    const want = rng.pick([1, 2, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 7, 7, 8, 9, 10, 12, 14]);
    let parent = parentFor();
    for (let tries = 0; depth(parent) >= want && tries < 40; tries++) parent = tries < 20 ? parentFor() : rng.pick(dirs);
    if (depth(parent) >= want) parent = '';
    const path = fresh(parent);
    mkdirSync(join(dir, path));
    if (rng.next() < 0.01) chmodSync(join(dir, path), rng.pick([0o700, 0o1777, 0o2775]));
    dirs.push(path);
    if (rng.next() < 0.02) wide.push(path);
    summary.dirs++;
  };
  const writeFile = (path: string, size: number, kind: ContentKind): void => {
    const fd = openSync(join(dir, path), 'wx', 0o644);
    try {
      for (let at = 0; at < size; ) {
        const chunk = data.chunk(kind, Math.min(1 << 20, size - at), rng);
        writeSync(fd, chunk);
        at += chunk.length;
      }
    } finally {
      closeSync(fd);
    }
    summary.files++;
    summary.bytes += size;
    if (size === 0) summary.emptyFiles++;
    summary.largest = Math.max(summary.largest, size);
  };
  const kindFor = (path: string): ContentKind => {
    const r = rng.next();
    if (/\.(png|gz|ttf)$/.test(path)) return r < 0.9 ? 'random' : 'code';
    if (/\.(so|so\.6|pyc)$/.test(path)) return r < 0.85 ? 'code' : 'random';
    return r < 0.7 ? 'text' : r < 0.9 ? 'code' : r < 0.98 ? 'random' : 'zeros';
  };
  const addFile = (size: number): void => {
    const path = fresh(parentFor(), rng.pick(EXTENSIONS));
    const copyOf = files.length > 0 && rng.next() < 0.01 ? rng.pick(files) : undefined;
    if (copyOf !== undefined) {
      // a copy: the same bytes under another name, as packages ship (licenses, icons)
      copyFileSync(join(dir, copyOf), join(dir, path), constants.COPYFILE_EXCL);
      const s = statSync(join(dir, path)).size;
      summary.files++;
      summary.bytes += s;
      if (s === 0) summary.emptyFiles++;
    } else {
      writeFile(path, size, kindFor(path));
    }
    const r = rng.next();
    const mode = r < 0.12 ? 0o755 : r < 0.125 ? 0o4755 : r < 0.13 ? 0o600 : r < 0.14 ? 0o444 : 0o644;
    if (mode !== 0o644) chmodSync(join(dir, path), mode);
    if (rng.next() < 0.01) chownSync(join(dir, path), rng.pick([1, 8, 100, 1000, 65534]), rng.pick([0, 4, 42, 50, 65534]));
    files.push(path);
  };
  const addSymlink = (): void => {
    const path = fresh(parentFor());
    const r = rng.next();
    let target: string;
    if (r < 0.5 && files.length > 0) {
      // relative, to an existing file: ../../usr/lib/x
      const to = rng.pick(files);
      target = '../'.repeat(depth(path) - 1) + to;
    } else if (r < 0.8 && files.length > 0) target = '/' + rng.pick(files);
    else if (r < 0.95) target = `/nonexistent/${name()}`;
    else target = Array.from({ length: rng.int(10, 30) }, () => name()).join('/').slice(0, 1000);
    symlinkSync(target, join(dir, path));
    summary.symlinks++;
  };
  const addHardlink = (): void => {
    const to = rng.pick(files);
    const path = fresh(parentFor());
    linkSync(join(dir, to), join(dir, path));
    summary.hardlinks++;
  };

  // the bulk: small and medium files among directories, symlinks and hard links
  while (entries < options.entries) {
    const r = rng.next();
    if (r < 0.1 || dirs.length < 3) addDir();
    else if (files.length === 0) addFile(100);
    else if (r < 0.16) addSymlink();
    else if (r < 0.165) addHardlink();
    else if (r < 0.185) addFile(0);
    else addFile(Math.round(scale * (rng.next() < 0.97 ? rng.logUniform(40, 64 * 1024) : rng.logUniform(64 * 1024, 2 << 20))));
    entries++;
  }
  // the tail: large libraries and data files until the byte target, the largest first
  const tail = [60, 45, 33, 24];
  while (summary.bytes < options.bytes) {
    const mb = tail.shift() ?? rng.logUniform(2, 20);
    addFile(Math.min(Math.round(scale * (mb << 20)), options.bytes - summary.bytes + 4096));
  }

  makeEsp(join(dir, 'esp'), rng, data);
  return summary;
}

/** A FAT-safe boot partition tree: unique upper-case names, long names, a few MB kernels. */
function makeEsp(root: string, rng: Rng, data: ContentSource): void {
  const put = (rel: string, size: number, kind: ContentKind): void => {
    const path = join(root, rel);
    mkdirSync(join(path, '..'), { recursive: true });
    const fd = openSync(path, 'wx', 0o644);
    try {
      for (let at = 0; at < size; ) {
        const chunk = data.chunk(kind, Math.min(1 << 20, size - at), rng);
        writeSync(fd, chunk);
        at += chunk.length;
      }
    } finally {
      closeSync(fd);
    }
  };
  mkdirSync(root);
  put('EFI/BOOT/BOOTX64.EFI', 900 * 1024, 'code');
  put('vmlinuz-6.1.0-28-amd64', 8 << 20, 'random');
  put('initrd.img-6.1.0-28-amd64', 30 << 20, 'random');
  put('loader/loader.conf', 42, 'text');
  for (let i = 0; i < 300; i++) put(`grub/locale/translation-${String(i).padStart(3, '0')}.mo`, rng.logUniform(100, 200_000), 'text');
  for (let i = 0; i < 60; i++) put(`grub/x86_64-efi/MOD${i}.MOD`, rng.logUniform(500, 60_000), 'code');
  put('EMPTY.TXT', 0, 'zeros');
}

/**
 * The bytes of generated files: AES-128-CTR keystream (fast, seeded, incompressible), a text
 * corpus of words, code-like runs mixing both with zeros.
 */
class ContentSource {
  readonly #key: Buffer;
  #counter = 0;
  readonly #text: Buffer;
  constructor(seed: string) {
    this.#key = createHash('sha256').update(`content:${seed}`).digest().subarray(0, 16);
    const rng = new Rng(`text:${seed}`);
    const parts: string[] = [];
    let n = 0;
    while (n < 1 << 20) {
      const line = Array.from({ length: rng.int(4, 14) }, () => rng.pick(WORDS)).join(' ') + (rng.next() < 0.1 ? ` ${rng.int(0, 1e6)}` : '') + '\n';
      parts.push(line);
      n += line.length;
    }
    this.#text = Buffer.from(parts.join(''));
  }
  #random(size: number): Buffer {
    const iv = Buffer.alloc(16);
    iv.writeUInt32BE(this.#counter++, 12);
    iv.writeUInt32BE(this.#counter >>> 16, 8);
    return createCipheriv('aes-128-ctr', this.#key, iv).update(Buffer.alloc(size));
  }
  chunk(kind: ContentKind, size: number, rng: Rng): Buffer {
    if (kind === 'zeros') return Buffer.alloc(size);
    if (kind === 'random') return this.#random(size);
    const text = (n: number): Buffer => {
      const at = rng.int(0, this.#text.length - 1);
      const part = this.#text.subarray(at, at + n);
      return part.length === n ? part : Buffer.concat([part, this.#text.subarray(0, n - part.length)]);
    };
    if (kind === 'text') return text(size);
    // code: pieces of 256 B-4 KB, a third each keystream, text and zeros (compresses about 2x)
    const out = Buffer.alloc(size);
    for (let at = 0; at < size; ) {
      const n = Math.min(rng.int(256, 4096), size - at);
      const r = rng.next();
      if (r < 0.4) this.#random(n).copy(out, at);
      else if (r < 0.75) text(n).copy(out, at);
      at += n;
    }
    return out;
  }
}
