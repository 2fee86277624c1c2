import { createRequire } from 'node:module';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { StreamError } from '../../src/errors.js';
import { codecName, decompress, decompressLz4Frame, decompressSnappy } from '../../src/kafka/codecs.js';
import { xerialSnappy } from '../helpers/record-batch-builder.js';

const require = createRequire(import.meta.url);
const snappy = require('snappy') as { compressSync(input: Uint8Array): Buffer };
const lz4 = require('lz4js') as {
  compress(src: Uint8Array): Uint8Array;
  compressBound(n: number): number;
  compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
};

/**
 * An LZ4 frame laid out as the Java client writes it (64 kB blocks), with the optional content
 * size and block checksums present, and its second block stored uncompressed.
 */
function lz4Frame64k(data: Uint8Array): Uint8Array {
  const parts: number[] = [0x04, 0x22, 0x4d, 0x18, 0x40 | 0x10 | 0x08, 4 << 4];
  for (let i = 0; i < 8; i++) parts.push(i < 4 ? (data.length >>> (8 * i)) & 0xff : 0);
  parts.push(0); // header checksum, not verified by the decoder
  const word = (n: number) => parts.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  for (let at = 0, b = 0; at < data.length; at += 65536, b++) {
    const chunk = data.subarray(at, Math.min(data.length, at + 65536));
    if (b === 1) {
      word((chunk.length | 0x80000000) >>> 0);
      parts.push(...chunk);
    } else {
      const dst = new Uint8Array(lz4.compressBound(chunk.length));
      const n = lz4.compressBlock(chunk, dst, 0, chunk.length, new Uint32Array(1 << 16));
      word(n);
      parts.push(...dst.subarray(0, n));
    }
    word(0); // block checksum
  }
  word(0);
  return Uint8Array.from(parts);
}

/** ~100 kB of JSON-like text: compressible, and longer than one 32 kB snappy-java block. */
const sample = new TextEncoder().encode(
  Array.from({ length: 800 }, (_, i) => JSON.stringify({ id: i, user: `user-${(i * 7919) % 1000}`, kind: ['click', 'view'][i % 2], n: i * 3.25 })).join('\n'),
);

describe('decompress', () => {
  it('returns uncompressed bytes as they are', () => {
    expect(decompress(0, sample)).toBe(sample);
  });

  it.each([
    ['gzip', 1, () => gzipSync(sample)],
    ['snappy raw block (librdkafka)', 2, () => snappy.compressSync(sample)],
    ['snappy-java framing (Java client)', 2, () => xerialSnappy(sample)],
    ['lz4 frame', 3, () => lz4.compress(sample)],
    ['zstd', 4, () => zstdCompressSync(sample)],
  ] as const)('accepts the standard compress output of %s', (_name, codec, make) => {
    const compressed = make();
    expect(compressed.length).toBeLessThan(sample.length);
    expect(Buffer.from(decompress(codec, compressed)).equals(Buffer.from(sample))).toBe(true);
  });

  it('walks LZ4 frames with 64 kB blocks, content size, block checksums and a stored block', () => {
    const big = new Uint8Array(sample.length * 2);
    big.set(sample);
    big.set(sample, sample.length);
    const frame = lz4Frame64k(big);
    expect(Buffer.from(decompressLz4Frame(frame)).equals(Buffer.from(big))).toBe(true);
    expect(() => decompressLz4Frame(frame.subarray(0, frame.length - 2))).toThrow(/end mark/);
    expect(() => decompressLz4Frame(sample)).toThrow(/magic/);
  });

  it('joins several snappy-java blocks in order', () => {
    const framed = xerialSnappy(sample, 1000);
    expect(Buffer.from(decompressSnappy(framed)).equals(Buffer.from(sample))).toBe(true);
  });

  it('accepts compressed input that is a view into a larger buffer', () => {
    const compressed = zstdCompressSync(sample);
    const padded = new Uint8Array(compressed.length + 10);
    padded.set(compressed, 5);
    expect(Buffer.from(decompress(4, padded.subarray(5, 5 + compressed.length))).equals(Buffer.from(sample))).toBe(true);
    const snappyFramed = xerialSnappy(sample, 4096);
    const padded2 = new Uint8Array(snappyFramed.length + 7);
    padded2.set(snappyFramed, 3);
    expect(Buffer.from(decompress(2, padded2.subarray(3, 3 + snappyFramed.length))).equals(Buffer.from(sample))).toBe(true);
  });

  it('rejects snappy-java framing whose block length runs past the input', () => {
    const framed = xerialSnappy(sample);
    expect(() => decompressSnappy(framed.subarray(0, framed.length - 3))).toThrow(/runs past/);
  });

  it('throws on corrupt gzip input', () => {
    const gz = gzipSync(sample);
    gz[gz.length - 6]! ^= 0xff;
    expect(() => decompress(1, gz)).toThrow();
  });

  it.each([5, 6, 7])('rejects unassigned codec id %i as KAFKA_CODEC_UNSUPPORTED', (codec) => {
    let thrown: unknown;
    try {
      decompress(codec, sample);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(StreamError);
    expect((thrown as StreamError).code).toBe('KAFKA_CODEC_UNSUPPORTED');
    expect((thrown as StreamError).retryable).toBe(false);
    expect(codecName(codec)).toBeUndefined();
  });

  it('names the assigned codecs', () => {
    expect([0, 1, 2, 3, 4].map(codecName)).toEqual(['none', 'gzip', 'snappy', 'lz4', 'zstd']);
  });
});
