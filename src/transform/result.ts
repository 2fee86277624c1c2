// What one transform task returns, and the step that applies a pipeline's on_error to the dead
// letters of a batch. Shared by the SQL and TypeScript transform paths.

import type * as arrow from 'apache-arrow';
import type { SqlType } from '../schema/sql-types.js';
import type { PipelineConfig } from '../config/types.js';
import { buildColumn, recordBatchOf } from './columns.js';
import { StreamError } from '../errors.js';
import { buildDeadLetterBatch, type DeadLetter, type DeadLetterCode } from './dead-letter.js';
import type { DecodedBatch } from './decode/json-decoder.js';
import type { RawBatch } from '../kafka/raw-batch.js';
import type { TransformerKind } from './transformer.js';

export interface TransformStats {
  records: number;
  rows: number;
  /** Records a WHERE / filter() / map() returning null dropped on purpose. */
  filtered: number;
  tombstones: number;
  /** Dead letters by reason, counted whatever `onError` does with them. */
  deadLetters: Record<DeadLetterCode, number>;
  /** The newest Kafka timestamp (epoch ms) of the batch's records, whatever became of them; absent for an empty batch. */
  newestTimestampMs?: number;
}

export interface TransformResult {
  /** Good rows in sink-schema column order; fresh buffers, safe to transfer. */
  rows: arrow.RecordBatch;
  /** In DEAD_LETTER_SCHEMA; null when there are none or the pipeline's on_error is `skip`. */
  deadLetters: arrow.RecordBatch | null;
  stats: TransformStats;
}

export interface CompiledTransform {
  readonly kind: TransformerKind;
  readonly sinkSchema: arrow.Schema;
  /**
   * One batch → rows and dead letters. Synchronous, and it reuses per-transform scratch state,
   * so calls must not interleave; a worker thread runs one task at a time, which guarantees it.
   * `nowMs` is CURRENT_TIMESTAMP for the whole batch (default: now); a retry that passes the
   * same value reproduces the same output.
   */
  run(raw: RawBatch, nowMs?: number): TransformResult;
  /**
   * Awaited before `run` when present: what the format must fetch first (avro-confluent's writer
   * schemas). Throws SCHEMA_REGISTRY_UNAVAILABLE, retryable, rather than dead-lettering records.
   */
  prepare?: ((raw: RawBatch) => Promise<void>) | undefined;
}

export interface CompileOptions {
  sessionTimeZone?: string;
}

/**
 * What a transformation does to one decoded batch, whatever its kind (SQL, TypeScript rows or
 * columns): the good rows in the sink schema, the records it dropped on purpose, and the dead
 * letters (the decoder's, which it receives in `decoded.deadLetters`, plus its own). The one batch
 * loop (batch-transform.ts) decodes before and applies on_error after, the same for every kind.
 */
export interface BatchStep {
  readonly sinkSchema: arrow.Schema;
  apply(decoded: DecodedBatch, nowMs: number, raw: RawBatch): { rows: arrow.RecordBatch; letters: DeadLetter[]; filtered: number };
}

/** Finishes a batch: dead letters by on_error, stats, and the rows batch. */
export function finish(
  pipeline: PipelineConfig,
  raw: RawBatch,
  decoded: DecodedBatch,
  letters: DeadLetter[],
  rows: arrow.RecordBatch,
  filtered: number,
  nowMs: number,
): TransformResult {
  const counts: Record<DeadLetterCode, number> = { RECORD_DECODE_FAILED: 0, RECORD_TOO_LARGE: 0, EXPRESSION_FAILED: 0 };
  for (const d of letters) counts[d.code]++;
  if (letters.length > 0 && pipeline.onError === 'fail') {
    const first = letters.reduce((a, b) => (a.index <= b.index ? a : b));
    throw new StreamError(first.code, `topic ${raw.topic} partition ${raw.partition} offset ${raw.offsets[first.index]}: ${first.message} (on_error is fail)`, {
      details: { topic: raw.topic, partition: raw.partition, offset: String(raw.offsets[first.index]), counts },
    });
  }
  const deadLetters = letters.length > 0 && pipeline.onError === 'dlq' ? buildDeadLetterBatch(raw, letters, nowMs) : null;
  const stats: TransformStats = { records: raw.count, rows: rows.numRows, filtered, tombstones: decoded.tombstones, deadLetters: counts };
  let newest = -Infinity;
  for (let i = 0; i < raw.count; i++) if (raw.timestamps[i]! > newest) newest = raw.timestamps[i]!;
  if (newest > -Infinity) stats.newestTimestampMs = newest;
  return { rows, deadLetters, stats };
}

/**
 * The sink batch of the selected rows. A row whose value a column builder refuses (a transformer
 * that returned a nested value of the wrong shape) becomes a dead letter through `reject` rather
 * than failing the task, which would be retried onto the same record and then fail the pipeline.
 * The row-by-row search runs only after a whole-batch build has failed.
 */
export function buildSinkRows(
  schema: arrow.Schema,
  fields: ReadonlyArray<{ name: string; type: SqlType }>,
  values: ReadonlyArray<ArrayLike<unknown>>,
  selection: Int32Array,
  reject: (row: number, message: string) => void,
): arrow.RecordBatch {
  const build = (sel: Int32Array) => recordBatchOf(schema, sel.length, fields.map((f, c) => buildColumn(values[c]!, f.type, sel, sel.length)));
  try {
    return build(selection);
  } catch {
    const keep: number[] = [];
    for (const j of selection) {
      const one = Int32Array.of(j);
      let why: string | null = null;
      for (let c = 0; c < fields.length && why === null; c++) {
        try {
          buildColumn(values[c]!, fields[c]!.type, one, 1);
        } catch (e) {
          why = `column ${fields[c]!.name}: the value cannot be written (${e instanceof Error ? e.message : String(e)})`;
        }
      }
      if (why === null) keep.push(j);
      else reject(j, why);
    }
    return build(Int32Array.from(keep));
  }
}
