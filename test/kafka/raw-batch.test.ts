import { describe, expect, it } from 'vitest';
import { packRawBatch, rawKey, rawValue } from '../../src/kafka/raw-batch.js';

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
});
