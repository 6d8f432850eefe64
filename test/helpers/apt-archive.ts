/**
 * A small signed APT archive made in a test: pool/*.deb (arbitrary bytes: verification does not
 * look inside), dists/SUITE/main/binary-amd64/Packages{,.gz}, Release and a cleartext-signed
 * InRelease, signed with OpenPGP.js keys generated at a fixed date. Nothing here needs the
 * network or gpg.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as openpgp from 'openpgp';

export const ARCHIVE_DATE = new Date('2026-07-11T10:16:37Z');

export async function generateSigningKey(type: 'rsa' | 'ed25519', name: string): Promise<openpgp.PrivateKey> {
  const options = type === 'rsa'
    ? ({ type: 'rsa', rsaBits: 2048 } as const)
    : ({ type: 'ecc', curve: 'ed25519Legacy' } as const);
  const { privateKey } = await openpgp.generateKey({ ...options, userIDs: [{ name, email: `${name}@example.invalid` }], date: new Date('2026-01-01T00:00:00Z'), format: 'object' });
  return privateKey;
}

/** Writes the public keys as a binary keyring (the format of /usr/share/keyrings/*.gpg). */
export function writeKeyring(path: string, keys: openpgp.PrivateKey[]): void {
  const parts = keys.map((k) => k.toPublic().write());
  writeFileSync(path, Buffer.concat(parts.map((p) => Buffer.from(p))));
}

export interface TestPackage {
  name: string;
  version: string;
  architecture: string;
  essential?: boolean;
  /** A Depends field, as apt reads it. */
  depends?: string;
  body: Uint8Array;
}

export const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

export function debPath(p: TestPackage): string {
  return `pool/main/${p.name[0]}/${p.name}/${p.name}_${p.version}_${p.architecture}.deb`;
}

export function packagesText(packages: TestPackage[]): string {
  return packages
    .map((p) => [
      `Package: ${p.name}`,
      `Version: ${p.version}`,
      `Architecture: ${p.architecture}`,
      ...(p.essential ? ['Essential: yes'] : []),
      ...(p.depends ? [`Depends: ${p.depends}`] : []),
      `Filename: ${debPath(p)}`,
      `Size: ${p.body.length}`,
      `SHA256: ${sha256(p.body)}`,
      `Description: test package ${p.name}`,
      ' with a continuation line',
    ].join('\n'))
    .join('\n\n') + '\n';
}

export function releaseText(suite: string, files: Record<string, Uint8Array>, extra = ''): string {
  const lines = Object.entries(files).map(([path, bytes]) => ` ${sha256(bytes)} ${String(bytes.length).padStart(8)} ${path}`);
  return `Origin: Test\nSuite: ${suite}\nCodename: ${suite}\nDate: Sat, 11 Jul 2026 10:16:37 UTC\n${extra}Architectures: amd64\nComponents: main\nSHA256:\n${lines.join('\n')}\n`;
}

export async function signCleartext(text: string, key: openpgp.PrivateKey): Promise<string> {
  const message = await openpgp.createCleartextMessage({ text });
  return openpgp.sign({ message, signingKeys: key, date: ARCHIVE_DATE });
}

/** Lays out the archive under `dir`; returns its file: URI. */
export async function writeArchive(dir: string, suite: string, packages: TestPackage[], key: openpgp.PrivateKey, releaseExtra = ''): Promise<string> {
  for (const p of packages) {
    const path = join(dir, debPath(p));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, p.body);
  }
  const index = Buffer.from(packagesText(packages));
  const gz = gzipSync(index);
  const dists = join(dir, 'dists', suite);
  mkdirSync(join(dists, 'main/binary-amd64'), { recursive: true });
  writeFileSync(join(dists, 'main/binary-amd64/Packages'), index);
  writeFileSync(join(dists, 'main/binary-amd64/Packages.gz'), gz);
  const release = releaseText(suite, { 'main/binary-amd64/Packages': index, 'main/binary-amd64/Packages.gz': gz }, releaseExtra);
  writeFileSync(join(dists, 'Release'), release);
  writeFileSync(join(dists, 'InRelease'), await signCleartext(release, key));
  return pathToFileURL(dir).href;
}
