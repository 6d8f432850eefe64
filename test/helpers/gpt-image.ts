/**
 * A small GPT disk image for the installer and verify-disk tests: protective MBR, primary and
 * backup GPT (128 entries), an ESP and a root partition filled with pseudo-random bytes, and
 * zeros elsewhere, so a byte changed anywhere shows.
 */
import { encodeGptEntries, encodeGptHeader, crc32 } from '../../src/formats/gpt/gpt.js';
import { blob } from './live-root.js';

const SECTOR = 512;
const ESP_TYPE = 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b';
const ROOT_TYPE = '4f68bce3-e8cd-4db1-96e7-fbcaf984b709';

/** A GPT disk image of `mib` MiB: ESP at 1 MiB (1 MiB long), the root after it up to the end. */
export function gptImage(mib = 8, seed = 1): Uint8Array {
  const image = new Uint8Array(mib << 20);
  const sectors = image.length / SECTOR;
  const last = sectors - 1;
  const entries = encodeGptEntries([
    { typeGuid: ESP_TYPE, guid: '11111111-2222-4333-8444-555555555555', firstLba: 2048, lastLba: 4095, attributes: 0n, name: 'esp' },
    { typeGuid: ROOT_TYPE, guid: '66666666-7777-4888-9999-aaaaaaaaaaaa', firstLba: 4096, lastLba: last - 34, attributes: 0n, name: 'root' },
  ]);
  const header = { myLba: 1, alternateLba: last, firstUsableLba: 34, lastUsableLba: last - 33, diskGuid: 'bbbbbbbb-cccc-4ddd-8eee-ffffffffffff', entriesLba: 2, entryCount: 128, entrySize: 128, entriesCrc: crc32(entries) };
  // protective MBR: one 0xEE partition over the disk
  image.set([0, 0, 2, 0, 0xee, 0xff, 0xff, 0xff, 1, 0, 0, 0], 446);
  new DataView(image.buffer).setUint32(446 + 12, Math.min(sectors - 1, 0xffffffff), true);
  image.set([0x55, 0xaa], 510);
  image.set(encodeGptHeader(header), SECTOR);
  image.set(entries, 2 * SECTOR);
  image.set(entries, (last - 32) * SECTOR);
  image.set(encodeGptHeader({ ...header, myLba: last, alternateLba: 1, entriesLba: last - 32 }), last * SECTOR);
  image.set(blob(256 * 1024, seed), 2048 * SECTOR);
  image.set(blob(2 << 20, seed + 1), 4096 * SECTOR);
  return image;
}
