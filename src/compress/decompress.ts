/**
 * Reading compressed streams: detection by magic number, streaming decompression with bounded
 * memory, and spooling to an unlinked temporary file for random access. `node:zlib` is fine
 * here: DESIGN.md rule 6 forbids it only for bytes we write.
 */
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as fzstd from 'fzstd';
import xzDecompress from 'xz-decompress';
import { ReprimageError } from '../errors.js';
import type { RandomAccessSource } from '../io/source.js';
import { openFileSource } from '../io/source.js';

export type Compression = 'gzip' | 'xz' | 'zstd' | 'bzip2' | 'lz4' | 'lzma' | 'lzop';

const MAGICS: Array<[Compression, number[]]> = [
  ['gzip', [0x1f, 0x8b]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['lz4', [0x04, 0x22, 0x4d, 0x18]],
  ['lz4', [0x02, 0x21, 0x4c, 0x18]], // the legacy frame the kernel uses for initramfs
  ['lzop', [0x89, 0x4c, 0x5a, 0x4f]],
];

/** The compression of a stream starting with `head`, or undefined if it is not compressed. */
export function detectCompression(head: Uint8Array): Compression | undefined {
  for (const [kind, magic] of MAGICS) if (magic.every((b, i) => head[i] === b)) return kind;
  // lzma-alone: properties byte 0x5d and a dictionary size that is a power of two
  if (head.length >= 13 && head[0] === 0x5d && head[1] === 0 && head[2] === 0 && (head[4] === 0 || head[3] === 0)) {
    return 'lzma';
  }
  return undefined;
}

/** Decompresses a stream; corrupt or truncated input is a ReprimageError naming `subject`. */
export async function* decompressChunks(input: AsyncIterable<Uint8Array>, kind: Compression, subject: string): AsyncIterable<Uint8Array> {
  try {
    switch (kind) {
      case 'gzip':
        yield* gunzip(input);
        return;
      case 'zstd':
        yield* unzstd(input);
        return;
      case 'xz':
        yield* unxz(input);
        return;
      default:
        throw new ReprimageError('UNSUPPORTED', subject, `${kind}-compressed data cannot be read yet`);
    }
  } catch (e) {
    if (e instanceof ReprimageError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    const truncated = /unexpected end|truncat|end of (file|stream|input)/i.test(msg);
    throw new ReprimageError(truncated ? 'TRUNCATED' : 'CORRUPT_IMAGE', subject, `${truncated ? 'truncated' : 'corrupt'} ${kind} data (${msg})`);
  }
}

async function* gunzip(input: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const gz = createGunzip(); // reads concatenated members too
  const source = Readable.from(input);
  source.on('error', (e) => gz.destroy(e));
  source.pipe(gz);
  for await (const chunk of gz as AsyncIterable<Buffer>) yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
}

async function* unzstd(input: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const out: Uint8Array[] = [];
  const stream = new fzstd.Decompress((chunk) => {
    out.push(chunk);
  });
  let any = false;
  for await (const chunk of input) {
    any = any || chunk.length > 0;
    stream.push(chunk);
    while (out.length > 0) yield out.shift()!;
  }
  if (!any) throw new Error('unexpected end of input');
  stream.push(new Uint8Array(0), true);
  while (out.length > 0) yield out.shift()!;
}

async function* unxz(input: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const web = new ReadableStream<Uint8Array>({
    async start(controller) {
      try {
        for await (const chunk of input) controller.enqueue(chunk);
        controller.close();
      } catch (e) {
        controller.error(e);
      }
    },
  });
  const reader = new xzDecompress.XzReadableStream(web).getReader();
  while (true) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

/**
 * Writes a stream into a temporary file that is removed when the returned source is closed (or
 * the process exits), and returns random access to it. Memory stays bounded by one chunk.
 */
export async function spoolToTempSource(chunks: AsyncIterable<Uint8Array>, name: string): Promise<RandomAccessSource> {
  const dir = await mkdtemp(join(tmpdir(), 'reprimage-spool-'));
  const path = join(dir, 'data');
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const fh = await open(path, 'w', 0o600);
    try {
      for await (const chunk of chunks) await fh.write(chunk);
    } finally {
      await fh.close();
    }
    const inner = await openFileSource(path);
    const onExit = () => rmSync(dir, { recursive: true, force: true });
    process.once('exit', onExit);
    return {
      name,
      size: inner.size,
      read: (offset, length) => inner.read(offset, length),
      async close() {
        process.off('exit', onExit);
        await inner.close();
        await cleanup();
      },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
