/** SHA-256 and size of a file, streamed (images of many gigabytes are never loaded whole). */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { fromSystemError } from '../errors.js';

export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of createReadStream(path)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch (e) {
    throw fromSystemError(e, path);
  }
  return { sha256: hash.digest('hex'), size };
}
