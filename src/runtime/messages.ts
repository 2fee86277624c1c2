// Messages between the pipeline on the main thread and its sink thread, and of transform tasks,
// declared once and imported by both sides (the source thread's are in
// src/kafka/source-messages.ts). Each is a discriminated union on `kind`: data apart from signals
// on the data path (source → sink), and the checkpoint conversation on the control path
// (sink → coordinator).

import type { DataFile } from '../iceberg/data-file-writer.js';
import type { SerializedError } from '../errors.js';
import type { RecordChunk } from '../kafka/record-chunks.js';
import type { TransformStats } from '../transform/batch-transform.js';
import type { HostedEvent } from '../worker-host.js';

/** Main thread → sink actor (worker thread). */
export type SinkCommand =
  | {
      kind: 'data';
      partition: number;
      /** The transformed rows as one Arrow IPC stream, transferred, not copied. */
      rows: Uint8Array;
      /** Dead letters of the same records, as an Arrow IPC stream; null when there are none. */
      deadLetters: Uint8Array | null;
      /** Size accounted against the pipeline's buffer budget until the sink reports it consumed. */
      bytes: number;
    }
  | {
      kind: 'barrier';
      epoch: number;
      partition: number;
      /** One past the last offset of `partition` whose records came before this barrier. */
      nextOffset: bigint;
    };

/** Sink actor → main thread. */
export type SinkEvent =
  /** `started` once the sink takes commands; `failed` stops the pipeline. */
  | HostedEvent
  /** Data messages were taken off the queue; their bytes no longer count against the budget. */
  | { kind: 'consumed'; bytes: number }
  /**
   * Every input partition delivered its barrier for `epoch`: these files hold exactly the rows
   * before those barriers. They are not yet visible; the coordinator commits them.
   */
  | {
      kind: 'checkpoint-ack';
      epoch: number;
      files: DataFile[];
      deadLetterFiles: DataFile[];
      rows: number;
      deadLetters: number;
      bytes: number;
      /** Each partition's offset as of the barrier. */
      offsets: Array<[partition: number, nextOffset: bigint]>;
    };

/** The sink's report that epoch N is aligned and its files are written. */
export type CheckpointAck = Extract<SinkEvent, { kind: 'checkpoint-ack' }>;

/** Transform pool task: one chunk of Kafka record batches of one pipeline, as fetched. */
export interface TransformTask {
  pipelineId: string;
  chunk: RecordChunk;
  /** A bounded run's end for the chunk's partition: records at or past it are left out. */
  endOffset: bigint | undefined;
  /** CURRENT_TIMESTAMP for the batch, fixed by the caller so a retried task gives the same rows. */
  nowMs: number;
}

export interface TransformTaskResult {
  rows: Uint8Array;
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
