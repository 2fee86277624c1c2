// The fetch loop of one topic: Fetch requests to each partition leader, answers kept as bytes and
// cut into record chunks at batch boundaries (record-chunks.ts), handed on without decoding. It
// owns each partition's fetch position; nothing here joins the consumer group — this process
// owns every partition of its topics, and the group's offsets are written for lag tools only, as
// a standalone member (generation -1), which Kafka accepts while the group has no members.
//
// Errors, as Kafka's own consumer treats them:
// - NOT_LEADER_OR_FOLLOWER, leader epochs, a leader not available, an unknown partition right
//   after creation, a broken connection: refresh metadata and fetch again after a backoff, for as
//   long as it lasts, logging once when it starts and once when it ends;
// - a topic the broker does not know (deleted, or another cluster now answers at the address):
//   KAFKA_TOPIC_MISSING, ridden out the same way with backoff. Hazard: kafkajs answers a leader
//   question for a topic missing from its metadata with no leaders at all, and a round that sends
//   nothing finishes without awaiting any I/O — looping on it held a core and starved the
//   thread's message port, so a round with partitions but no leader is never "done";
// - OFFSET_OUT_OF_RANGE: asked again once after a metadata refresh (the answer may come from a
//   follower behind, or a leader just replaced); then resolved by the leader's offset range as
//   offset-reset.ts says (below the log start: from the log start, logged; past the end: by the
//   reset policy, logged; inside: fetched again, nothing skipped);
// - an authentication failure, or any other error code: the source fails, naming it;
// - fairness: partitions are asked for in an order that rotates, starved ones first
//   (fetch-order.ts), so a busy partition never keeps another from its records;
// - after any failed round the cluster (every connection) is replaced, not reconnected: a kafkajs
//   connection keeps the bytes it had buffered of an answer cut off by a broker's death, and
//   reads every later answer on a new socket after them, so nothing on it is ever answered again
//   (each request times out). A round that gets no answer at all within a deadline is abandoned
//   the same way; answers that arrive late for an abandoned round are dropped, so they cannot
//   move a position twice.

import type { Kafka } from 'kafkajs';
import { letGo, withDeadline } from '../deadline.js';
import { StreamError, toStreamError } from '../errors.js';
import { OFFSET_OUT_OF_RANGE, RETRY_AFTER_METADATA, TOPIC_UNKNOWN, leaderless, topicMissing } from './fetch-errors.js';
import { FetchOrder } from './fetch-order.js';
import { parseFetchResponse, type FetchResponse } from './fetch-response.js';
import { clusterOf, fetchV11Request, type KafkajsCluster } from './kafkajs-cluster.js';
import { resolveOutOfRange, type OffsetResetPolicy } from './offset-reset.js';
import { splitRecords, type RecordChunk } from './record-chunks.js';
import { TopicAdmin } from './source.js';

export type IsolationLevel = 'read_committed' | 'read_uncommitted';

export interface FetchOptions {
  isolationLevel: IsolationLevel;
  /** Most records per chunk (one transform task). */
  maxChunkRecords: number;
  /** A fetch waits at most this long for data (a long poll on an idle topic). */
  maxWaitMs?: number;
  /**
   * The long poll after a round that brought no records, while no partition is paused: an idle
   * topic is asked this seldom, and any record written ends the wait at once (minBytes 1).
   * Default 5 s. Never while a partition is paused, whose resume would wait out the poll.
   */
  idleMaxWaitMs?: number;
  /** Bytes one partition may return per fetch. */
  partitionMaxBytes?: number;
  /** Bytes one fetch may return over all its partitions. */
  maxBytes?: number;
  /**
   * Chunk weight (bytes, compressed batches as inflated) handed on and not yet released (their
   * transform tasks still running or queued): past this the loop stops fetching until `release`
   * makes room. This is what bounds the source's memory, whatever the backlog.
   */
  maxBytesInFlight: number;
  /**
   * How long a round of fetches (connecting included) may go unanswered beyond `maxWaitMs` before
   * it is abandoned and the connections replaced. Above kafkajs' own request timeout (30 s), which
   * ends a lost request first whenever it still can.
   */
  stallMs?: number;
  /** Where a position past the end of its partition goes (offset-reset.ts); default `earliest`. */
  offsetReset?: OffsetResetPolicy;
}

/** A released chunk's decoded size: the bytes of its compressed batches, and of its values once decoded. */
export interface InflationSample {
  compressedBytes: number;
  valueBytes: number;
}

export interface FetchHandlers {
  /** A chunk of one partition, in offset order per partition; its buffer may be transferred. */
  onChunk(chunk: RecordChunk, highWatermark: bigint): void;
  /** Where a partition's next fetch starts: moves past markers and aborted records too. */
  onPosition(partition: number, next: bigint): void;
  onError(err: StreamError): void;
  /** Fetching started failing for a reason that passes (the error), or works again (undefined). */
  trouble?(err: StreamError | undefined): void;
  log(level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void;
}

const ISOLATION = { read_uncommitted: 0, read_committed: 1 } as const;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const DEFAULT_STALL_MS = 40_000;
/**
 * What a compressed batch is taken to inflate to before any has been decoded. W1's 258 MB of seed
 * JSON in the benchmark topics (1 MB batches) is 84 MB on the broker in Snappy, 87 MB in LZ4 and
 * 57 MB in zstd (3.1x, 3.0x, 4.5x); the first decoded chunks replace the guess.
 */
const ASSUMED_INFLATION = 4;
/** Each decoded chunk's share in the running average of the inflation. */
const INFLATION_SMOOTHING = 0.125;
/** Closing waits this long for kafkajs to let go of its connections, which a lost request can hold. */
const CLOSE_DEADLINE_MS = 5_000;
/** A consumer group commit is informational: it must not hold anything up for long. */
const COMMIT_DEADLINE_MS = 30_000;

export class FetchLoop {
  private cluster: KafkajsCluster;
  /** Bumped when a failed round is abandoned: answers to an older round are dropped. */
  private round = 0;
  private connected = false;
  private readonly positions = new Map<number, bigint>();
  private readonly paused = new Set<number>();
  private closed = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly admin: TopicAdmin;
  /** Set while fetches fail for reasons that pass (a broker restarting); logged on change only. */
  private trouble: string | undefined;
  private backoffMs = 0;
  /** Set when a partition of the current round answered with an error that passes. */
  private troubledRound = false;
  private bytesInFlight = 0;
  /**
   * How many times its compressed bytes a compressed batch's values take once decoded: a guess
   * until the first compressed chunks come back decoded (`release`), then their running
   * average. Without it the room for chunks in flight would hold compressed bytes, so a Snappy
   * topic of JSON (~3x) would keep about three times the records of an uncompressed one in flight.
   */
  private inflation = ASSUMED_INFLATION;
  private readonly order = new FetchOrder();
  /** OFFSET_OUT_OF_RANGE answers in a row per partition: the first is asked again before anything moves. */
  private readonly outOfRange = new Map<number, number>();
  /** The last round brought no records: the next may wait longer (idleMaxWaitMs). */
  private idle = false;
  private sawRecords = false;
  /** The long poll of the round under way. */
  private waitMs = 500;

  constructor(
    kafka: Kafka,
    readonly topic: string,
    private readonly groupId: string,
    private readonly o: FetchOptions,
    private readonly newCluster: () => KafkajsCluster = () => clusterOf(kafka),
  ) {
    this.cluster = newCluster();
    this.admin = new TopicAdmin(kafka, topic, groupId);
  }

  /** Connects and starts fetching every partition of `start` from its offset; resolves once running. */
  async run(start: Map<number, bigint>, h: FetchHandlers): Promise<void> {
    for (const [p, o] of start) this.positions.set(p, o);
    // Connected here, so that a broker refusing us fails the start rather than the first round.
    await this.connect(this.cluster, this.round);
    this.loop = this.fetchUntilClosed(h).catch((err: unknown) => {
      if (!this.closed) h.onError(err instanceof StreamError ? err : new StreamError('KAFKA_UNAVAILABLE', `fetching ${this.topic}: ${(err as Error).message}`, { cause: err }));
    });
  }

  /**
   * Partitions discovered while running, fetched from `start` from the next round on. A partition
   * already fetched keeps its position: moving it would skip or repeat records. Its leader may not
   * be in the cached metadata yet; the round's leaderless check refreshes it.
   */
  add(start: Map<number, bigint>): void {
    for (const [p, o] of start) if (!this.positions.has(p)) this.positions.set(p, o);
    this.wake?.();
  }

  pause(partitions: number[]): void {
    for (const p of partitions) this.paused.add(p);
  }

  resume(partitions: number[]): void {
    for (const p of partitions) this.paused.delete(p);
    this.wake?.();
  }

  /**
   * A chunk the runtime is done with (its task settled), by the `weight` it was handed over with:
   * room for the next fetch. `decoded`, when its records were decoded, teaches the loop how far
   * its compressed batches inflate.
   */
  release(weight: number, decoded?: InflationSample): void {
    this.bytesInFlight -= weight;
    if (decoded !== undefined && decoded.compressedBytes > 0 && decoded.valueBytes >= 0) {
      const ratio = Math.max(1, decoded.valueBytes / decoded.compressedBytes);
      this.inflation += (ratio - this.inflation) * INFLATION_SMOOTHING;
    }
    if (this.bytesInFlight < this.o.maxBytesInFlight) this.wake?.();
  }

  private async fetchUntilClosed(h: FetchHandlers): Promise<void> {
    while (!this.closed) {
      const ready = this.bytesInFlight >= this.o.maxBytesInFlight ? [] : this.order.next([...this.positions.keys()].filter((p) => !this.paused.has(p)));
      if (ready.length === 0) {
        // Paused everywhere, or out of room: wait for a resume or a release (or close), never spin.
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, 1_000);
        });
        this.wake = undefined;
        continue;
      }
      const round = this.round;
      this.troubledRound = false;
      this.sawRecords = false;
      this.waitMs = this.idle && this.paused.size === 0 ? (this.o.idleMaxWaitMs ?? 5_000) : (this.o.maxWaitMs ?? 500);
      const stallMs = this.waitMs + (this.o.stallMs ?? DEFAULT_STALL_MS);
      try {
        await withDeadline(this.fetchRound(ready, round, h), stallMs, () => {
          return new StreamError('KAFKA_UNAVAILABLE', `no answer to a fetch of ${this.topic} within ${stallMs / 1000} s`, { details: { topic: this.topic, stalled: true } });
        });
        this.idle = !this.sawRecords;
        // A round whose partitions answered with errors is no proof that fetching works again.
        if (!this.troubledRound) this.recovered(h);
      } catch (err) {
        if (this.closed) return;
        if (err instanceof StreamError && err.details.stalled === true) {
          h.log('warn', 'a fetch got no answer in time; replacing the broker connections', { topic: this.topic, seconds: stallMs / 1000 });
        }
        this.idle = false;
        this.abandon();
        await this.passing(err, h);
      }
    }
  }

  /** Connects `cluster` once; a round abandoned meanwhile leaves its successor's state alone. */
  private async connect(cluster: KafkajsCluster, round: number): Promise<void> {
    if (this.connected) return;
    await cluster.connect();
    await cluster.addTargetTopic(this.topic);
    if (round === this.round) this.connected = true;
  }

  private async fetchRound(ready: number[], round: number, h: FetchHandlers): Promise<void> {
    // The round's own cluster: an abandoned round never touches its successor's.
    const cluster = this.cluster;
    await this.connect(cluster, round);
    if (round !== this.round) return;
    let leaders = cluster.findLeaderForPartitions(this.topic, ready);
    if (leaderless(leaders, ready).length > 0) {
      // Metadata may be stale (a topic recreated, partitions added): ask once more, then give up
      // the round. A kafkajs refresh for a topic the broker does not know throws UNKNOWN_TOPIC_OR_PARTITION.
      await cluster.refreshMetadata();
      if (round !== this.round) return;
      leaders = cluster.findLeaderForPartitions(this.topic, ready);
      const missing = leaderless(leaders, ready);
      if (missing.length > 0) {
        throw new StreamError('KAFKA_TOPIC_MISSING', `the broker's metadata has no leader for partition(s) ${missing.join(', ')} of topic ${this.topic}: it was deleted, or this is not the cluster that holds it`, {
          details: { topic: this.topic, partitions: missing },
        });
      }
    }
    // One fetch per leader at a time; with several leaders the loop goes at the pace of the
    // slowest answer, which under load is a full one and on an idle topic the long poll.
    await Promise.all(Object.entries(leaders).map(([leader, parts]) => this.fetchFrom(cluster, Number(leader), parts, round, h)));
  }

  /** A round failed: its connections are beyond trust. Fresh ones, and its late answers dropped. */
  private abandon(): void {
    this.round++;
    const stale = this.cluster;
    this.cluster = this.newCluster();
    this.connected = false;
    letGo(stale);
  }

  private async fetchFrom(cluster: KafkajsCluster, nodeId: number, partitions: number[], round: number, h: FetchHandlers): Promise<void> {
    const broker = await cluster.findBroker({ nodeId });
    const asked = new Map(partitions.map((p) => [p, this.positions.get(p)!]));
    const request = fetchV11Request({
      replicaId: -1,
      maxWaitTime: this.waitMs,
      minBytes: 1,
      maxBytes: this.o.maxBytes ?? 16 * 1024 * 1024,
      isolationLevel: ISOLATION[this.o.isolationLevel],
      topics: [{ topic: this.topic, partitions: partitions.map((p) => ({ partition: p, fetchOffset: asked.get(p)!.toString(), maxBytes: this.o.partitionMaxBytes ?? 1024 * 1024 })) }],
    });
    const res = await broker.connectionPool.send<FetchResponse>({
      request,
      response: {
        decode: async (payload) => {
          const value = parseFetchResponse(payload);
          return { clientSideThrottleTime: value.throttleTimeMs, value };
        },
        parse: async (decoded) => decoded.value,
      },
    });
    // An answer to an abandoned round: its positions may have moved on since.
    if (round !== this.round || this.closed) return;
    if (res.errorCode !== 0) throw new StreamError('KAFKA_PROTOCOL', `Fetch of ${this.topic} failed with error code ${res.errorCode}`);
    let metadataStale = false;
    // The broker returns an oversized batch whole only to the first partition with data (KIP-74).
    let dataBefore = false;
    for (const t of res.topics) {
      if (t.topic !== this.topic) continue;
      for (const part of t.partitions) {
        const p = part.partition;
        const from = asked.get(p);
        const first = !dataBefore;
        if (part.records.byteLength > 0) dataBefore = this.sawRecords = true;
        // A reset or a close while the fetch was out makes its answer stale.
        if (from === undefined || this.positions.get(p) !== from || this.closed) continue;
        if (part.errorCode !== OFFSET_OUT_OF_RANGE) this.outOfRange.delete(p);
        if (part.errorCode === 0) {
          const committed = this.o.isolationLevel === 'read_committed';
          const { chunks, nextOffset, incomplete } = splitRecords(this.topic, p, part.records, from, committed ? (part.abortedTransactions ?? []) : null, this.o.maxChunkRecords);
          if (incomplete && first) {
            // First with data, yet not one whole batch: the broker broke KIP-74, and asking
            // again would get the same answer.
            throw new StreamError('KAFKA_PROTOCOL', `fetch of ${this.topic}-${p} at offset ${from} returned ${part.records.byteLength} bytes without a complete record batch`, {
              details: { topic: this.topic, partition: p, offset: String(from) },
            });
          }
          // Records past the position, and none came back: a byte limit kept them out.
          const readable = committed ? part.lastStableOffset : part.highWatermark;
          if (chunks.length === 0 && (incomplete || readable > from)) this.order.starve(p);
          else this.order.fed(p);
          for (const c of chunks) {
            c.weight = Math.round(c.bytes.byteLength + c.compressedBytes * (this.inflation - 1));
            this.bytesInFlight += c.weight;
            h.onChunk(c, part.highWatermark);
          }
          if (nextOffset !== from) {
            this.positions.set(p, nextOffset);
            h.onPosition(p, nextOffset);
          }
        } else if (part.errorCode === OFFSET_OUT_OF_RANGE) {
          const times = (this.outOfRange.get(p) ?? 0) + 1;
          this.outOfRange.set(p, times);
          // The first answer may be a follower's or a replaced leader's: asked again first.
          if (times === 1 || (await this.resetOutOfRange(p, from, times, h)) === 'retry') metadataStale = true;
        } else if (RETRY_AFTER_METADATA.has(part.errorCode)) {
          metadataStale = true;
          const reason = `${RETRY_AFTER_METADATA.get(part.errorCode)} for partition ${p}`;
          const code = TOPIC_UNKNOWN.has(part.errorCode) ? 'KAFKA_TOPIC_MISSING' : 'KAFKA_UNAVAILABLE';
          this.troubled(reason, new StreamError(code, `fetching ${this.topic}: ${reason}`, { details: { topic: this.topic, partition: p, errorCode: part.errorCode } }), h);
        } else {
          // Authorization and the like: waiting does not mend them.
          throw new StreamError('KAFKA_PROTOCOL', `Fetch of ${this.topic}-${p} at offset ${from} failed with error code ${part.errorCode}`, {
            retryable: false,
            details: { topic: this.topic, partition: p, offset: String(from), errorCode: part.errorCode },
          });
        }
      }
    }
    if (metadataStale) {
      await cluster.refreshMetadata();
      await sleep(200);
    }
  }

  /** Resolves a repeated OFFSET_OUT_OF_RANGE by the leader's range (offset-reset.ts); 'retry' when nothing moved. */
  private async resetOutOfRange(partition: number, from: bigint, times: number, h: FetchHandlers): Promise<'retry' | 'moved'> {
    const range = (await this.admin.offsetRanges()).get(partition);
    if (range === undefined) {
      throw new StreamError('KAFKA_TOPIC_MISSING', `partition ${partition} of topic ${this.topic} is no longer listed by the broker`, { details: { topic: this.topic, partition } });
    }
    const decision = resolveOutOfRange(from, range.logStart, range.end, this.o.offsetReset ?? 'earliest');
    const fields = { topic: this.topic, partition, position: String(from), logStart: String(range.logStart), end: String(range.end) };
    if (decision.kind === 'retry') {
      if (times === 2) h.log('warn', 'the broker answered OFFSET_OUT_OF_RANGE for a position inside the partition; fetching it again, skipping nothing', fields);
      const reason = `OFFSET_OUT_OF_RANGE ${times} times for partition ${partition} at offset ${from}, inside its range ${range.logStart}..${range.end}`;
      if (times >= 3) this.troubled(reason, new StreamError('KAFKA_PROTOCOL', `fetching ${this.topic}: ${reason}`, { details: fields }), h);
      return 'retry';
    }
    if (this.positions.get(partition) !== from) return 'moved';
    if (decision.kind === 'retention') {
      h.log('error', 'records were deleted by retention before they were read; continuing from the log start', {
        ...fields,
        lostFrom: String(decision.lostFrom),
        lostTo: String(decision.lostTo),
        lost: String(decision.lostTo - decision.lostFrom),
      });
    } else if (decision.policy === 'earliest') {
      h.log('error', 'the fetch position is past the end of the partition (recreated or truncated); reading again from the log start (offset reset earliest)', {
        ...fields,
        resetTo: String(decision.to),
      });
    } else {
      h.log('error', 'the fetch position is past the end of the partition (recreated or truncated); continuing from its end (offset reset latest), skipping what the partition holds', {
        ...fields,
        resetTo: String(decision.to),
        skippedFrom: String(range.logStart),
        skippedTo: String(range.end),
      });
    }
    this.outOfRange.delete(partition);
    this.positions.set(partition, decision.to);
    h.onPosition(partition, decision.to);
    return 'moved';
  }

  /** A failure that passes by itself: backoff (capped), log on the first of a run of them. */
  private async passing(err: unknown, h: FetchHandlers): Promise<void> {
    const e = toStreamError(err, 'KAFKA_UNAVAILABLE', 'kafka');
    // A refused credential, a missing authorization, a corrupt batch: waiting does not mend them.
    if (!e.retryable) throw err instanceof StreamError ? err : new StreamError(e.code, `fetching ${this.topic}: ${e.message}`, { cause: e, retryable: false });
    // Only the broker's and the connection's failures pass by waiting; anything else is a defect
    // here, and the pipeline's restart policy handles it.
    const name = (err as Error | undefined)?.name ?? '';
    if (!(err instanceof StreamError) && !name.startsWith('KafkaJS')) {
      throw new StreamError('ACTOR_FAILED', `fetch loop of ${this.topic} failed: ${e.message}`, { cause: e });
    }
    this.troubled(`${name || e.code}: ${e.message}`, topicMissing(this.topic, err, e) ?? e, h);
    this.backoffMs = Math.min(Math.max(this.backoffMs * 2, 250), 10_000);
    // The next round connects a fresh cluster, which reads the metadata anew.
    await sleep(this.backoffMs);
  }

  private troubled(reason: string, e: StreamError, h: FetchHandlers): void {
    if (this.trouble === undefined) {
      h.log('warn', 'fetching is failing; retrying until it passes', { topic: this.topic, reason });
      h.trouble?.(e);
    }
    this.trouble = reason;
    this.troubledRound = true;
  }

  private recovered(h: FetchHandlers): void {
    if (this.trouble === undefined) return;
    h.log('info', 'fetching works again', { topic: this.topic, after: this.trouble });
    h.trouble?.(undefined);
    this.trouble = undefined;
    this.backoffMs = 0;
  }

  /**
   * The consumer group's committed offsets, for lag tools. Written as a standalone member
   * (generation -1, no member id): the group has no members, since nothing here joins it.
   */
  async commit(offsets: Map<number, bigint>): Promise<void> {
    if (offsets.size === 0 || this.closed) return;
    const commit = async () => {
      const coordinator = await this.cluster.findGroupCoordinator({ groupId: this.groupId });
      await coordinator.offsetCommit({
        groupId: this.groupId,
        groupGenerationId: -1,
        memberId: '',
        topics: [{ topic: this.topic, partitions: [...offsets].map(([partition, offset]) => ({ partition, offset: offset.toString() })) }],
      });
    };
    await withDeadline(commit(), COMMIT_DEADLINE_MS, () => new StreamError('KAFKA_UNAVAILABLE', `no answer to the group commit of ${this.topic} within ${COMMIT_DEADLINE_MS / 1000} s`));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    // Disconnected first: a long poll under way then ends at once instead of holding the close
    // for up to idleMaxWaitMs; the loop drops its answer (or error), being closed.
    const closing = Promise.allSettled([this.cluster.disconnect(), this.admin.close()]);
    await this.loop?.catch(() => {});
    await withDeadline(closing, CLOSE_DEADLINE_MS, () => new Error('close')).catch(() => {});
  }
}

