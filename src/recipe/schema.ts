/**
 * The recipe schema (docs/recipe.md). Keys are snake_case as written in the YAML file; unknown
 * keys are errors, so a typo never silently drops a setting.
 */
import { z } from 'zod';

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

export const OutputSchema = z
  .object({
    type: z.enum(['rootfs', 'iso']),
    /** File name inside the output directory. */
    path: z.string().regex(/^[^/\0]+$/, 'a plain file name').optional(),
    /** iso only (docs/live-iso.md): compressor of live/filesystem.squashfs; default xz. */
    squashfs_compressor: z.enum(['gzip', 'xz', 'zstd', 'lz4']).optional(),
    /** iso only: words added to the kernel command line after `boot=live components`. */
    kernel_cmdline: z.string().regex(/^[^\n"]*$/, 'one line without double quotes').optional(),
    /** iso only: the volume id (at most 32 characters A-Z, 0-9, _); default the name upper-cased. */
    volume_id: z.string().regex(/^[A-Z0-9_]{1,32}$/, 'at most 32 characters A-Z, 0-9 or _').optional(),
  })
  .strict();

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
  .strict();

export type RecipeSource = z.infer<typeof SourceSchema>;
export type RecipeOutput = z.infer<typeof OutputSchema>;
export type RecipeData = z.infer<typeof RecipeSchema>;

/** Where an output is written under the build's output directory. */
export function outputPath(output: RecipeOutput): string {
  return output.path ?? (output.type === 'iso' ? 'live.iso' : 'rootfs.tar');
}
