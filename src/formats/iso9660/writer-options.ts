/**
 * The first part of writeIso: the options checked (USAGE errors before anything is written) and
 * the boot images and boot catalog found in the tree.
 */
import { ReprimageError, usageError } from '../../errors.js';
import type { Content } from '../../tree/content.js';
import { baseName, displayName, hasEscapedBytes, toTreePath } from '../../tree/names.js';
import type { Tree } from '../../tree/tree.js';
import { MBR_BOOT_CODE_SIZE } from './system-area.js';
import type { IsoWriteOptions } from './writer.js';

/** The options as the later parts use them. */
export interface CheckedOptions {
  rockRidge: boolean;
  joliet: boolean;
  /** SOURCE_DATE_EPOCH in whole seconds. */
  now: number;
  /** Tree paths of the boot images inside the tree. */
  biosPath: string | undefined;
  efiPath: string | undefined;
  /** A UEFI image appended after the ISO as partition 2. */
  appended: Content | undefined;
  /** Whether there is an El Torito boot catalog. */
  booting: boolean;
  catalogPath: string | undefined;
}

export function checkOptions(tree: Tree, options: IsoWriteOptions): CheckedOptions {
  const rockRidge = options.rockRidge ?? true;
  const joliet = options.joliet ?? true;
  if (joliet && options.warn) warnJolietNames(tree, options.warn);
  const now = Math.floor(options.buildTime);
  checkText('volumeId', options.volumeId, 32);
  for (const [key, width] of [['publisher', 128], ['applicationId', 128], ['systemId', 32], ['volumeSetId', 128], ['dataPreparerId', 128]] as const) {
    if (options[key] !== undefined) checkText(key, options[key]!, width);
  }
  if (!Number.isSafeInteger(now)) throw usageError(`buildTime ${options.buildTime} is not a time in seconds`, 'buildTime');
  if (options.hybridMbr && !options.bios) throw usageError('an isohybrid MBR needs a BIOS boot image (bios.bootImage)', 'hybridMbr');
  if (options.hybridMbr && options.hybridMbr.length < MBR_BOOT_CODE_SIZE) {
    throw usageError(`the MBR template has ${options.hybridMbr.length} bytes, at least ${MBR_BOOT_CODE_SIZE} needed`, 'hybridMbr');
  }

  const biosPath = options.bios ? toTreePath(options.bios.bootImage, 'bios.bootImage', { allowAbsolute: true }) : undefined;
  const efiPath = options.efi && 'bootImage' in options.efi ? toTreePath(options.efi.bootImage, 'efi.bootImage', { allowAbsolute: true }) : undefined;
  const appended = options.efi && 'appendedImage' in options.efi ? options.efi.appendedImage : undefined;
  const booting = biosPath !== undefined || options.efi !== undefined;
  for (const [what, path] of [['bios.bootImage', biosPath], ['efi.bootImage', efiPath]] as const) {
    if (path !== undefined && tree.get(path)?.kind !== 'file') throw new ReprimageError('NOT_FOUND', what, `${path} is not a regular file of the tree`);
  }
  const catalogPath = booting
    ? toTreePath(options.bootCatalog ?? (biosPath?.startsWith('isolinux/') ? 'isolinux/boot.cat' : 'boot.catalog'), 'bootCatalog', { allowAbsolute: true })
    : undefined;
  if (catalogPath !== undefined && !options.hideBootCatalog) {
    const parent = tree.get(catalogPath.includes('/') ? catalogPath.slice(0, catalogPath.lastIndexOf('/')) : '');
    if (parent?.kind !== 'dir') throw new ReprimageError('NOT_FOUND', 'bootCatalog', `the directory of ${catalogPath} is not in the tree`);
  }
  return { rockRidge, joliet, now, biosPath, efiPath, appended, booting, catalogPath };
}

function checkText(name: string, value: string, width: number): void {
  if (typeof value !== 'string' || value.length > width || !/^[\x20-\x7e]*$/.test(value)) {
    throw usageError(`${JSON.stringify(value)} must be at most ${width} printable ASCII characters`, name);
  }
}

/**
 * Joliet names are UCS-2: bytes that are not UTF-8 have no place there and become "_" (as
 * characters outside the BMP do). Rock Ridge, which Linux reads, keeps the exact bytes; one
 * warning names the first such entry.
 */
function warnJolietNames(tree: Tree, warn: (message: string) => void): void {
  let first: string | undefined;
  let count = 0;
  for (const { path } of tree.walk()) {
    if (!hasEscapedBytes(baseName(path))) continue;
    first ??= path;
    count++;
  }
  if (first === undefined) return;
  const more = count > 1 ? ` (and ${count - 1} more)` : '';
  warn(`${displayName(first)}${more}: name is not UTF-8; its Joliet name has "_" for those bytes (the Rock Ridge name keeps them)`);
}
