// `TopicAdmin` answers the few metadata questions about a topic (partitions, offsets by scan mode)
// through kafkajs' admin client, on the caller's thread; the fetch loop (fetch-loop.ts) and the
// runtime's source port (src/runtime/threads/source-port.ts) both use it.

import type { Kafka, Admin } from 'kafkajs';
import type { ScanMode } from '../config/types.js';
import { letGo, withDeadline } from '../deadline.js';
import { StreamError, toStreamError } from '../errors.js';

/** Above kafkajs' own request timeout (30 s) and its retries of a refused connection. */
const ADMIN_DEADLINE_MS = 90_000;

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
