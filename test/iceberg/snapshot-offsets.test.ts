import { describe, expect, it } from 'vitest';
import { decodeOffsets, encodeOffsets, offsetsKey } from '../../src/iceberg/snapshot-offsets.js';

describe('snapshot summary offsets', () => {
  it('round-trip, sorted by partition, as the documented JSON', () => {
    const text = encodeOffsets('bid-events', new Map([[2, 10n], [0, 1234n], [1, 0n]]));
    expect(text).toBe('{"bid-events":{"0":1234,"1":0,"2":10}}');
    expect(decodeOffsets('bid-events', text)).toEqual(new Map([[0, 1234n], [1, 0n], [2, 10n]]));
    expect(offsetsKey('flink-s3tables-json-v1')).toBe('kafka.offsets.flink-s3tables-json-v1');
  });

  it('keep offsets beyond 2^53 exact', () => {
    const big = 2n ** 60n + 7n;
    expect(decodeOffsets('t', encodeOffsets('t', new Map([[0, big]])))).toEqual(new Map([[0, big]]));
  });

  it('are empty for another topic, and reject malformed summaries with a coded error', () => {
    expect(decodeOffsets('other', '{"t":{"0":1}}').size).toBe(0);
    expect(() => decodeOffsets('t', 'not json')).toThrow(expect.objectContaining({ code: 'METADATA_INVALID' }));
    expect(() => decodeOffsets('t', '{"t":{"0":-1}}')).toThrow(/is not a partition → offset pair/);
    expect(() => decodeOffsets('t', '{"t":[1]}')).toThrow(expect.objectContaining({ code: 'METADATA_INVALID' }));
  });
});
