/**
 * Which implementation writes each codec's bytes (docs/design.md rule 6). `reprimage --version`
 * prints this, and build manifests record it: a compressor is part of a build's input.
 *
 * Versions are read from the installed packages' package.json at run time, so the record
 * says what actually ran; `PINNED_CODEC_PACKAGES` is what package.json pins, and a unit test
 * fails if the two ever differ (the pinned-hash tests would fail too).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// constants only: --version lists the codecs without loading any (codec-implementations.ts)
import { INITRAMFS_CODECS, SQUASHFS_CODEC_IMPLEMENTATIONS, XZ_OUTPUT_CODEC, ZSTD_OUTPUT_CODEC } from './codec-implementations.js';

export interface CodecVersion {
  /** What is written: `gzip` (a .gz stream), `squashfs xz` (SquashFS blocks), … */
  codec: string;
  /** npm package and exact version (or reprimage's own code), e.g. `pako 2.1.0`. */
  implementation: string;
}

/** The npm packages whose bytes end up in our output, at the versions package.json pins. */
export const PINNED_CODEC_PACKAGES: Readonly<Record<string, string>> = {
  pako: '2.1.0',
  'node-liblzma': '4.0.2',
  '@hpcc-js/wasm-zstd': '1.12.5',
  libdeflate: '0.1.0',
};

/**
 * The version in the package.json of an installed package, found where Node.js looks for the
 * package from here (node_modules/PKG in this directory and each one above it); undefined if it
 * is not installed. The file is read directly, not through the package's exports (some do not
 * export their package.json), and without Node's CommonJS resolver, whose first use alone costs
 * `--version` a few milliseconds (docs/benchmarks.md, start-up).
 */
export function installedVersion(pkg: string): string | undefined {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (!dir.endsWith('/node_modules')) {
      try {
        const json = JSON.parse(readFileSync(join(dir, 'node_modules', pkg, 'package.json'), 'utf8')) as { name?: string; version?: string };
        if (json.name === pkg) return json.version;
      } catch {
        // not installed at this level
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** `pkg version` as installed, e.g. `pako 2.1.0`. */
export function implementationOf(pkg: string): string {
  return `${pkg} ${installedVersion(pkg) ?? 'not installed'}`;
}

/**
 * Every codec reprimage writes with and its implementation, in a fixed order. The squashfs
 * entries name the package versions as installed, followed by the settings their module states.
 */
export function codecVersions(): Array<{ codec: string; implementation: string }> {
  const out: CodecVersion[] = [{ codec: 'gzip', implementation: implementationOf('pako') }];
  // the whole-output codecs of pack's .xz and .zst outputs
  out.push({ codec: 'xz', implementation: XZ_OUTPUT_CODEC.replace(/^node-liblzma \S+/, implementationOf('node-liblzma')) });
  out.push({ codec: 'zstd', implementation: ZSTD_OUTPUT_CODEC.replace(/^@hpcc-js\/wasm-zstd@\S+/, implementationOf('@hpcc-js/wasm-zstd')) });
  for (const [codec, described] of Object.entries(SQUASHFS_CODEC_IMPLEMENTATIONS)) {
    const pkg = Object.keys(PINNED_CODEC_PACKAGES).find((p) => described.startsWith(`${p} `));
    const implementation = pkg === undefined ? described : described.replace(`${pkg} ${PINNED_CODEC_PACKAGES[pkg]}`, implementationOf(pkg));
    out.push({ codec: `squashfs ${codec}`, implementation });
  }
  // the live ISO's repacked initramfs writes its main archive with other settings than pack's gzip
  for (const [codec, implementation] of Object.entries(INITRAMFS_CODECS)) out.push({ codec: `initramfs ${codec}`, implementation });
  return out;
}
