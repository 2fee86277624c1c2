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
import { abortMarkerProducer, type AbortedTransaction } from './record-batch.js';
import { scanRecordBatches, type BatchSpan } from './record-batch-format.js';

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
  /** Bytes of `bytes` in compressed batches. */
  compressedBytes: number;
  /**
   * What the chunk counts against its source's room for chunks in flight: its bytes, with
   * compressed batches counted as the bytes they are expected to inflate to. Set by the fetch
   * loop (splitRecords gives the bytes) and handed back unchanged when the chunk is released.
   */
  weight: number;
  /** read_committed: the transactions aborted in this chunk's range; null for read_uncommitted. */
  abortedTransactions: AbortedTransaction[] | null;
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
 * the offset the fetch asked for. Returns the chunks and the offset to fetch next; `incomplete`
 * when the records hold bytes but not one whole batch.
 */
export function splitRecords(
  topic: string,
  partition: number,
  records: Uint8Array,
  fetchOffset: bigint,
  aborted: AbortedTransaction[] | null,
  maxRecords: number,
): { chunks: RecordChunk[]; nextOffset: bigint; incomplete: boolean } {
  if (records.byteLength === 0) return { chunks: [], nextOffset: fetchOffset, incomplete: false };
  let spans: BatchSpan[];
  try {
    spans = scanRecordBatches(records).spans;
  } catch (err) {
    throw new StreamError('KAFKA_BATCH_CORRUPT', `unreadable record batch headers in ${topic}-${partition} at offset ${fetchOffset}: ${(err as Error).message}`, {
      cause: err,
      details: { topic, partition, offset: String(fetchOffset) },
    });
  }
  // Only the start of a batch: a broker cuts a partition's records at its byte limit, and returns
  // a whole batch larger than that only to the first partition with data in a response (KIP-74).
  // The caller decides: ask again with the partition first, or fail if it was first already.
  if (spans.length === 0) return { chunks: [], nextOffset: fetchOffset, incomplete: true };
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
    let compressedBytes = 0;
    for (let i = first; i <= last; i++) if (spans[i]!.compressed) compressedBytes += spans[i]!.end - spans[i]!.start;
    chunks.push({
      topic,
      partition,
      bytes: copyOf(records, from.start, to.end),
      fromOffset: fetchOffset,
      nextOffset: to.lastOffset + 1n,
      recordCount: count,
      compressedBytes,
      weight: to.end - from.start,
      abortedTransactions: aborted === null ? null : open(aborted),
    });
    if (aborted !== null && aborted.length > 0) {
      for (let i = first; i <= last; i++) {
        let producer: bigint | null = null;
        try {
          producer = abortMarkerProducer(records, spans[i]!);
        } catch {
          // A marker that cannot be read is left to the decoder, which checks the batch's CRC
          // and names topic, partition and offset.
        }
        if (producer !== null) abortedUpTo.set(producer, spans[i]!.baseOffset);
      }
    }
    first = last + 1;
  }
  return { chunks, nextOffset: spans[spans.length - 1]!.lastOffset + 1n, incomplete: false };
}
