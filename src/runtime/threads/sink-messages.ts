// Messages between the pipeline on the main thread and its sink thread, declared once and
// imported by both sides (the source thread's are in source-messages.ts, the transform pool's in
// transform-messages.ts). Each is a discriminated union on `kind`: data apart from signals
// on the data path (source → sink), and the checkpoint conversation on the control path
// (sink → coordinator).

import type { DataFile } from '../../iceberg/data-file-writer.js';
import type { PreparedPart } from '../../iceberg/table-rows.js';
import type { HostedEvent } from './worker-host.js';

/** Main thread → sink actor (worker thread). */
export type SinkCommand =
  | {
      kind: 'data';
      partition: number;
      /** The transformed rows as one Arrow IPC stream, transferred, not copied. */
      rows: Uint8Array;
      /** Present when a transform worker prepared `rows` for the table's files (TableRows.prepare). */
      parts?: PreparedPart[] | undefined;
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
    }
  /**
   * A partition discovered while running joins the alignment. Sent before any of its data; its
   * rows belong to `firstEpoch`, the epoch of the first barrier it will get, so epochs already
   * triggered close without it.
   */
  | {
      kind: 'add-partition';
      partition: number;
      firstEpoch: number;
      /** Dead letters below this offset are in the dead-letter table already (scale-out: its last owner committed them). */
      deadLetterFloor?: bigint;
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
