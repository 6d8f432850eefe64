/**
 * Where the published files are: a local path or an http(s) URL. Files the manifest names
 * (the image, the inputs bundle) are looked up beside the manifest, the way a release directory
 * is laid out, whether that directory is local or on a web server.
 */
import { basename, dirname, join } from 'node:path';
import { ReprimageError } from '../errors.js';

export function isUrl(location: string): boolean {
  return /^https?:\/\//i.test(location);
}

/** A file name in the same directory as `location` (a path or URL). */
export function beside(location: string, name: string): string {
  if (isUrl(location)) return new URL(encodeURI(name).replace(/[?#]/g, encodeURIComponent), location).href;
  return join(dirname(location), name);
}

/** The last path segment of `location`, decoded for a URL; refused when it is no file name. */
export function fileNameOf(location: string): string {
  let name: string;
  if (isUrl(location)) {
    const url = new URL(location);
    name = decodeURIComponent(url.pathname.split('/').pop() ?? '');
  } else name = basename(location);
  if (name === '' || name === '.' || name === '..' || name.includes('/')) throw new ReprimageError('USAGE', location, 'does not end in a file name');
  return name;
}
