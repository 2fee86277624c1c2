// Messages between a pipeline (main thread) and its Kafka source thread, shared by both sides.

import type { SerializedError } from '../../errors.js';
import type { KafkaConfig } from '../../config/types.js';
import type { HostedEvent } from './worker-host.js';
import type { InflationSample, IsolationLevel } from '../../kafka/fetch-loop.js';
import type { FetchedChunk } from './source-port.js';
import type { OffsetResetPolicy } from '../../kafka/offset-reset.js';

export interface SourceThreadInit {
  kafka: KafkaConfig;
  topic: string;
  groupId: string;
  start: Array<[partition: number, offset: bigint]>;
  isolationLevel: IsolationLevel;
  /** Most records per chunk (one transform task). */
  maxChunkRecords: number;
  /** Chunk weight (RecordChunk.weight) handed over and not yet released before fetching waits. */
  maxBytesInFlight: number;
  /** Where a position past the end of its partition goes (by scan_mode); default `earliest`. */
  offsetReset?: OffsetResetPolicy;
}

/** Main thread → source thread. */
export type SourceCommand =
  | { kind: 'pause'; partitions: number[] }
  | { kind: 'resume'; partitions: number[] }
  /** Partitions discovered while running: fetched from these offsets on. */
  | { kind: 'add-partitions'; start: Array<[partition: number, offset: bigint]> }
  /** A chunk whose task settled, by its weight; `decoded` when its records were decoded. */
  | { kind: 'release'; weight: number; decoded?: InflationSample }
  | { kind: 'commit'; id: number; offsets: Array<[partition: number, offset: bigint]> }
  | { kind: 'stop' };

/** Source thread → main thread. */
export type SourceEvent =
  /** `started` once fetching runs; `failed` when the source gives up. */
  | HostedEvent
  /** A chunk of fetched record batches, its buffer transferred. */
  | { kind: 'chunk'; fetched: FetchedChunk }
  | { kind: 'log'; level: 'info' | 'warn' | 'error'; msg: string; fields: Record<string, unknown> }
  | { kind: 'position'; partition: number; next: bigint }
  /** Fetching started failing for a reason that passes (the error), or works again (null). */
  | { kind: 'trouble'; error: SerializedError | null }
  | { kind: 'committed'; id: number; error: SerializedError | null }
  | { kind: 'stopped' };
