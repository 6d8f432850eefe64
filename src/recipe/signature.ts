/**
 * OpenPGP verification of an InRelease file (a cleartext-signed Release) against a keyring,
 * with OpenPGP.js. The Release text used afterwards is the signed text OpenPGP.js returns,
 * never the raw file, so nothing outside the signature can slip in.
 */
import { readFile } from 'node:fs/promises';
import * as openpgp from 'openpgp';
import { ReprimageError, fromSystemError } from '../errors.js';

/** Reads a keyring file: binary (as in /usr/share/keyrings) or ASCII-armoured. */
export async function readKeyring(path: string): Promise<openpgp.Key[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw fromSystemError(e, path);
  }
  try {
    const armoured = bytes.subarray(0, 64).toString('latin1').includes('-----BEGIN PGP');
    const keys: openpgp.Key[] = [];
    if (armoured) {
      // a file may hold several armoured blocks one after another; readKeys reads one block
      const blocks = bytes.toString('utf8').split(/(?=-----BEGIN PGP PUBLIC KEY BLOCK-----)/).filter((b) => b.includes('-----BEGIN PGP'));
      for (const block of blocks) keys.push(...(await openpgp.readKeys({ armoredKeys: block })));
    } else keys.push(...(await openpgp.readKeys({ binaryKeys: bytes })));
    if (keys.length === 0) throw new Error('no keys');
    return keys;
  } catch (e) {
    throw new ReprimageError('CORRUPT_IMAGE', path, `not an OpenPGP keyring: ${(e as Error).message}`, { cause: e });
  }
}

export interface VerifiedRelease {
  /** The signed Release text. */
  text: string;
  /** Fingerprints (hex) of the keyring keys whose signatures verified. */
  signers: string[];
}

/**
 * Verifies `inRelease` (the file's text; `subject` names it) against `keys` at time `at`, or,
 * when `at` is undefined, at the time the signatures say they were made (a hashed, signed
 * field): a pinned InRelease stays verifiable after its keys expire.
 * At least one signature must verify with a key of the keyring; signatures by keys that are not
 * in the keyring are ignored, as apt ignores them. Anything else is an error naming the file.
 */
export async function verifyInRelease(inRelease: string, keys: openpgp.Key[], subject: string, keyringName: string, at: Date | undefined): Promise<VerifiedRelease> {
  let message: openpgp.CleartextMessage;
  try {
    message = await openpgp.readCleartextMessage({ cleartextMessage: inRelease });
  } catch (e) {
    throw new ReprimageError('CORRUPT_IMAGE', subject, `not an OpenPGP cleartext-signed file: ${(e as Error).message}`, { cause: e });
  }
  const signedAt = at ?? signatureTime(message);
  let result: Awaited<ReturnType<typeof openpgp.verify>>;
  try {
    result = await openpgp.verify({ message, verificationKeys: keys, date: signedAt, expectSigned: false });
  } catch (e) {
    // a signature packet openpgp cannot make sense of (an unknown algorithm or hash id)
    throw new ReprimageError('CORRUPT_IMAGE', subject, `unreadable signature: ${(e as Error).message}`, { cause: e });
  }
  const signers: string[] = [];
  const problems: string[] = [];
  for (const sig of result.signatures) {
    try {
      await sig.verified;
      const key = keys.find((k) => k.getKeys(sig.keyID).length > 0);
      signers.push(key ? key.getFingerprint() : sig.keyID.toHex());
    } catch (e) {
      problems.push(`${sig.keyID.toHex()}: ${(e as Error).message}`);
    }
  }
  if (signers.length === 0) {
    const ids = result.signatures.map((s) => s.keyID.toHex()).join(', ') || 'none';
    throw new ReprimageError('CORRUPT_IMAGE', subject, `no valid signature by a key in ${keyringName} (signed by ${ids}${problems.length ? `; ${problems.join('; ')}` : ''})`);
  }
  return { text: result.data as string, signers: signers.sort() };
}

/** The latest creation time among the message's signatures (the epoch if none says). */
function signatureTime(message: openpgp.CleartextMessage): Date {
  let latest = 0;
  // the signature packets are not in the typings of CleartextMessage, but are its documented field
  for (const packet of (message as unknown as { signature: openpgp.Signature }).signature.packets) {
    const t = packet.created?.getTime() ?? 0;
    if (t > latest) latest = t;
  }
  return new Date(latest);
}
