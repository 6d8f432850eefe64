/**
 * The normalizers by name and detector, each loaded on first use: choosing the handler of a
 * file runs the detectors of detect.ts only, and then loads the one module that handles it.
 * The order is registry.ts's detection order (a unit test holds the two together).
 */
import { ReprimageError } from '../errors.js';
import * as detect from './detect.js';
import { HANDLER_IDS, type HandlerId, type Normalizer } from './handler.js';

export interface CatalogEntry {
  readonly id: HandlerId;
  readonly detect: detect.Detect;
  load(): Promise<Normalizer>;
}

export const NORMALIZER_CATALOG: readonly CatalogEntry[] = [
  { id: 'jar', detect: detect.detectJar, load: async () => (await import('./zip.js')).jarNormalizer },
  { id: 'zip', detect: detect.detectZip, load: async () => (await import('./zip.js')).zipNormalizer },
  { id: 'gzip', detect: detect.detectGzip, load: async () => (await import('./gzip.js')).gzipNormalizer },
  { id: 'png', detect: detect.detectPng, load: async () => (await import('./png.js')).pngNormalizer },
  { id: 'ar', detect: detect.detectAr, load: async () => (await import('./ar.js')).arNormalizer },
  { id: 'gettext-mo', detect: detect.detectMo, load: async () => (await import('./gettext-mo.js')).moNormalizer },
  { id: 'gettext-po', detect: detect.detectPo, load: async () => (await import('./gettext-po.js')).poNormalizer },
  { id: 'pyc', detect: detect.detectPyc, load: async () => (await import('./pyc.js')).pycNormalizer },
  { id: 'javadoc', detect: detect.detectJavadoc, load: async () => (await import('./javadoc.js')).javadocNormalizer },
  { id: 'pom-properties', detect: detect.detectPomProperties, load: async () => (await import('./pom-properties.js')).pomPropertiesNormalizer },
  { id: 'tar', detect: detect.detectTar, load: async () => (await import('./tar.js')).tarNormalizer },
  { id: 'cpio', detect: detect.detectCpio, load: async () => (await import('./cpio.js')).cpioNormalizer },
];

/** The normalizer for a file, judged by its first bytes (and its name only where formats share a magic). */
export async function findNormalizer(head: Uint8Array, size: number, name: string): Promise<Normalizer | undefined> {
  return NORMALIZER_CATALOG.find((n) => n.detect(head, size, name))?.load();
}

/** The normalizer `--type` names; USAGE for a name we do not know. */
export async function loadNormalizer(id: string): Promise<Normalizer> {
  const found = NORMALIZER_CATALOG.find((n) => n.id === id);
  if (!found) throw new ReprimageError('USAGE', '--type', `unknown type '${id}'; expected one of ${HANDLER_IDS.join(', ')}`);
  return found.load();
}
