/**
 * Java `.properties` files written by `Properties.store` (Maven's `pom.properties` above all):
 * the comment line holding the build date (`#Tue Feb 14 12:34:56 UTC 2017`) is removed. Only
 * comment lines at the top of the file are looked at; every other byte is kept.
 */
import type { Normalizer } from './handler.js';
import { readWhole } from './handler.js';
import { dateCommentLine, detectPomProperties } from './detect.js';

const LIMIT = 16 << 20;

/** The file without its date comment, or undefined when it has none. */
export function normalizePropertiesBytes(bytes: Uint8Array): Uint8Array | undefined {
  const text = Buffer.from(bytes).toString('latin1');
  const line = dateCommentLine(text);
  if (line === undefined) return undefined;
  const out = Buffer.from(text.slice(0, line.at) + text.slice(line.end), 'latin1');
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

export const pomPropertiesNormalizer: Normalizer = {
  id: 'pom-properties',
  description: 'Java .properties (pom.properties): the date comment written by Properties.store',
  detect: detectPomProperties,
  async prepare(source) {
    const bytes = await readWhole(source, LIMIT, 'properties file');
    const result = normalizePropertiesBytes(bytes) ?? bytes;
    return (sink) => sink.write(result);
  },
};
