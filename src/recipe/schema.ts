/**
 * The recipe schema (docs/recipe.md). Keys are snake_case as written in the YAML file; unknown
 * keys are errors, so a typo never silently drops a setting.
 */
import { z } from 'zod';
import type { DiskFormat } from '../image/convert-disk.js';

/** convertDisk's formats (src/image/convert-disk.ts; a unit test keeps the lists equal), listed here so loading a recipe loads no writer. */
export const RECIPE_DISK_FORMATS = ['raw', 'qcow2', 'vhd', 'vhd-dynamic', 'vmdk', 'ova', 'gce'] as const satisfies readonly DiskFormat[];

const name = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, ".", "_" or "-", starting with a letter or digit');
const debName = z.string().regex(/^[a-z0-9][a-z0-9.+-]+$/, 'a Debian package name');
const arch = z.string().regex(/^[a-z0-9-]+$/, 'a Debian architecture name such as amd64');

export const SourceSchema = z
  .object({
    /** Archive root, e.g. http://deb.debian.org/debian (http, https or file). */
    uri: z.string().regex(/^(https?|file):\/\/\S+$/, 'an http://, https:// or file:// URI'),
    suite: z.string().regex(/^[A-Za-z0-9._/-]+$/, 'a suite or codename such as bookworm'),
    components: z.array(z.string().regex(/^[A-Za-z0-9._/-]+$/, 'a component name such as main')).min(1),
    /** Defaults to the recipe's architecture. */
    architectures: z.array(arch).min(1).optional(),
    /** An OpenPGP keyring (binary or ASCII-armoured); relative paths are relative to the recipe. */
    keyring: z.string().min(1),
  })
  .strict();

/** Bytes: a whole number, or a whole number with a binary unit K, M, G or T (`2G` = 2 GiB). */
const byteSize = z.unknown().transform((v, ctx) => {
  const m = typeof v === 'string' ? /^([1-9][0-9]*)([KMGT]?)$/.exec(v) : undefined;
  const n = typeof v === 'number' ? v : m ? Number(m[1]) * (m[2] === '' ? 1 : 1024 ** ('KMGT'.indexOf(m[2]!) + 1)) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) {
    ctx.addIssue({ code: 'custom', message: `${v === undefined ? 'required: ' : ''}expected a size such as 2G, 512M or a number of bytes` });
    return z.NEVER;
  }
  return n;
});
const mibSize = byteSize.refine((n) => n % (1 << 20) === 0, 'must be a whole number of MiB');

/** disk only: a partition between the ESP and the root file system. */
export const DiskPartitionSchema = z
  .object({
    /** `swap`, or where an ext4 file system is mounted (its part of the root tree moves into it). */
    mountpoint: z.string().regex(/^(swap|\/[a-z0-9._/-]*[a-z0-9._-])$/, 'swap or an absolute path such as /boot'),
    size: mibSize,
  })
  .strict();

/** installer-iso only (docs/installer.md): the disk image it carries, pinned by its SHA-256. */
export const InstallerImageSchema = z
  .object({
    /** The recipe whose `type: disk` output wrote the image (relative to this recipe); built when the image is not in the cache. */
    recipe: z.string().min(1),
    /** That recipe's output, by its path; default its first raw disk output. */
    output: z.string().regex(/^[^/\0]+$/, 'a plain file name').optional(),
    /** SHA-256 of the raw image: the build refuses any other bytes. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lower-case hex digits'),
  })
  .strict();

/** Keys only some output types take. */
const ISO_KEYS = ['squashfs_compressor', 'build_record'] as const;
const DISK_KEYS = ['size', 'esp_size', 'bios_boot_size', 'boot', 'partitions', 'grow_root', 'format', 'compress'] as const;
const INSTALLER_KEYS = ['image'] as const;

export const OutputSchema = z
  .object({
    type: z.enum(['rootfs', 'iso', 'disk', 'installer-iso']),
    /** File name inside the output directory. */
    path: z.string().regex(/^[^/\0]+$/, 'a plain file name').optional(),
    /** iso only (docs/live-iso.md): compressor of live/filesystem.squashfs; default xz. */
    squashfs_compressor: z.enum(['gzip', 'xz', 'zstd', 'lz4']).optional(),
    /**
     * iso only (docs/rebuild.md): carry the build record on the medium, beside live/: the manifest
     * without its outputs and the recipe's inputs bundle, so the ISO alone can be rebuilt. Default false.
     */
    build_record: z.boolean().optional(),
    /** iso only: words added to the kernel command line after `boot=live components`. */
    kernel_cmdline: z.string().regex(/^[^\n"]*$/, 'one line without double quotes').optional(),
    /** iso and installer-iso: the volume id (at most 32 characters A-Z, 0-9, _); default the name upper-cased. */
    volume_id: z.string().regex(/^[A-Z0-9_]{1,32}$/, 'at most 32 characters A-Z, 0-9 or _').optional(),
    /** disk only (docs/cloud-disk.md): the whole disk; the root partition takes the rest. Default 2G. */
    size: mibSize.optional(),
    /** disk only: EFI system partition; default 64M. */
    esp_size: mibSize.optional(),
    /** disk only: BIOS boot partition (GRUB's core.img); default 1M. */
    bios_boot_size: mibSize.optional(),
    /** disk only: the firmware it boots with; default both. */
    boot: z.array(z.enum(['bios', 'uefi'])).min(1).optional(),
    /** disk only: extra partitions. */
    partitions: z.array(DiskPartitionSchema).optional(),
    /** disk only: grow the root partition and file system to the disk on first boot; default true. */
    grow_root: z.boolean().optional(),
    /** disk only: the image format (docs/formats/: qcow2, vhd, …); default raw. */
    format: z.enum(RECIPE_DISK_FORMATS).optional(),
    /** disk only, qcow2: deflate its clusters (as qemu-img convert -c); default false. */
    compress: z.boolean().optional(),
    /** installer-iso only: the disk image to install. */
    image: InstallerImageSchema.optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    const foreign: readonly (keyof typeof o)[] = {
      disk: [...ISO_KEYS, 'volume_id' as const, ...INSTALLER_KEYS],
      iso: [...DISK_KEYS, ...INSTALLER_KEYS],
      'installer-iso': [...ISO_KEYS, ...DISK_KEYS],
      rootfs: [...ISO_KEYS, 'volume_id' as const, ...DISK_KEYS, ...INSTALLER_KEYS, 'kernel_cmdline' as const],
    }[o.type];
    for (const key of foreign) {
      if (o[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `not a key of a ${o.type} output` });
    }
    if (o.type === 'installer-iso' && o.image === undefined) ctx.addIssue({ code: 'custom', path: ['image'], message: 'required: the disk image to install (recipe, output, sha256)' });
    if (o.compress !== undefined && o.format !== 'qcow2') ctx.addIssue({ code: 'custom', path: ['compress'], message: 'only format qcow2 has compressed clusters' });
  });

export const RecipeSchema = z
  .object({
    name,
    architecture: arch,
    sources: z.array(SourceSchema).min(1),
    /** essential: the suite's Essential:yes packages plus `packages`; custom: `packages` only. */
    variant: z.enum(['essential', 'custom']).default('essential'),
    packages: z.array(debName).default([]),
    recommends: z.boolean().default(false),
    /** Directories copied over the root tree (owners root, modes normalized), in order. */
    overlays: z.array(z.string().min(1)).default([]),
    /** Shell scripts run inside the chroot with /bin/sh, in order, after the overlays. */
    hooks: z.array(z.string().min(1)).default([]),
    /** Patterns (docs/metadata-policy.md) of entries left out of the tree. */
    exclude: z.array(z.string().min(1)).default([]),
    /** Patterns of files kept empty. */
    empty: z.array(z.string().min(1)).default([]),
    /** Seconds since 1970; default: the commit time of the Git repository holding the recipe. */
    source_date_epoch: z.number().int().nonnegative().max(2 ** 33).optional(),
    outputs: z.array(OutputSchema).min(1).default([{ type: 'rootfs' }]),
  })
  .strict()
  .superRefine((r, ctx) => {
    // two outputs at one path would overwrite each other (vhd and vhd-dynamic both default to disk.vhd)
    const seen = new Set<string>();
    r.outputs.forEach((o, i) => {
      const path = outputPath(o);
      if (seen.has(path)) ctx.addIssue({ code: 'custom', path: ['outputs', i, 'path'], message: `another output is already written to ${path}: give this one its own path` });
      seen.add(path);
    });
  });

export type RecipeSource = z.infer<typeof SourceSchema>;
export type RecipeOutput = z.infer<typeof OutputSchema>;
export type RecipeData = z.infer<typeof RecipeSchema>;

/** The default file name's extension of each disk format. */
const DISK_EXTENSIONS: Record<DiskFormat, string> = { raw: 'img', qcow2: 'qcow2', vhd: 'vhd', 'vhd-dynamic': 'vhd', vmdk: 'vmdk', ova: 'ova', gce: 'tar.gz' };

/** Where an output is written under the build's output directory. */
export function outputPath(output: RecipeOutput): string {
  if (output.path !== undefined) return output.path;
  if (output.type === 'iso') return 'live.iso';
  if (output.type === 'installer-iso') return 'installer.iso';
  return output.type === 'disk' ? `disk.${DISK_EXTENSIONS[output.format ?? 'raw']}` : 'rootfs.tar';
}

/** The manifest's description of an output's format. */
export function outputFormat(output: RecipeOutput): string {
  if (output.type === 'iso') return 'iso9660 (live, hybrid)';
  if (output.type === 'installer-iso') return 'iso9660 (installer, hybrid)';
  if (output.type === 'disk') return `${output.format ?? 'raw'} disk (GPT, ${(output.boot ?? ['bios', 'uefi']).join(' + ')})`;
  return 'tar (pax)';
}
