/**
 * Every purpose string reprimage derives an identifier from (docs/design.md rule 4), in one place.
 *
 * A purpose is the message of the keyed hash in identifiers.ts: the same seed with the same
 * purpose gives the same UUID, serial or signature. These strings therefore decide bytes of
 * published images. Never edit one: a new identifier gets a new entry. The unit test
 * `tree-id-purposes` pins each of them.
 *
 * Writers ask for identifiers through `Identifiers` (below) with the purposes of their format
 * (`fatVolumeSerial`, `ext4Uuid` …); an assembly that holds several file systems gives each its
 * own scope (`scopedIdentifiers`), as `disk` does per partition.
 */
import { deriveBytes, deriveU32, deriveUuid } from './identifiers.js';

/** A purpose string from this catalogue (the brand keeps ad-hoc strings out of the writers). */
export type IdPurpose = string & { readonly __idPurpose: true };

const p = (text: string) => text as IdPurpose;

export const ID_PURPOSES = {
  /** FAT volume serial (BS_VolID) of a `pack` output or a disk partition. */
  fatVolumeSerial: p('fat volume serial'),
  /** ext4 file system UUID (s_uuid). */
  ext4Uuid: p('ext4 uuid'),
  /** ext4 directory hash seed (s_hash_seed). */
  ext4HashSeed: p('ext4 hash seed'),
  /** ext4 journal UUID (the journal superblock's s_uuid). */
  ext4JournalUuid: p('ext4 journal uuid'),
  /** MBR disk signature of an isohybrid ISO written by `pack`. */
  isoMbrDiskSignature: p('iso mbr disk signature'),
  /** GPT disk GUID of an isohybrid ISO written by `pack`. */
  isoGptDisk: p('iso gpt disk'),
  /** Partition GUIDs of an isohybrid ISO written by `pack`, by slot. */
  isoGptPartition: (slot: number) => p(`iso gpt partition ${slot}`),
  /** GPT disk GUID of a `disk` image. */
  diskGptDiskGuid: p('disk gpt disk guid'),
  /** MBR disk signature of a `disk` image with an MBR. */
  diskMbrDiskSignature: p('disk mbr disk signature'),
  /** A `disk` partition's UUID: its type (GUID, or `mbr-<type>`) and rank among partitions of that type. */
  diskPartition: (typeKey: string, rank: number) => p(`disk partition ${typeKey} ${rank}`),
  /** The scope of the file system inside a `disk` partition: its purposes are prefixed with this. */
  diskPartitionScope: (partitionUuid: string) => `disk partition ${partitionUuid} `,
  /** Volume serial of the live ISO's EFI system partition image. */
  liveIsoEspSerial: p('live iso esp serial'),
  /** MBR disk signature of the live ISO. */
  liveIsoMbrDiskSignature: p('live iso mbr disk signature'),
  /** GPT disk GUID of the live ISO. */
  liveIsoGptDisk: p('live iso gpt disk'),
  /** Partition GUIDs of the live ISO, by slot. */
  liveIsoGptPartition: (slot: number) => p(`live iso gpt partition ${slot}`),
} as const;

/** One derived identifier, in the forms writers store. */
export interface DerivedId {
  /** An RFC 4122 version-4-shaped UUID string (deriveUuid). */
  uuid(): string;
  /** A 32-bit number (deriveU32): volume serials, MBR disk signatures. */
  u32(): number;
  /** Raw derived bytes (deriveBytes). */
  bytes(length: number): Uint8Array;
}

/** The identifier function writers are handed: `ids(ID_PURPOSES.ext4Uuid).uuid()`. */
export type Identifiers = (purpose: IdPurpose) => DerivedId;

/** Identifiers derived from `seed` (e.g. `reprimage:<SOURCE_DATE_EPOCH>`, pack's default). */
export function seededIdentifiers(seed: string): Identifiers {
  return (purpose) => ({
    uuid: () => deriveUuid(seed, purpose),
    u32: () => deriveU32(seed, purpose),
    bytes: (length) => deriveBytes(seed, purpose, length),
  });
}

/** The same identifiers under a scope: each purpose is prefixed with `scope` (see diskPartitionScope). */
export function scopedIdentifiers(ids: Identifiers, scope: string): Identifiers {
  return (purpose) => ids(p(`${scope}${purpose}`));
}

/**
 * The same identifiers with some purposes replaced by others: how an assembly keeps its own
 * catalogue entries while a format's writer asks for its usual ones (the live ISO's ESP serial).
 */
export function renamedIdentifiers(ids: Identifiers, renames: ReadonlyMap<IdPurpose, IdPurpose>): Identifiers {
  return (purpose) => ids(renames.get(purpose) ?? purpose);
}

/** The purpose string inside a scope, for callers that derive directly. */
export function scopedPurpose(scope: string, purpose: IdPurpose): IdPurpose {
  return p(`${scope}${purpose}`);
}
