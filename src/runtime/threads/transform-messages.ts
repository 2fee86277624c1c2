// Messages of the transform pool: a task (one chunk of one pipeline's record batches) and what
// comes back, declared once for the pool (main thread) and the task (worker thread).

import type { SerializedError } from '../../errors.js';
import type { RecordChunk } from '../../kafka/record-chunks.js';
import type { TransformStats } from '../../transform/batch-transform.js';
import type { PreparedPart, WriteTarget } from '../../iceberg/table-rows.js';

/** Transform pool task: one chunk of Kafka record batches of one pipeline, as fetched. */
export interface TransformTask {
  pipelineId: string;
  chunk: RecordChunk;
  /** A bounded run's end for the chunk's partition: records at or past it are left out. */
  endOffset: bigint | undefined;
  /** CURRENT_TIMESTAMP for the batch, fixed by the caller so a retried task gives the same rows. */
  nowMs: number;
  /**
   * The table the rows go to: given, the worker prepares them for its files (TableRows.prepare)
   * and `rows` comes back bound, split and counted, described by `parts`.
   */
  target?: WriteTarget | undefined;
}

export interface TransformTaskResult {
  /** Arrow IPC stream of the rows: as the transform made them, or prepared for `target` (see `parts`). */
  rows: Uint8Array;
  /** With a task's `target`: the partition values, counts and metrics of each record batch of `rows`. */
  parts?: PreparedPart[] | undefined;
  deadLetters: Uint8Array | null;
  stats: TransformStats;
  /** Bytes of the record values decoded (Kafka payload, uncompressed). */
  valueBytes: number;
}

/**
 * What a transform task sends back. A coded error travels as data: an Error thrown across
 * piscina is structured-cloned, which keeps its message but drops `code`, `domain` and
 * `retryable`, and the source actor would then retry a user error as if the worker had died.
 */
export type TransformTaskOutcome = ({ kind: 'done' } & TransformTaskResult) | { kind: 'failed'; error: SerializedError };
