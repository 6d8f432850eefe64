/**
 * One conversion in its own process, for bench/vm-formats.ts to time like qemu-img:
 *   node dist/bench/convert-disk-run.js RAW FORMAT OUT [compress]
 */
import { convertDisk, parseDiskFormat } from '../src/image/convert-disk.js';

const [raw, format, out, compress] = process.argv.slice(2);
await convertDisk(raw!, parseDiskFormat(format!), { output: out!, seed: 'bench', buildTime: 1700000000, compress: compress === 'compress' });
