import { describe, expect, it } from 'vitest';
import { packRawBatch, rawBatchTransferList, rawKey, rawValue, sliceRawBatch } from '../../src/transform/raw-batch.js';

describe('raw batch', () => {
  it('packs values and keys back to back with offsets, nulls marked', () => {
    const b = packRawBatch('t', 2, [
      { offset: 5n, timestamp: 1, key: 'k', value: '{"a":1}' },
      { offset: '6', timestamp: 2, value: null },
      { offset: 7, timestamp: 3, key: new Uint8Array([9]), value: new Uint8Array([0xff]) },
    ]);
    expect(b.count).toBe(3);
    expect([...b.valueOffsets]).toEqual([0, 7, 7, 8]);
    expect([...b.offsets]).toEqual([5n, 6n, 7n]);
    expect(new TextDecoder().decode(rawValue(b, 0)!)).toBe('{"a":1}');
    expect(rawValue(b, 1)).toBeNull();
    expect([...rawValue(b, 2)!]).toEqual([0xff]);
    expect(new TextDecoder().decode(rawKey(b, 0)!)).toBe('k');
    expect(rawKey(b, 1)).toBeNull();
    expect(b.keyNulls).not.toBeNull();
  });

  it('lists each buffer once for transfer, and transferring detaches only this batch', () => {
    const a = packRawBatch('t', 0, [{ offset: 1, timestamp: 1, value: 'x' }]);
    const b = packRawBatch('t', 0, [{ offset: 1, timestamp: 1, value: 'y' }]);
    const list = rawBatchTransferList(a);
    expect(new Set(list).size).toBe(list.length);
    structuredClone(a, { transfer: list });
    expect(a.values.byteLength).toBe(0);
    expect(new TextDecoder().decode(rawValue(b, 0)!)).toBe('y');
  });
});

describe('sliceRawBatch', () => {
  it('takes records [from, to) into fresh buffers with rebased offsets, nulls kept', () => {
    const text = new TextDecoder();
    const batch = packRawBatch('t', 3, [
      { offset: 10, timestamp: 1, key: 'a', value: 'one' },
      { offset: 11, timestamp: 2, key: null, value: null },
      { offset: 12, timestamp: 3, key: 'cc', value: 'three' },
      { offset: 13, timestamp: 4, key: 'd', value: 'four' },
    ]);
    const s = sliceRawBatch(batch, 1, 3);
    expect(s.count).toBe(2);
    expect([...s.offsets]).toEqual([11n, 12n]);
    expect([...s.timestamps]).toEqual([2, 3]);
    expect(rawValue(s, 0)).toBeNull();
    expect(text.decode(rawValue(s, 1)!)).toBe('three');
    expect(rawKey(s, 0)).toBeNull();
    expect(text.decode(rawKey(s, 1)!)).toBe('cc');
    expect(s.values.buffer).not.toBe(batch.values.buffer);
    // Transferring the slice leaves the original readable.
    structuredClone(s, { transfer: rawBatchTransferList(s) });
    expect(text.decode(rawValue(batch, 3)!)).toBe('four');
  });
});
