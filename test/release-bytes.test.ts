import { describe, expect, it } from 'vitest';
import { releaseBytes } from '../src/release-bytes.js';

describe('releaseBytes', () => {
  it('detaches a buffer its view spans whole, so its bytes are gone at once', () => {
    const view = new Uint8Array(1 << 20).fill(7);
    releaseBytes(view);
    expect(view.buffer.byteLength).toBe(0);
    expect(view.byteLength).toBe(0);
    // Twice is harmless (a detached buffer is left alone).
    expect(() => releaseBytes(view)).not.toThrow();
  });

  it('leaves alone a view into part of a larger buffer, a pooled Buffer, shared memory and nothing', () => {
    const whole = new Uint8Array(64).fill(1);
    const part = whole.subarray(8, 16);
    releaseBytes(part);
    expect(whole.buffer.byteLength).toBe(64);
    expect(part[0]).toBe(1);

    const pooled = Buffer.from('small enough for the pool');
    expect(pooled.byteLength).toBeLessThan(pooled.buffer.byteLength);
    releaseBytes(pooled);
    expect(pooled.toString()).toBe('small enough for the pool');

    const shared = new Uint8Array(new SharedArrayBuffer(16));
    releaseBytes(shared);
    expect(shared.byteLength).toBe(16);

    expect(() => releaseBytes(null)).not.toThrow();
    expect(() => releaseBytes(new Uint8Array(0))).not.toThrow();
  });
});
