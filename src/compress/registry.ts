/**
 * Which implementation writes each codec's bytes (DESIGN.md rule 6). `reprimage --version`
 * prints this, and manifests record it: a compressor is part of a build's input.
 */
import { GZIP_IMPLEMENTATION } from './gzip.js';
import { SQUASHFS_CODEC_IMPLEMENTATIONS } from './squashfs-codecs.js';

export interface CodecVersion {
  codec: string;
  implementation: string;
}

export function codecVersions(): CodecVersion[] {
  return [
    { codec: 'gzip', implementation: GZIP_IMPLEMENTATION },
    ...Object.entries(SQUASHFS_CODEC_IMPLEMENTATIONS).map(([codec, implementation]) => ({ codec: `squashfs ${codec}`, implementation })),
  ];
}
