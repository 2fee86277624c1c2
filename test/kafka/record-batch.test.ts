import { describe, expect, it } from 'vitest';
import { StreamError } from '../../src/errors.js';
import { scanRecordBatches } from '../../src/kafka/record-batch-format.js';
import { decodeRecordBatches, type DecodeRecordsOptions, type DecodedRecords } from '../../src/kafka/record-batch.js';
import { rawKey, rawValue } from '../../src/kafka/raw-batch.js';
import { buildRecordBatch, concatBytes, controlBatch, type BuilderCodec, type BuilderRecord } from '../helpers/record-batch-builder.js';

const text = new TextDecoder();
const opts = (over: Partial<DecodeRecordsOptions> = {}): DecodeRecordsOptions => ({ topic: 'orders', partition: 3, fromOffset: 0n, abortedTransactions: null, ...over });

interface Plain {
  offset: bigint;
  timestamp: number;
  key: string | null;
  value: string | null;
}

function plain(d: DecodedRecords): Plain[] {
  const out: Plain[] = [];
  for (let i = 0; i < d.raw.count; i++) {
    const k = rawKey(d.raw, i);
    const v = rawValue(d.raw, i);
    out.push({ offset: d.raw.offsets[i]!, timestamp: d.raw.timestamps[i]!, key: k === null ? null : text.decode(k), value: v === null ? null : text.decode(v) });
  }
  return out;
}

function records(n: number, tag = 'r'): BuilderRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    key: i % 3 === 0 ? null : `k-${tag}-${i}`,
    value: JSON.stringify({ tag, i, pad: 'x'.repeat(i % 50) }),
    timestampDelta: i * 7,
    headers: i % 2 === 0 ? [{ key: 'h', value: `hv${i}` }] : [],
  }));
}

function caught(f: () => unknown): StreamError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(StreamError);
    return err as StreamError;
  }
  throw new Error('expected a throw');
}

const codecs: BuilderCodec[] = ['none', 'gzip', 'snappy', 'snappy-xerial', 'lz4', 'zstd'];

describe('decodeRecordBatches', () => {
  it.each(codecs)('round-trips offsets, timestamps, keys and values with codec %s', (codec) => {
    const recs = records(40, codec);
    const bytes = buildRecordBatch({ baseOffset: 1000n, baseTimestamp: 1_700_000_000_000, codec, records: recs, xerialBlockSize: 512 });
    const d = decodeRecordBatches(bytes, opts({ fromOffset: 1000n }));
    expect(d.raw.topic).toBe('orders');
    expect(d.raw.partition).toBe(3);
    expect(d.raw.count).toBe(40);
    expect(d.nextOffset).toBe(1040n);
    expect(plain(d)).toEqual(
      recs.map((r, i) => ({ offset: 1000n + BigInt(i), timestamp: 1_700_000_000_000 + i * 7, key: r.key ?? null, value: r.value })),
    );
    expect(d.raw.keyNulls).not.toBeNull();
    expect(d.raw.valueNulls).toBeNull();
    expect(d.raw.valueOffsets.length).toBe(41);
    expect(d.raw.offsets.length).toBe(40);
    expect(d.skipped).toEqual({ control: 0, aborted: 0, belowFrom: 0, pastEnd: 0 });
  });

  it('decodes mixed codecs back to back, with null values and gaps left by compaction', () => {
    const parts = codecs.map((codec, b) =>
      buildRecordBatch({
        baseOffset: BigInt(b * 100),
        codec,
        records: [
          { offsetDelta: 0, key: `a${b}`, value: `v${b}-0` },
          { offsetDelta: 5, key: `b${b}`, value: null },
          { offsetDelta: 9, key: null, value: `v${b}-9` },
        ],
      }),
    );
    const d = decodeRecordBatches(concatBytes(...parts), opts());
    expect(d.raw.count).toBe(18);
    expect(d.nextOffset).toBe(510n);
    const got = plain(d);
    expect(got.map((r) => r.offset)).toEqual(codecs.flatMap((_, b) => [0n, 5n, 9n].map((o) => BigInt(b * 100) + o)));
    expect(got[4]).toMatchObject({ key: 'b1', value: null });
    expect(got[17]).toMatchObject({ key: null, value: 'v5-9' });
    expect(d.raw.valueNulls?.[4]).toBe(1);
    expect(d.raw.valueNulls?.[3]).toBe(0);
  });

  it('uses maxTimestamp for every record under LogAppendTime', () => {
    const bytes = buildRecordBatch({ baseOffset: 0n, logAppendTime: true, baseTimestamp: 5, maxTimestamp: 1_800_000_000_123, records: records(4) });
    expect(Array.from(decodeRecordBatches(bytes, opts()).raw.timestamps)).toEqual([1_800_000_000_123, 1_800_000_000_123, 1_800_000_000_123, 1_800_000_000_123]);
  });

  it('handles negative timestamp deltas and offsets beyond 2^32', () => {
    const base = 6_442_451_000n; // low 32-bit word above 2^31
    const bytes = buildRecordBatch({ baseOffset: base, baseTimestamp: 1_700_000_000_000, records: [{ value: 'a', timestampDelta: -1234 }, { value: 'b', timestampDelta: 2 ** 40 }] });
    const d = decodeRecordBatches(bytes, opts({ fromOffset: base }));
    expect(Array.from(d.raw.offsets)).toEqual([base, base + 1n]);
    expect(Array.from(d.raw.timestamps)).toEqual([1_700_000_000_000 - 1234, 1_700_000_000_000 + 2 ** 40]);
  });

  it('skips records below fromOffset inside the first batch', () => {
    const bytes = concatBytes(buildRecordBatch({ baseOffset: 10n, codec: 'lz4', records: records(10) }), buildRecordBatch({ baseOffset: 20n, records: records(5) }));
    const d = decodeRecordBatches(bytes, opts({ fromOffset: 16n }));
    expect(plain(d).map((r) => r.offset)).toEqual([16n, 17n, 18n, 19n, 20n, 21n, 22n, 23n, 24n]);
    expect(d.skipped.belowFrom).toBe(6);
    expect(d.nextOffset).toBe(25n);
  });

  it('skips whole batches below fromOffset and stops at endOffset', () => {
    const bytes = concatBytes(
      buildRecordBatch({ baseOffset: 0n, records: records(5) }),
      buildRecordBatch({ baseOffset: 5n, codec: 'zstd', records: records(5) }),
      buildRecordBatch({ baseOffset: 10n, records: records(5) }),
    );
    const d = decodeRecordBatches(bytes, opts({ fromOffset: 6n, endOffset: 8n }));
    expect(plain(d).map((r) => r.offset)).toEqual([6n, 7n]);
    expect(d.skipped).toEqual({ control: 0, aborted: 0, belowFrom: 6, pastEnd: 7 });
    expect(d.nextOffset).toBe(15n);
  });

  it('ignores a truncated last batch and reports nextOffset after the complete ones', () => {
    const first = buildRecordBatch({ baseOffset: 100n, records: records(3) });
    const second = buildRecordBatch({ baseOffset: 103n, codec: 'gzip', records: records(3) });
    for (const cut of [1, 11, 12, 40, second.length - 1]) {
      const d = decodeRecordBatches(concatBytes(first, second.subarray(0, cut)), opts({ fromOffset: 100n }));
      expect(d.raw.count).toBe(3);
      expect(d.nextOffset).toBe(103n);
    }
    const none = decodeRecordBatches(second.subarray(0, 30), opts({ fromOffset: 103n }));
    expect(none.raw.count).toBe(0);
    expect(none.nextOffset).toBe(103n);
    expect(decodeRecordBatches(new Uint8Array(0), opts({ fromOffset: 7n })).nextOffset).toBe(7n);
  });

  it('skips control batches and moves nextOffset past them', () => {
    const bytes = concatBytes(
      buildRecordBatch({ baseOffset: 0n, producerId: 9n, transactional: true, records: records(3) }),
      controlBatch(3n, 9n, 'commit'),
    );
    for (const abortedTransactions of [null, []]) {
      const d = decodeRecordBatches(bytes, opts({ abortedTransactions }));
      expect(d.raw.count).toBe(3);
      expect(d.skipped.control).toBe(1);
      expect(d.nextOffset).toBe(4n);
    }
  });

  it('drops aborted transactions under read_committed and delivers them under read_uncommitted', () => {
    // Producer 7 aborts offsets 0-2 and commits 5-6; producer 8 commits 3-4, interleaved.
    const bytes = concatBytes(
      buildRecordBatch({ baseOffset: 0n, producerId: 7n, transactional: true, records: records(3, 'p7a') }),
      buildRecordBatch({ baseOffset: 3n, producerId: 8n, transactional: true, codec: 'snappy', records: records(2, 'p8') }),
      controlBatch(5n, 7n, 'abort'),
      controlBatch(6n, 8n, 'commit'),
      buildRecordBatch({ baseOffset: 7n, producerId: 7n, transactional: true, records: records(2, 'p7b') }),
      controlBatch(9n, 7n, 'commit'),
      buildRecordBatch({ baseOffset: 10n, records: records(1, 'plain') }),
    );
    const committed = decodeRecordBatches(bytes, opts({ abortedTransactions: [{ producerId: 7n, firstOffset: 0n }] }));
    expect(plain(committed).map((r) => r.offset)).toEqual([3n, 4n, 7n, 8n, 10n]);
    expect(committed.skipped).toEqual({ control: 3, aborted: 3, belowFrom: 0, pastEnd: 0 });
    expect(committed.nextOffset).toBe(11n);

    const uncommitted = decodeRecordBatches(bytes, opts());
    expect(plain(uncommitted).map((r) => r.offset)).toEqual([0n, 1n, 2n, 3n, 4n, 7n, 8n, 10n]);
    expect(uncommitted.skipped).toEqual({ control: 3, aborted: 0, belowFrom: 0, pastEnd: 0 });
  });

  it('keeps a producer aborted until its ABORT marker, whatever the order of the aborted list', () => {
    const bytes = concatBytes(
      buildRecordBatch({ baseOffset: 0n, producerId: 1n, transactional: true, records: records(1) }),
      buildRecordBatch({ baseOffset: 1n, producerId: 2n, transactional: true, records: records(1) }),
      buildRecordBatch({ baseOffset: 2n, producerId: 1n, transactional: true, records: records(1) }),
      controlBatch(3n, 1n, 'abort'),
      buildRecordBatch({ baseOffset: 4n, producerId: 1n, transactional: true, records: records(1) }),
      controlBatch(5n, 2n, 'abort'),
      controlBatch(6n, 1n, 'commit'),
    );
    const d = decodeRecordBatches(bytes, opts({ abortedTransactions: [{ producerId: 2n, firstOffset: 1n }, { producerId: 1n, firstOffset: 0n }] }));
    expect(plain(d).map((r) => r.offset)).toEqual([4n]);
    expect(d.skipped.aborted).toBe(3);
    expect(d.nextOffset).toBe(7n);
  });

  it('reports a flipped byte as KAFKA_BATCH_CORRUPT naming topic, partition and offset', () => {
    const good = buildRecordBatch({ baseOffset: 40n, records: records(5) });
    const bad = buildRecordBatch({ baseOffset: 45n, codec: 'gzip', records: records(5) });
    bad[bad.length - 20]! ^= 0x01;
    const err = caught(() => decodeRecordBatches(concatBytes(good, bad), opts({ fromOffset: 40n })));
    expect(err.code).toBe('KAFKA_BATCH_CORRUPT');
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/^CRC-32C mismatch in the record batch at offset 45 of topic-partition orders-3: stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}$/);
    expect(err.details).toEqual({ topic: 'orders', partition: 3, offset: 45n });
  });

  it('reports record lengths that run past their batch, even with a valid CRC', () => {
    const bytes = buildRecordBatch({ baseOffset: 0n, records: [{ value: 'abc' }] });
    expect(decodeRecordBatches(bytes, opts()).raw.count).toBe(1);
    const err = caught(() => decodeRecordBatches(withRecordCount(bytes, 2), opts()));
    expect(err.code).toBe('KAFKA_BATCH_CORRUPT');
    expect(err.details).toMatchObject({ topic: 'orders', partition: 3, offset: 0n });
    const err2 = caught(() => decodeRecordBatches(withValueLength(bytes, 50), opts()));
    expect(err2.code).toBe('KAFKA_BATCH_CORRUPT');
    expect(err2.message).toMatch(/running past/);
  });

  it('rejects codec 6 as KAFKA_CODEC_UNSUPPORTED', () => {
    const bytes = buildRecordBatch({ baseOffset: 77n, codecId: 6, records: records(2) });
    const err = caught(() => decodeRecordBatches(bytes, opts({ topic: 't', partition: 0 })));
    expect(err.code).toBe('KAFKA_CODEC_UNSUPPORTED');
    expect(err.message).toContain('offset 77 of topic-partition t-0');
    expect(err.details).toMatchObject({ topic: 't', partition: 0, offset: 77n, codec: 6 });
  });

  it('reports a decompression failure with the codec error as cause', () => {
    const bytes = buildRecordBatch({ baseOffset: 5n, codecId: 4, records: records(2) });
    const err = caught(() => decodeRecordBatches(bytes, opts()));
    expect(err.code).toBe('KAFKA_BATCH_CORRUPT');
    expect(err.message).toMatch(/zstd decompression failed/);
    expect(err.cause).toBeInstanceOf(Error);
  });

  it('rejects message formats before v2', () => {
    const err = caught(() => decodeRecordBatches(buildRecordBatch({ baseOffset: 0n, magic: 1, records: records(1) }), opts()));
    expect(err.code).toBe('KAFKA_CODEC_UNSUPPORTED');
    expect(err.message).toMatch(/format v1/);
  });
});

describe('scanRecordBatches', () => {
  it('lists complete batches by byte span and offsets, without decoding', () => {
    const a = buildRecordBatch({ baseOffset: 10n, codec: 'zstd', records: records(4) });
    const b = controlBatch(14n, 3n, 'commit');
    const c = buildRecordBatch({ baseOffset: 15n, records: [{ value: 'x', offsetDelta: 0 }, { value: 'y', offsetDelta: 4 }] });
    const d = buildRecordBatch({ baseOffset: 20n, records: records(2) });
    const bytes = concatBytes(a, b, c, d.subarray(0, d.length - 1));
    const { spans, complete } = scanRecordBatches(bytes);
    expect(spans).toEqual([
      { start: 0, end: a.length, baseOffset: 10n, lastOffset: 13n, recordCount: 4, compressed: true },
      { start: a.length, end: a.length + b.length, baseOffset: 14n, lastOffset: 14n, recordCount: 1, compressed: false },
      { start: a.length + b.length, end: a.length + b.length + c.length, baseOffset: 15n, lastOffset: 19n, recordCount: 2, compressed: false },
    ]);
    expect(complete).toBe(a.length + b.length + c.length);
  });
});

/** The batch with its header's record count replaced and its CRC recomputed. */
function withRecordCount(batch: Uint8Array, count: number): Uint8Array {
  const copy = batch.slice();
  new DataView(copy.buffer).setInt32(57, count);
  return resealed(copy);
}

/** The one-record uncompressed batch with its value length varint replaced (single-byte zigzag). */
function withValueLength(batch: Uint8Array, length: number): Uint8Array {
  const copy = batch.slice();
  // Records start at 61: length, attributes, timestampDelta, offsetDelta, keyLength (null), valueLength.
  copy[61 + 5] = length * 2;
  return resealed(copy);
}

function resealed(batch: Uint8Array): Uint8Array {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  view.setUint32(17, crc32cOf(batch.subarray(21)));
  return batch;
}

function crc32cOf(bytes: Uint8Array): number {
  let crc = ~0;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}
