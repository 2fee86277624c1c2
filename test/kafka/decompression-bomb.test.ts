// A record batch whose few compressed bytes claim a gigabyte: the decoder must stop at its bound
// and name the batch, never allocate what the batch claims. gzip members and zstd frames may be
// concatenated, so a 16 MiB run of zeros compressed once and repeated 64 times inflates to 1 GiB
// from about a megabyte; snappy and LZ4 state their sizes, which must be checked before use.

import { gzipSync, zstdCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { StreamError } from '../../src/errors.js';
import { decompress, OutputLimitError } from '../../src/kafka/codecs.js';
import { crc32c } from '../../src/kafka/crc32c.js';
import { decodeRecordBatches, decompressedLimit } from '../../src/kafka/record-batch.js';
import { buildRecordBatch, compress } from '../helpers/record-batch-builder.js';

const MiB = 1024 * 1024;
const zeros = new Uint8Array(16 * MiB);

function repeated(member: Uint8Array, times: number): Uint8Array {
  const out = new Uint8Array(member.length * times);
  for (let i = 0; i < times; i++) out.set(member, i * member.length);
  return out;
}

const bombs = {
  gzip: () => repeated(gzipSync(zeros), 64),
  zstd: () => repeated(zstdCompressSync(zeros), 64),
};

describe('a decompression bomb', () => {
  it.each(['gzip', 'zstd'] as const)('in a %s batch inflating to 1 GiB is KAFKA_BATCH_CORRUPT naming topic, partition and offset, and memory stays bounded', (codec) => {
    const body = bombs[codec]();
    expect(body.length).toBeLessThan(2 * MiB);
    const batch = buildRecordBatch({ baseOffset: 4242n, codec, compressedBody: body, records: [{ value: 'x' }] });
    const rssBefore = process.memoryUsage().rss;
    let caught: unknown;
    try {
      decodeRecordBatches(batch, { topic: 'clicks', partition: 7, fromOffset: 4242n, abortedTransactions: null, maxRecordBytes: MiB });
    } catch (err) {
      caught = err;
    }
    const grown = process.memoryUsage().rss - rssBefore;
    expect(caught).toBeInstanceOf(StreamError);
    const err = caught as StreamError;
    expect(err.code).toBe('KAFKA_BATCH_CORRUPT');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('offset 4242 of topic-partition clicks-7');
    expect(err.message).toContain(`past ${decompressedLimit(1, MiB)} bytes`);
    expect(err.details).toMatchObject({ topic: 'clicks', partition: 7, offset: 4242n });
    // The bound for one record is 64 MiB; the bomb's gigabyte never came to be.
    expect(grown).toBeLessThan(400 * MiB);
  });

  it('stops snappy (raw and framed) and LZ4 at the bound before inflating past it', () => {
    const big = new Uint8Array(4 * MiB);
    for (const codec of ['snappy', 'snappy-xerial', 'lz4'] as const) {
      const packed = compress(codec, big);
      const id = codec === 'lz4' ? 3 : 2;
      expect(() => decompress(id, packed, MiB), codec).toThrow(OutputLimitError);
      expect(decompress(id, packed, 4 * MiB).length, codec).toBe(4 * MiB);
    }
  });

  it('bounds by record count and max_record_bytes, within a floor and a ceiling', () => {
    expect(decompressedLimit(1, MiB)).toBe(64 * MiB);
    expect(decompressedLimit(100, MiB)).toBe(100 * (MiB + 64 * 1024));
    expect(decompressedLimit(1_000_000, MiB)).toBe(512 * MiB);
  });

  it('refuses a record count no bytes could hold before sizing anything by it', () => {
    const batch = buildRecordBatch({ baseOffset: 9n, codec: 'gzip', records: [{ value: 'x' }] });
    // The header claims 50 million records (its CRC made to match): arrays for that many would
    // take over a gigabyte before the walk found the lie.
    const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
    view.setInt32(57, 50_000_000);
    view.setUint32(17, crc32c(batch.subarray(21)));
    expect(() => decodeRecordBatches(batch, { topic: 't', partition: 0, fromOffset: 9n, abortedTransactions: null })).toThrow(/record count 50000000 cannot fit in \d+ bytes of records in the record batch at offset 9 of topic-partition t-0/);
  });
});
