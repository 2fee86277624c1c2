// Records that cannot become rows: why, and the batch that carries them to the dead-letter table
// or topic. The raw key and value bytes are copied as they arrived, so a dead letter can be
// replayed after the cause is fixed.

import * as arrow from 'apache-arrow';
import { DEAD_LETTER_COLUMNS } from '../schema/dead-letter-columns.js';
import { arrowSchemaOf } from '../schema/type-mapping.js';
import { rawKey, rawValue, type RawBatch } from '../kafka/raw-batch.js';
import { BinaryColumnBuilder, Utf8ColumnBuilder, recordBatchOf } from './columns.js';
import { timestampInRange } from '../schema/calendar.js';

/** The error codes a dead letter can carry (a subset of src/errors.ts). */
export type DeadLetterCode = 'RECORD_DECODE_FAILED' | 'RECORD_TOO_LARGE' | 'EXPRESSION_FAILED';

export interface DeadLetter {
  /** Index of the record in its RawBatch. */
  index: number;
  code: DeadLetterCode;
  message: string;
}

export const DEAD_LETTER_SCHEMA: arrow.Schema = arrowSchemaOf(DEAD_LETTER_COLUMNS);

/**
 * One Arrow batch of dead letters in DEAD_LETTER_SCHEMA, ordered by source offset. `failedAtMs`
 * is one time for the whole batch: the moment the transform ran.
 */
export function buildDeadLetterBatch(raw: RawBatch, letters: readonly DeadLetter[], failedAtMs: number): arrow.RecordBatch {
  const sorted = [...letters].sort((a, b) => a.index - b.index);
  const n = sorted.length;
  const topic = new Utf8ColumnBuilder(n);
  const partition = new Int32Array(n);
  const offset = new BigInt64Array(n);
  const ts = new BigInt64Array(n);
  const tsValid = new Uint8Array(n);
  const key = new BinaryColumnBuilder(n);
  const value = new BinaryColumnBuilder(n);
  const code = new Utf8ColumnBuilder(n);
  const message = new Utf8ColumnBuilder(n);
  const failedAt = new BigInt64Array(n).fill(BigInt(Math.trunc(failedAtMs)) * 1000n);
  for (let j = 0; j < n; j++) {
    const d = sorted[j]!;
    topic.append(raw.topic);
    partition[j] = raw.partition;
    offset[j] = raw.offsets[d.index]!;
    const tms = raw.timestamps[d.index]!;
    // Kafka uses -1 for "no timestamp" (message format v0). A producer may set any other value;
    // one past year 9999 is left out too, or the dead-letter table's writer would refuse the
    // batch (and a dead letter must always land).
    if (Number.isFinite(tms) && tms >= 0 && timestampInRange(tms * 1000)) {
      ts[j] = BigInt(Math.trunc(tms)) * 1000n;
      tsValid[j] = 1;
    }
    key.append(rawKey(raw, d.index));
    value.append(rawValue(raw, d.index));
    code.append(d.code);
    message.append(d.message);
  }
  const fields = DEAD_LETTER_SCHEMA.fields;
  const fixed = (i: number, data: Int32Array | BigInt64Array, valid: Uint8Array | null) =>
    arrow.makeData({ type: fields[i]!.type, length: n, data, ...bitmapOf(valid, n) } as any);
  return recordBatchOf(DEAD_LETTER_SCHEMA, n, [
    topic.finish(fields[0]!.type),
    fixed(1, partition, null),
    fixed(2, offset, null),
    fixed(3, ts, tsValid),
    key.finish(fields[4]!.type),
    value.finish(fields[5]!.type),
    code.finish(fields[6]!.type),
    message.finish(fields[7]!.type),
    fixed(8, failedAt, null),
  ]);
}

function bitmapOf(valid: Uint8Array | null, n: number): { nullCount: number; nullBitmap?: Uint8Array } {
  if (valid === null) return { nullCount: 0 };
  const bitmap = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (valid[i]) bitmap[i >> 3]! |= 1 << (i & 7);
    else nulls++;
  }
  return nulls === 0 ? { nullCount: 0 } : { nullCount: nulls, nullBitmap: bitmap };
}
