import { describe, expect, it } from 'vitest';
import { decodeRecordBatches } from '../../src/kafka/record-batch.js';
import { splitRecords } from '../../src/kafka/record-chunks.js';
import { buildRecordBatch, concatBytes, controlBatch } from '../helpers/record-batch-builder.js';

const values = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ offsetDelta: i, value: `{"i":${from + i}}` }));

/** Decodes every chunk on its own, as the transform pool does, and lists the values delivered. */
function deliver(chunks: ReturnType<typeof splitRecords>['chunks']): string[] {
  return chunks.flatMap((c) => {
    const d = decodeRecordBatches(c.bytes, { topic: c.topic, partition: c.partition, fromOffset: c.fromOffset, abortedTransactions: c.abortedTransactions });
    return Array.from({ length: d.raw.count }, (_, i) => new TextDecoder().decode(d.raw.values.subarray(d.raw.valueOffsets[i]!, d.raw.valueOffsets[i + 1]!)));
  });
}

describe('splitRecords', () => {
  it('cuts at batch boundaries into chunks of at most maxRecords records, each in a buffer of its own', () => {
    const bytes = concatBytes(
      buildRecordBatch({ baseOffset: 0n, records: values(0, 3), codec: 'snappy' }),
      buildRecordBatch({ baseOffset: 3n, records: values(3, 3), codec: 'lz4' }),
      buildRecordBatch({ baseOffset: 6n, records: values(6, 5) }),
      buildRecordBatch({ baseOffset: 11n, records: values(11, 2), codec: 'zstd' }),
    );
    // The fetch path hands over views into a Node Buffer, whose `slice` does not copy.
    const { chunks, nextOffset } = splitRecords('t', 2, Buffer.from(bytes), 1n, null, 6);
    expect(chunks.map((c) => [c.recordCount, c.fromOffset, c.nextOffset])).toEqual([
      [6, 1n, 6n],
      [5, 1n, 11n],
      [2, 1n, 13n],
    ]);
    expect(nextOffset).toBe(13n);
    expect(new Set(chunks.map((c) => c.bytes.buffer)).size).toBe(3);
    expect(chunks.every((c) => c.bytes.byteOffset === 0 && c.bytes.buffer.byteLength === c.bytes.byteLength)).toBe(true);
    // Offset 0 lies below the fetch offset: never delivered.
    expect(deliver(chunks)).toEqual(Array.from({ length: 12 }, (_, i) => `{"i":${i + 1}}`));
  });

  it('keeps a batch larger than maxRecords whole, and ignores a truncated last batch', () => {
    const whole = buildRecordBatch({ baseOffset: 40n, records: values(40, 10) });
    const cut = buildRecordBatch({ baseOffset: 50n, records: values(50, 4) }).subarray(0, 30);
    const { chunks, nextOffset } = splitRecords('t', 0, concatBytes(whole, cut), 40n, null, 4);
    expect(chunks.map((c) => c.recordCount)).toEqual([10]);
    expect(nextOffset).toBe(50n);
  });

  it('leaves a transaction aborted in an earlier chunk out of the later chunks, so the producer next commit is kept', () => {
    // Producer 7 aborts offsets 0-1 (marker at 2), then commits 3-4 (marker at 5).
    const bytes = concatBytes(
      buildRecordBatch({ baseOffset: 0n, records: values(0, 2), transactional: true, producerId: 7n }),
      controlBatch(2n, 7n, 'abort'),
      buildRecordBatch({ baseOffset: 3n, records: values(3, 2), transactional: true, producerId: 7n }),
      controlBatch(5n, 7n, 'commit'),
    );
    const aborted = [{ producerId: 7n, firstOffset: 0n }];
    const { chunks } = splitRecords('t', 0, bytes, 0n, aborted, 3);
    expect(chunks.map((c) => c.abortedTransactions)).toEqual([aborted, []]);
    expect(deliver(chunks)).toEqual(['{"i":3}', '{"i":4}']);
    // Without the filtering the second chunk would lose the committed records.
    const naive = chunks.map((c) => ({ ...c, abortedTransactions: aborted }));
    expect(deliver(naive)).toEqual([]);
  });

  it('names topic, partition and offset when a batch header cannot be read', () => {
    const bytes = buildRecordBatch({ baseOffset: 9n, records: values(9, 2) });
    bytes[16] = 7; // magic
    expect(() => splitRecords('orders', 4, bytes, 9n, null, 100)).toThrow(/orders-4 at offset 9/);
  });

  it('returns nothing, and the same offset, for an empty fetch', () => {
    expect(splitRecords('t', 0, new Uint8Array(0), 5n, null, 10)).toEqual({ chunks: [], nextOffset: 5n, incomplete: false });
  });

  it('says so, without failing, when the records hold only the start of a batch (a broker cut it at a byte limit)', () => {
    const start = buildRecordBatch({ baseOffset: 5n, records: values(5, 20) }).subarray(0, 70);
    expect(splitRecords('t', 0, start, 5n, null, 10)).toEqual({ chunks: [], nextOffset: 5n, incomplete: true });
  });
});
