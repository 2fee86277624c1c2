// A Fetch response (version 11) read as far as the source needs and no further: per partition its
// error code, watermarks, aborted transactions, and the `records` field as a view into the
// response bytes. Records are not decoded here: they travel to the transform pool as bytes, still
// compressed, and are decoded there (record-batch.ts).
//
// Fetch Response v11 (Kafka protocol guide, "Fetch API"):
//   throttle_time_ms INT32, error_code INT16, session_id INT32,
//   [responses: topic STRING,
//     [partitions: partition_index INT32, error_code INT16, high_watermark INT64,
//       last_stable_offset INT64, log_start_offset INT64,
//       [aborted_transactions: producer_id INT64, first_offset INT64] (nullable array),
//       preferred_read_replica INT32, records RECORDS (nullable bytes, INT32 length)]]
// Version 11 is the newest without flexible (tagged-field) encoding, which the connection layer
// does not speak; every broker from 2.3 on serves it, and Kafka 4 still does.

import { StreamError } from '../errors.js';
import type { AbortedTransaction } from './record-batch.js';

export interface FetchedPartition {
  partition: number;
  errorCode: number;
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
  /** null when the broker sent none (read_uncommitted, or nothing aborted in range). */
  abortedTransactions: AbortedTransaction[] | null;
  /** A view into the response buffer: copy what must outlive it. Empty when there is nothing. */
  records: Uint8Array;
}

export interface FetchResponse {
  throttleTimeMs: number;
  errorCode: number;
  topics: Array<{ topic: string; partitions: FetchedPartition[] }>;
}

export function parseFetchResponse(payload: Uint8Array): FetchResponse {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  let at = 0;
  const need = (n: number) => {
    if (at + n > payload.byteLength) {
      throw new StreamError('KAFKA_PROTOCOL', `truncated Fetch response: needed ${n} bytes at byte ${at} of ${payload.byteLength}`);
    }
  };
  const int16 = () => (need(2), (at += 2), view.getInt16(at - 2));
  const int32 = () => (need(4), (at += 4), view.getInt32(at - 4));
  const int64 = () => (need(8), (at += 8), view.getBigInt64(at - 8));
  const text = () => {
    const len = int16();
    if (len < 0) return '';
    need(len);
    at += len;
    return new TextDecoder().decode(payload.subarray(at - len, at));
  };

  const throttleTimeMs = int32();
  const errorCode = int16();
  int32(); // session_id: fetch sessions are not used (session epoch -1 in every request)
  const topics: FetchResponse['topics'] = [];
  for (let t = int32(); t > 0; t--) {
    const topic = text();
    const partitions: FetchedPartition[] = [];
    for (let p = int32(); p > 0; p--) {
      const partition = int32();
      const partErr = int16();
      const highWatermark = int64();
      const lastStableOffset = int64();
      const logStartOffset = int64();
      let abortedTransactions: AbortedTransaction[] | null = null;
      const aborted = int32();
      if (aborted >= 0) {
        abortedTransactions = [];
        for (let a = 0; a < aborted; a++) abortedTransactions.push({ producerId: int64(), firstOffset: int64() });
      }
      int32(); // preferred_read_replica: reading from followers is not used
      const size = int32();
      let records: Uint8Array = payload.subarray(at, at);
      if (size > 0) {
        need(size);
        records = payload.subarray(at, at + size);
        at += size;
      }
      partitions.push({ partition, errorCode: partErr, highWatermark, lastStableOffset, logStartOffset, abortedTransactions, records });
    }
    topics.push({ topic, partitions });
  }
  return { throttleTimeMs, errorCode, topics };
}
