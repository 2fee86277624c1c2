// One partition's fetched records cut into transform tasks at record-batch boundaries, without
// decoding a record: only batch headers are read (and the one marker record of a control batch),
// so the fetching thread moves bytes and never builds an object per record.
//
// Hazard, read_committed: the broker sends one list of aborted transactions per partition and
// fetch, and a consumer walks it from the fetch offset on (a transaction's batches are dropped
// from its first offset until its ABORT marker). A chunk decoded on its own starts that walk at
// the chunk, so a transaction whose ABORT marker lies in an earlier chunk must be left out of the
// later chunks' lists — or that producer's next, committed transaction would be dropped as well.

import { StreamError } from '../errors.js';
import { scanRecordBatches, type AbortedTransaction, type BatchSpan } from './record-batch.js';

/** Record batches of one partition, as one transform task receives them. */
export interface RecordChunk {
  topic: string;
  partition: number;
  /** Whole record batches, back to back, still compressed; a buffer of its own, safe to transfer. */
  bytes: Uint8Array;
  /** Records below this offset are not delivered: the fetch offset may fall inside the first batch. */
  fromOffset: bigint;
  /** One past the last offset of the chunk's batches (control and aborted records included). */
  nextOffset: bigint;
  /** Records in the chunk's batches by their headers; an upper bound of what is delivered. */
  recordCount: number;
  /** read_committed: the transactions aborted in this chunk's range; null for read_uncommitted. */
  abortedTransactions: AbortedTransaction[] | null;
}

// Offsets inside a v2 batch header (Kafka protocol guide, "Record Batch").
const ATTRIBUTES_AT = 21;
const PRODUCER_ID_AT = 43;
const RECORDS_AT = 61;
const CONTROL_FLAG = 0x20;
const CODEC_MASK = 0x07;
const CONTROL_ABORT = 0;

/**
 * The producer whose transaction a control batch aborts, or null for any other batch. Control
 * batches are written uncompressed by the broker; their single record's key is
 * (version INT16, type INT16) with type 0 = ABORT, 1 = COMMIT.
 */
function abortMarkerProducer(bytes: Uint8Array, span: BatchSpan): bigint | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset + span.start, span.end - span.start);
  const attributes = view.getInt16(ATTRIBUTES_AT);
  if ((attributes & CONTROL_FLAG) === 0 || (attributes & CODEC_MASK) !== 0) return null;
  let at = RECORDS_AT;
  const varint = () => {
    let shift = 0;
    let v = 0;
    for (;;) {
      const b = view.getUint8(at++);
      v |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return (v >>> 1) ^ -(v & 1);
      shift += 7;
      if (shift > 63) return 0;
    }
  };
  try {
    varint(); // record length
    at += 1; // record attributes
    varint(); // timestamp delta (a varlong; small for a marker, read as a varint)
    varint(); // offset delta
    const keyLength = varint();
    if (keyLength < 4) return null;
    const type = view.getInt16(at + 2);
    return type === CONTROL_ABORT ? view.getBigInt64(PRODUCER_ID_AT) : null;
  } catch {
    // A marker that cannot be read is left to the decoder, which checks the batch's CRC.
    return null;
  }
}

/**
 * A copy in an ArrayBuffer of its own. Not `slice`: on a Node Buffer (which the response is) it
 * returns a view, and transferring a view's buffer would detach the whole response, or fail for
 * a buffer from Node's shared pool.
 */
function copyOf(bytes: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  out.set(bytes.subarray(start, end));
  return out;
}

/**
 * Cuts a partition's `records` (from one Fetch response) into chunks of at most `maxRecords`
 * records by their batch headers (a single batch larger than that is one chunk). `fetchOffset` is
 * the offset the fetch asked for. Returns the chunks and the offset to fetch next.
 */
export function splitRecords(
  topic: string,
  partition: number,
  records: Uint8Array,
  fetchOffset: bigint,
  aborted: AbortedTransaction[] | null,
  maxRecords: number,
): { chunks: RecordChunk[]; nextOffset: bigint } {
  if (records.byteLength === 0) return { chunks: [], nextOffset: fetchOffset };
  let spans: BatchSpan[];
  try {
    spans = scanRecordBatches(records).spans;
  } catch (err) {
    throw new StreamError('KAFKA_BATCH_CORRUPT', `unreadable record batch headers in ${topic}-${partition} at offset ${fetchOffset}: ${(err as Error).message}`, {
      cause: err,
      details: { topic, partition, offset: String(fetchOffset) },
    });
  }
  if (spans.length === 0) {
    // Brokers always return at least one whole batch (KIP-74), however large: without one there
    // is no progress to make, and fetching again would loop.
    throw new StreamError('KAFKA_PROTOCOL', `fetch of ${topic}-${partition} at offset ${fetchOffset} returned ${records.byteLength} bytes without a complete record batch`, {
      details: { topic, partition, offset: String(fetchOffset) },
    });
  }
  // Latest ABORT marker offset per producer, seen in chunks already cut.
  const abortedUpTo = new Map<bigint, bigint>();
  const open = (list: AbortedTransaction[]) => list.filter((t) => (abortedUpTo.get(t.producerId) ?? -1n) < t.firstOffset);
  const chunks: RecordChunk[] = [];
  let first = 0;
  while (first < spans.length) {
    let last = first;
    let count = spans[first]!.recordCount;
    while (last + 1 < spans.length && count + spans[last + 1]!.recordCount <= maxRecords) {
      last++;
      count += spans[last]!.recordCount;
    }
    const from = spans[first]!;
    const to = spans[last]!;
    chunks.push({
      topic,
      partition,
      bytes: copyOf(records, from.start, to.end),
      fromOffset: fetchOffset,
      nextOffset: to.lastOffset + 1n,
      recordCount: count,
      abortedTransactions: aborted === null ? null : open(aborted),
    });
    if (aborted !== null && aborted.length > 0) {
      for (let i = first; i <= last; i++) {
        const producer = abortMarkerProducer(records, spans[i]!);
        if (producer !== null) abortedUpTo.set(producer, spans[i]!.baseOffset);
      }
    }
    first = last + 1;
  }
  return { chunks, nextOffset: spans[spans.length - 1]!.lastOffset + 1n };
}
