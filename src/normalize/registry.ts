/**
 * Every normalizer, in detection order: the first whose `detect` accepts a file handles it, so
 * the more specific formats (jar before zip) come first. `--type` picks one by name instead.
 */
import { ReprimageError } from '../errors.js';
import { HANDLER_IDS, type HandlerId, type Normalizer } from './handler.js';
import { jarNormalizer, zipNormalizer } from './zip.js';
import { gzipNormalizer } from './gzip.js';
import { pngNormalizer } from './png.js';
import { arNormalizer } from './ar.js';
import { moNormalizer } from './gettext-mo.js';
import { poNormalizer } from './gettext-po.js';
import { pycNormalizer } from './pyc.js';
import { javadocNormalizer } from './javadoc.js';
import { pomPropertiesNormalizer } from './pom-properties.js';
import { tarNormalizer } from './tar.js';
import { cpioNormalizer } from './cpio.js';

export const NORMALIZERS: readonly Normalizer[] = [
  jarNormalizer,
  zipNormalizer,
  gzipNormalizer,
  pngNormalizer,
  arNormalizer,
  moNormalizer,
  poNormalizer,
  pycNormalizer,
  javadocNormalizer,
  pomPropertiesNormalizer,
  tarNormalizer,
  cpioNormalizer,
];

/** The normalizer for a file, judged by its first bytes (and its name only where formats share a magic). */
export function detectNormalizer(head: Uint8Array, size: number, name: string): Normalizer | undefined {
  return NORMALIZERS.find((n) => n.detect(head, size, name));
}

export function normalizerById(id: string): Normalizer {
  const found = NORMALIZERS.find((n) => n.id === id);
  if (!found) throw new ReprimageError('USAGE', '--type', `unknown type '${id}'; expected one of ${HANDLER_IDS.join(', ')}`);
  return found;
}

export function isHandlerId(id: string): id is HandlerId {
  return (HANDLER_IDS as readonly string[]).includes(id);
}
