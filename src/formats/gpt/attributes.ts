/**
 * GPT partition attribute bits (UEFI 2.10 §5.3.3 table 5-8 for bits 0-2; bits 48-63 belong to
 * the partition type, and the Discoverable Partitions Specification gives bits 59, 60, 62 and 63
 * their meaning on Linux partitions).
 */
import { ReprimageError } from '../../errors.js';

export const GPT_ATTRIBUTE_BITS: Readonly<Record<string, number>> = {
  /** The platform needs this partition to function; do not delete it. */
  required: 0,
  /** EFI firmware must not produce a Block I/O protocol for it. */
  'no-block-io': 1,
  /** Legacy BIOS boot loaders may boot from it (the MBR "active" flag of GPT). */
  'legacy-bios-bootable': 2,
  /** DPS: grow the file system to the partition on first boot. */
  'grow-file-system': 59,
  /** DPS (and Microsoft basic data): mount read-only. */
  'read-only': 60,
  /** DPS: hide from automatic discovery. */
  hidden: 62,
  /** DPS: do not mount automatically. */
  'no-auto': 63,
};

/**
 * Attribute names and bit numbers (`required`, `read-only`, `48`) → the 64-bit field. A USAGE
 * error names an unknown attribute.
 */
export function parseAttributes(items: readonly string[], subject = 'partition attributes'): bigint {
  let flags = 0n;
  for (const item of items) {
    const key = item.trim().toLowerCase();
    if (key === '') continue;
    const bit = GPT_ATTRIBUTE_BITS[key] ?? (/^\d+$/.test(key) ? Number(key) : undefined);
    if (bit === undefined || bit > 63) {
      throw new ReprimageError('USAGE', subject, `unknown attribute ${JSON.stringify(item)}; use ${Object.keys(GPT_ATTRIBUTE_BITS).join(', ')} or a bit number 0-63`);
    }
    flags |= 1n << BigInt(bit);
  }
  return flags;
}

/** The 64-bit field → names (bit numbers for bits without one), lowest bit first. */
export function describeAttributes(flags: bigint): string[] {
  const names: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if ((flags >> BigInt(bit)) & 1n) {
      const name = Object.entries(GPT_ATTRIBUTE_BITS).find(([, b]) => b === bit)?.[0];
      names.push(name ?? String(bit));
    }
  }
  return names;
}
