import { describe, expect, it } from 'vitest';
import { parseFetchResponse } from '../../src/kafka/fetch-response.js';

/** A Fetch v11 response payload (after the correlation id), written field by field. */
class Writer {
  private readonly parts: Buffer[] = [];
  int16(v: number) {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.parts.push(b);
    return this;
  }
  int32(v: number) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  int64(v: bigint) {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v);
    this.parts.push(b);
    return this;
  }
  text(s: string) {
    this.int16(Buffer.byteLength(s));
    this.parts.push(Buffer.from(s));
    return this;
  }
  bytes(b: Uint8Array | null) {
    if (b === null) return this.int32(-1);
    this.int32(b.length);
    this.parts.push(Buffer.from(b));
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function partition(w: Writer, p: { id: number; error?: number; aborted?: Array<[bigint, bigint]> | null; records: Uint8Array | null }) {
  w.int32(p.id).int16(p.error ?? 0).int64(1000n).int64(990n).int64(5n);
  if (p.aborted === undefined || p.aborted === null) w.int32(-1);
  else {
    w.int32(p.aborted.length);
    for (const [pid, first] of p.aborted) w.int64(pid).int64(first);
  }
  w.int32(-1).bytes(p.records);
}

describe('parseFetchResponse', () => {
  it('reads watermarks, aborted transactions and each partition records as a view', () => {
    const w = new Writer().int32(7).int16(0).int32(0).int32(1).text('bids').int32(3);
    partition(w, { id: 0, records: new Uint8Array([1, 2, 3]) });
    partition(w, { id: 1, aborted: [[42n, 17n]], records: null });
    partition(w, { id: 2, error: 6, records: new Uint8Array(0) });
    const payload = w.done();
    const r = parseFetchResponse(payload);
    expect(r.throttleTimeMs).toBe(7);
    expect(r.topics.map((t) => t.topic)).toEqual(['bids']);
    const [p0, p1, p2] = r.topics[0]!.partitions;
    expect(p0).toMatchObject({ partition: 0, errorCode: 0, highWatermark: 1000n, lastStableOffset: 990n, logStartOffset: 5n, abortedTransactions: null });
    expect([...p0!.records]).toEqual([1, 2, 3]);
    // A view, not a copy: the source copies only what it hands on.
    expect(p0!.records.buffer).toBe(payload.buffer);
    expect(p1!.abortedTransactions).toEqual([{ producerId: 42n, firstOffset: 17n }]);
    expect(p1!.records.byteLength).toBe(0);
    expect(p2!.errorCode).toBe(6);
  });

  it('refuses a truncated response with the byte it stopped at', () => {
    const w = new Writer().int32(0).int16(0).int32(0).int32(1).text('bids').int32(1);
    partition(w, { id: 0, records: new Uint8Array(50) });
    const payload = w.done().subarray(0, 60);
    expect(() => parseFetchResponse(payload)).toThrow(/truncated Fetch response: needed \d+ bytes at byte \d+ of 60/);
  });
});
