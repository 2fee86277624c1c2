// The framing of Kafka RecordBatch v2 (magic 2): where each header field lies, the attribute
// bits, and the walk from one complete batch to the next (Kafka protocol guide, "Record Batch").
// Shared by the source thread, which cuts a fetch at batch boundaries without decoding
// (record-chunks.ts), and the decoder of the records themselves (record-batch.ts).

import { StreamError } from '../errors.js';

export interface BatchSpan {
  start: number;
  end: number;
  baseOffset: bigint;
  lastOffset: bigint;
  recordCount: number;
  /** Its records are compressed (a codec in the attributes). */
  compressed: boolean;
}

// Byte positions inside a batch, from its first byte.
export const BATCH_LENGTH = 8;
export const MAGIC = 16;
export const CRC = 17;
export const ATTRIBUTES = 21;
export const LAST_OFFSET_DELTA = 23;
export const BASE_TIMESTAMP = 27;
export const MAX_TIMESTAMP = 35;
export const PRODUCER_ID = 43;
export const RECORD_COUNT = 57;
export const RECORDS = 61;
/** baseOffset and batchLength precede what batchLength counts. */
export const LOG_OVERHEAD = 12;

export const ATTR_CODEC_MASK = 0x07;
export const ATTR_LOG_APPEND_TIME = 0x08;
export const ATTR_TRANSACTIONAL = 0x10;
export const ATTR_CONTROL = 0x20;

export const CONTROL_TYPE_ABORT = 0;
export function where(topic: string, partition: number, offset: bigint): string {
  return `the record batch at offset ${offset} of topic-partition ${topic}-${partition}`;
}

export function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

export function corrupt(topic: string, partition: number, offset: bigint, what: string, cause?: unknown): StreamError {
  return new StreamError('KAFKA_BATCH_CORRUPT', `${what} in ${where(topic, partition, offset)}`, {
    cause,
    details: { topic, partition, offset },
  });
}

/**
 * The byte length of the complete batch at `pos`, or -1 when the bytes stop inside it (the
 * broker's cut). Throws on a length no batch can have and on message formats before v2.
 */
export function completeBatchLength(view: DataView, pos: number, topic: string, partition: number): number {
  const left = view.byteLength - pos;
  if (left < LOG_OVERHEAD) return -1;
  const batchLength = view.getInt32(pos + BATCH_LENGTH);
  if (batchLength < RECORDS - LOG_OVERHEAD) {
    throw corrupt(topic, partition, view.getBigInt64(pos), `batch length ${batchLength} is below the v2 header's size`);
  }
  const total = LOG_OVERHEAD + batchLength;
  if (left < total) return -1;
  const magic = view.getInt8(pos + MAGIC);
  if (magic !== 2) {
    const offset = view.getBigInt64(pos);
    if (magic === 0 || magic === 1) {
      throw new StreamError(
        'KAFKA_CODEC_UNSUPPORTED',
        `${where(topic, partition, offset)} uses message format v${magic} (magic ${magic}); only record batch v2 (Kafka 0.11+) is supported`,
        { details: { topic, partition, offset, magic } },
      );
    }
    throw corrupt(topic, partition, offset, `magic byte ${magic}`);
  }
  return total;
}

/** Header walk only (no CRC, no decompression): the complete batches in `bytes`, for splitting a fetch into tasks at batch boundaries without decoding. `complete` = bytes covered by complete batches. */
export function scanRecordBatches(bytes: Uint8Array): { spans: BatchSpan[]; complete: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const spans: BatchSpan[] = [];
  let pos = 0;
  for (;;) {
    const total = completeBatchLength(view, pos, '?', -1);
    if (total < 0) break;
    const baseOffset = view.getBigInt64(pos);
    spans.push({
      start: pos,
      end: pos + total,
      baseOffset,
      lastOffset: baseOffset + BigInt(view.getInt32(pos + LAST_OFFSET_DELTA)),
      recordCount: view.getInt32(pos + RECORD_COUNT),
      compressed: (view.getInt16(pos + ATTRIBUTES) & ATTR_CODEC_MASK) !== 0,
    });
    pos += total;
  }
  return { spans, complete: pos };
}
