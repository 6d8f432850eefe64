/**
 * The Unix ar archive (as GNU ar, BSD ar and dpkg-deb write it): an 8-byte global header, then
 * members, each a 60-byte text header followed by its data padded to an even length.
 */
export const AR_MAGIC = '!<arch>\n';
export const AR_HEADER_SIZE = 60;

/** Offsets and widths of the member header fields (all ASCII, space padded). */
export const AR_FIELDS = {
  name: [0, 16],
  mtime: [16, 12],
  uid: [28, 6],
  gid: [34, 6],
  mode: [40, 8],
  size: [48, 10],
  fmag: [58, 2],
} as const;

export const AR_FMAG = '`\n';
