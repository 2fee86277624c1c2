import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ChunkBuffers, sizeClass } from '../../src/kafka/chunk-buffers.js';

const bytesOf = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe('ChunkBuffers', () => {
  it('copies into shared memory rounded up to a quarter of its power of two', () => {
    expect(sizeClass(1)).toBe(64 * 1024);
    expect(sizeClass(64 * 1024 + 1)).toBe(80 * 1024);
    expect(sizeClass(945_000)).toBe(1_048_576);
    expect(sizeClass(1_048_577)).toBe(1_310_720);
    for (const n of [1, 70_000, 945_000, 3_000_001]) expect(sizeClass(n) >= n && sizeClass(n) < n * 1.25 + 64 * 1024).toBe(true);

    const buffers = new ChunkBuffers();
    const source = bytesOf(100_000, 3);
    const { bytes } = buffers.copy(source, 10, 90_010);
    expect(bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(sizeClass(90_000));
    expect(Buffer.from(bytes).equals(Buffer.from(source.subarray(10, 90_010)))).toBe(true);
  });

  it('reuses a released buffer for the next chunk of its size class, once per lease', () => {
    const buffers = new ChunkBuffers();
    const first = buffers.copy(bytesOf(70_000, 1), 0, 70_000);
    const other = buffers.copy(bytesOf(70_000, 2), 0, 70_000);
    buffers.release(first.lease, first.bytes);
    // Released twice, or under a lease never given: the buffer must not be handed out twice.
    buffers.release(first.lease, first.bytes);
    buffers.release(999, other.bytes);
    expect(buffers.keptByteCount).toBe(sizeClass(70_000));

    const next = buffers.copy(bytesOf(75_000, 4), 0, 75_000);
    expect(next.bytes.buffer).toBe(first.bytes.buffer);
    expect(Buffer.from(next.bytes).equals(Buffer.from(bytesOf(75_000, 4)))).toBe(true);
    const after = buffers.copy(bytesOf(75_000, 5), 0, 75_000);
    expect(after.bytes.buffer).not.toBe(first.bytes.buffer);
    expect(after.bytes.buffer).not.toBe(other.bytes.buffer);
    // `other` is still out: its bytes are untouched by the copies after it.
    expect(Buffer.from(other.bytes).equals(Buffer.from(bytesOf(70_000, 2)))).toBe(true);
  });

  it('keeps no more than its bound for reuse, and nothing of a chunk never released', () => {
    const buffers = new ChunkBuffers(200 * 1024);
    const copies = Array.from({ length: 4 }, (_, i) => buffers.copy(bytesOf(64 * 1024, i), 0, 64 * 1024));
    for (const c of copies) buffers.release(c.lease, c.bytes);
    expect(buffers.keptByteCount).toBe(3 * 64 * 1024);
    buffers.copy(bytesOf(10, 0), 0, 10);
    expect(buffers.keptByteCount).toBe(2 * 64 * 1024);
    // A view into memory that is not shared (a chunk made elsewhere) is not kept.
    const lease = buffers.copy(bytesOf(10, 0), 0, 10).lease;
    buffers.release(lease, new Uint8Array(64 * 1024));
    expect(buffers.keptByteCount).toBe(64 * 1024);
  });

  it('takes back memory released from another thread: the same shared bytes, not a copy', async () => {
    const buffers = new ChunkBuffers();
    const chunk = buffers.copy(bytesOf(100_000, 7), 0, 100_000);
    // The other thread reads the chunk as a transform worker would, and sends it back with its release.
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       parentPort.once('message', ({ lease, bytes }) => parentPort.postMessage({ sum: bytes.reduce((a, b) => a + b, 0), lease, bytes }));`,
      { eval: true },
    );
    try {
      worker.postMessage({ lease: chunk.lease, bytes: chunk.bytes });
      const back = await new Promise<{ sum: number; lease: number; bytes: Uint8Array }>((resolve) => worker.once('message', resolve));
      expect(back.sum).toBe(bytesOf(100_000, 7).reduce((a, b) => a + b, 0));
      // What came back is the chunk's own memory: a write through it shows in the original view.
      back.bytes[0] = back.bytes[0]! ^ 0xff;
      expect(chunk.bytes[0]).toBe(back.bytes[0]);
      buffers.release(back.lease, back.bytes);
      expect(buffers.keptByteCount).toBe(sizeClass(100_000));
      const next = buffers.copy(bytesOf(99_000, 8), 0, 99_000);
      expect(sizeClass(99_000)).toBe(sizeClass(100_000));
      next.bytes[1] = 42;
      expect(chunk.bytes[1]).toBe(42);
    } finally {
      await worker.terminate();
    }
  });
});
