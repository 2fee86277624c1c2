// A topic's partitions as the runtime reads them: start at given offsets, hand over record chunks
// (whole Kafka record batches as bytes, decoded later in the transform pool), pause and resume
// partitions, commit offsets to the consumer group. The runtime sees only `TopicSource`;
// `ThreadedTopicSource` runs the fetch loop (fetch-loop.ts) on a thread of its own, and
// `TopicAdmin` answers the few metadata questions (partitions, offsets) on the caller's thread.

import type { Kafka, Admin } from 'kafkajs';
import type { ScanMode } from '../config/types.js';
import { letGo, withDeadline } from '../deadline.js';
import { StreamError, toStreamError } from '../errors.js';
import type { RecordChunk } from './record-chunks.js';

/** Above kafkajs' own request timeout (30 s) and its retries of a refused connection. */
const ADMIN_DEADLINE_MS = 90_000;

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
  pause(partitions: number[]): void;
  resume(partitions: number[]): void;
  /** Bytes of chunks the runtime is done with: the source fetches ahead only so far. */
  release(bytes: number): void;
  /** The consumer group's committed offsets: informational for lag tooling. */
  commit(offsets: Map<number, bigint>): Promise<void>;
  close(): Promise<void>;
}

/** Partitions and offsets of one topic, through kafkajs' admin client. */
export class TopicAdmin {
  private admin: Admin | undefined;

  constructor(
    private readonly kafka: Kafka,
    readonly topic: string,
    private readonly groupId: string,
    private readonly deadlineMs = ADMIN_DEADLINE_MS,
  ) {}

  private async adminClient(): Promise<Admin> {
    if (!this.admin) {
      this.admin = this.kafka.admin();
      await this.admin.connect();
    }
    return this.admin;
  }

  /**
   * `ask` with the admin client, within a deadline. After any failure the client is dropped and
   * the next question goes over fresh connections: a kafkajs connection cut mid-answer by a
   * broker's death never answers again (see fetch-loop.ts), and a restart waiting on it would
   * wait forever.
   */
  private async asking<T>(what: string, ask: (admin: Admin) => Promise<T>): Promise<T> {
    try {
      return await withDeadline((async () => ask(await this.adminClient()))(), this.deadlineMs, () => {
        return new StreamError('KAFKA_UNAVAILABLE', `no answer to ${what} of ${this.topic} within ${this.deadlineMs / 1000} s`, { details: { stalled: true } });
      });
    } catch (err) {
      letGo(this.admin);
      this.admin = undefined;
      throw err;
    }
  }

  async partitions(): Promise<number[]> {
    const meta = await this.asking('a metadata request', (admin) => admin.fetchTopicMetadata({ topics: [this.topic] })).catch((err: unknown) => {
      if (err instanceof StreamError && err.details.stalled === true) throw err;
      // A refused credential is not a missing topic: it must not be restarted onto again. A
      // broker that cannot be reached is an outage, not a missing topic either.
      const verdict = toStreamError(err, 'KAFKA_TOPIC_MISSING', 'kafka');
      if (verdict.code === 'KAFKA_AUTH_FAILED') throw verdict;
      const code = verdict.code === 'KAFKA_UNAVAILABLE' ? 'KAFKA_UNAVAILABLE' : 'KAFKA_TOPIC_MISSING';
      throw new StreamError(code, `topic ${this.topic} could not be described: ${(err as Error).message}`, { cause: err, retryable: true });
    });
    const parts = meta.topics[0]?.partitions.map((p) => p.partitionId).sort((a, b) => a - b) ?? [];
    if (parts.length === 0) throw new StreamError('KAFKA_TOPIC_MISSING', `topic ${this.topic} has no partitions`, { retryable: true });
    return parts;
  }

  async endOffsets(): Promise<Map<number, bigint>> {
    const offsets = await this.asking('a list-offsets request', (admin) => admin.fetchTopicOffsets(this.topic));
    return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  }

  /** Each partition's log start and end (the high watermark), as its leader lists them. */
  async offsetRanges(): Promise<Map<number, { logStart: bigint; end: bigint }>> {
    const offsets = await this.asking('a list-offsets request', (admin) => admin.fetchTopicOffsets(this.topic));
    return new Map(offsets.map((o) => [o.partition, { logStart: BigInt(o.low), end: BigInt(o.high) }]));
  }

  async initialOffsets(mode: ScanMode, timestampMs?: number): Promise<Map<number, bigint>> {
    return this.asking('a list-offsets request', (admin) => this.offsetsBy(admin, mode, timestampMs));
  }

  private async offsetsBy(admin: Admin, mode: ScanMode, timestampMs?: number): Promise<Map<number, bigint>> {
    const topicOffsets = await admin.fetchTopicOffsets(this.topic);
    const low = new Map(topicOffsets.map((o) => [o.partition, BigInt(o.low)]));
    const high = new Map(topicOffsets.map((o) => [o.partition, BigInt(o.high)]));
    switch (mode) {
      case 'earliest-offset':
        return low;
      case 'latest-offset':
        return high;
      case 'timestamp': {
        const byTime = await admin.fetchTopicOffsetsByTimestamp(this.topic, timestampMs);
        // -1: no record at or after the timestamp; start at the end, as Flink does.
        return new Map(byTime.map((o) => [o.partition, o.offset === '-1' ? high.get(o.partition)! : BigInt(o.offset)]));
      }
      case 'group-offsets': {
        // Committed offsets of the group; a partition without one starts at the earliest offset.
        const committed = await admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] });
        const out = new Map(low);
        for (const p of committed[0]?.partitions ?? []) {
          if (p.offset !== '-1') out.set(p.partition, BigInt(p.offset));
        }
        return out;
      }
    }
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.disconnect();
  }
}
