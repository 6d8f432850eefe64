/**
 * `reprimage verify-disk DISK IMAGE|MANIFEST`: whether a disk (or a disk image file) holds a
 * published disk image byte for byte in the image's extent, the installer's backup-GPT
 * relocation aside (docs/installer.md). Exit status 0 equal, 1 different (the first differing
 * offset and partition, or the hashes, on stdout), 2 bad input.
 */
import { Command } from 'commander';
import type { Reporter } from './reporter.js';

export function verifyDiskCommand(reporter: Reporter): Command {
  return new Command('verify-disk')
    .description('check that a disk or disk image file holds a published disk image byte for byte (installer GPT relocation aside)')
    .argument('<disk>', 'a block device or a disk image file')
    .argument('<image>', 'the raw disk image, or a build manifest (manifest.json) that publishes it')
    .option('--json', 'print the result as JSON (schema reprimage-verify-disk/1)')
    .action(async (disk: string, image: string, values: { json?: boolean }) => {
      const { verifyDisk } = await import('../image/verify-disk.js');
      const bar = reporter.progress('verify-disk');
      let result: Awaited<ReturnType<typeof verifyDisk>> | undefined;
      try {
        result = await verifyDisk(disk, image, reporter.animates ? (done, total) => bar.update({ entries: 0, bytes: done }, { entries: 0, bytes: total }) : undefined);
      } finally {
        bar.end(false);
      }
      if (values.json) {
        process.stdout.write(`${JSON.stringify({ schema: 'reprimage-verify-disk/1', disk, image, ...result })}\n`);
      } else if (result.equal) {
        process.stdout.write(`${disk}: equal to ${image} (${result.imageSize} bytes${result.relocated ? '; backup GPT relocated to the end of the disk' : ''})\n`);
      } else {
        process.stdout.write(`${disk}: differs from ${image}: ${result.difference}\n`);
      }
      process.exitCode = result.equal ? 0 : 1;
    });
}
