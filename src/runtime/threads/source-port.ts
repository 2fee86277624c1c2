// The source port: a topic's partitions as the runtime reads them — start at given offsets, hand
// over record chunks (whole Kafka record batches as bytes, decoded later in the transform pool),
// pause and resume partitions, commit offsets to the consumer group. The runtime sees only
// `TopicSource`; `ThreadedTopicSource` (source-thread.ts) runs the fetch loop on a thread of its
// own, and tests drive the runtime through fakes of this interface.

import type { ScanMode } from '../../config/types.js';
import type { StreamError } from '../../errors.js';
import type { RecordChunk } from '../../kafka/record-chunks.js';

export interface FetchedChunk {
  partition: number;
  chunk: RecordChunk;
  /** Next offset the broker will write to this partition, as of this fetch. */
  highWatermark: bigint;
}

export interface SourceHandlers {
  /** Chunks arrive in offset order per partition; the handler does not hold up the fetching. */
  onChunk(fetched: FetchedChunk): void;
  /**
   * The next offset the source will fetch from a partition. It moves past transaction markers
   * and aborted records, which no chunk delivers, so a bounded run can see its end.
   */
  onPosition(partition: number, next: bigint): void;
  /** The source gave up (a failure it will not recover from by itself). */
  onError(err: StreamError): void;
  /**
   * Fetching started failing for a reason that passes (a broker away), and the source rides it
   * out (the error); or it works again (undefined).
   */
  onTrouble?(err: StreamError | undefined): void;
}

export interface TopicSource {
  readonly topic: string;
  partitions(): Promise<number[]>;
  /** Where to start each partition when no checkpoint says otherwise. */
  initialOffsets(mode: ScanMode, timestampMs?: number): Promise<Map<number, bigint>>;
  /** Next offset to be written, per partition (the high watermark). */
  endOffsets(): Promise<Map<number, bigint>>;
  /**
   * Starts fetching every partition from `start`; resolves once fetching runs. Records below a
   * partition's start offset are never delivered.
   */
  run(start: Map<number, bigint>, handlers: SourceHandlers): Promise<void>;
  /**
   * Starts fetching partitions discovered while running, from the given offsets. The set of
   * partitions grows only; a partition already fetched is left as it is.
   */
  add(start: Map<number, bigint>): void;
  pause(partitions: number[]): void;
  resume(partitions: number[]): void;
  /**
   * A chunk the runtime is done with: the source fetches ahead only so far. `valueBytes`, the
   * bytes of its values once decoded (absent when its task failed), lets the source weigh
   * compressed chunks by what they inflate to.
   */
  release(chunk: RecordChunk, valueBytes?: number): void;
  /** The consumer group's committed offsets: informational for lag tooling. */
  commit(offsets: Map<number, bigint>): Promise<void>;
  close(): Promise<void>;
}
