import { describe, expect, it } from 'vitest';
import { decodeOffsets, decodePositions, encodeOffsets, encodePositions, offsetsKey } from '../../src/iceberg/snapshot-offsets.js';

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

  it('read positions with ownership beside bare numbers: a bare number is epoch 0, unowned', () => {
    const text = '{"t":{"0":12,"1":{"next":40,"epoch":3,"owner":"proc-b"},"2":{"next":"9007199254740999","epoch":1}},"u":{"0":5}}';
    expect(decodePositions('t', text)).toEqual(
      new Map([
        [0, { next: 12n, epoch: 0, owner: undefined }],
        [1, { next: 40n, epoch: 3, owner: 'proc-b' }],
        [2, { next: 9007199254740999n, epoch: 1, owner: undefined }],
      ]),
    );
    // What a single process (or a runtime from before ownership) reads: the next offsets alone.
    expect(decodeOffsets('t', text)).toEqual(new Map([[0, 12n], [1, 40n], [2, 9007199254740999n]]));
    expect(() => decodePositions('t', '{"t":{"0":{"next":4}}}')).toThrow(/\{"next":<offset>,"epoch":<n>,"owner":"<process>"\}/);
    expect(() => decodePositions('t', '{"t":{"0":{"next":4,"epoch":-1}}}')).toThrow(expect.objectContaining({ code: 'METADATA_INVALID' }));
    expect(() => decodePositions('t', '{"t":{"0":{"next":4,"epoch":1,"owner":7}}}')).toThrow(expect.objectContaining({ code: 'METADATA_INVALID' }));
  });

  it('write unclaimed partitions as bare numbers and keep the other topics of the previous position', () => {
    const previous = '{"t":{"0":1,"1":2},"u":{"0":5}}';
    const out = encodePositions(
      't',
      new Map([
        [1, { next: 2n, epoch: 0, owner: undefined }],
        [0, { next: 7n, epoch: 2, owner: 'proc-a' }],
      ]),
      previous,
    );
    expect(out).toBe('{"t":{"0":{"next":7,"epoch":2,"owner":"proc-a"},"1":2},"u":{"0":5}}');
    expect(encodePositions('t', new Map([[0, { next: 3n, epoch: 0, owner: undefined }]]))).toBe(encodeOffsets('t', new Map([[0, 3n]])));
  });
});
