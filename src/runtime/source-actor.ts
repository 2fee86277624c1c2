// The source actor of one topic-partition: hands each chunk of record batches to the transform pool, keeps the
// results in partition order, forwards them to the table's sink actor, and puts a barrier into
// that ordered stream when the coordinator asks — right after the last record it accepted, so
// the barrier's offset and the rows before it describe the same records.
//
// Ordering hazard: transform tasks of one partition run concurrently on different workers and
// finish in any order. Results are forwarded strictly in submission order (a queue drained from
// its head only), otherwise a barrier could overtake rows that belong before it.

import { StreamError, toStreamError } from '../errors.js';
import type { FetchedChunk } from './threads/source-port.js';
import type { TransformTaskResult } from './threads/transform-messages.js';

export type SourceOutput =
  /** `epoch`: the checkpoint the rows belong to — the one after the partition's last barrier. */
  | { kind: 'data'; partition: number; epoch: number; result: TransformTaskResult; fetchedAt: number }
  | { kind: 'barrier'; epoch: number; partition: number; nextOffset: bigint };

type Entry =
  | { kind: 'batch'; done: boolean; result?: TransformTaskResult; fetchedAt: number }
  | { kind: 'barrier'; epoch: number; nextOffset: bigint };

export interface SourceActorOptions {
  partition: number;
  /** Offset of the first record this actor will accept. */
  startOffset: bigint;
  /** The epoch of the first checkpoint after the recovered one: rows before any barrier belong to it. */
  firstEpoch: number;
  /** Transform tasks in flight before the partition is paused. */
  maxInFlight: number;
  /** Retries of a task whose worker died or threw a retryable error. */
  maxTaskAttempts: number;
  /** A bounded run's end: records at or past it are not this run's. */
  endOffset?: bigint | undefined;
  /** `nowMs` is fixed per batch, so a retried task computes CURRENT_TIMESTAMP the same way. */
  transform: (fetched: FetchedChunk, nowMs: number) => Promise<TransformTaskResult>;
  forward: (out: SourceOutput) => void;
  /** Called with true when the actor wants its partition paused, false to resume. */
  backpressure: (paused: boolean) => void;
  fail: (err: StreamError) => void;
  /** A chunk's task settled (done with its result, or failed for good): the actor holds its bytes no longer. */
  settled?: (fetched: FetchedChunk, result?: TransformTaskResult) => void;
  /** A task failed and is being run again (on a fresh worker if its worker died). */
  retried: (err: StreamError, attempt: number) => void;
}

export class SourceActor {
  readonly partition: number;
  /** One past the last offset accepted (handed to the transform pool). */
  nextOffset: bigint;
  private readonly queue: Entry[] = [];
  private inFlight = 0;
  private paused = false;
  private failed = false;
  private idleWaiters: Array<() => void> = [];
  /**
   * The epoch of the rows forwarded next. It follows the barriers in the order they are forwarded,
   * so each batch is stamped where it stands in the stream; the coordinator alone numbers epochs.
   */
  private epoch: number;

  constructor(private readonly o: SourceActorOptions) {
    this.partition = o.partition;
    this.nextOffset = o.startOffset;
    this.epoch = o.firstEpoch;
  }

  accept(fetched: FetchedChunk): void {
    if (this.failed) return;
    const next = fetched.chunk.nextOffset;
    const end = this.o.endOffset;
    this.nextOffset = end !== undefined && next > end ? end : next;
    const entry: Entry = { kind: 'batch', done: false, fetchedAt: Date.now() };
    this.queue.push(entry);
    this.inFlight++;
    if (!this.paused && this.inFlight >= this.o.maxInFlight) {
      this.paused = true;
      this.o.backpressure(true);
    }
    void this.run(fetched).then(
      (result) => {
        this.o.settled?.(fetched, result);
        entry.done = true;
        entry.result = result;
        this.inFlight--;
        if (this.paused && this.inFlight <= this.o.maxInFlight / 2) {
          this.paused = false;
          this.o.backpressure(false);
        }
        this.drain();
      },
      (err: unknown) => {
        this.o.settled?.(fetched);
        this.failed = true;
        this.o.fail(toStreamError(err, 'ACTOR_FAILED'));
      },
    );
  }

  /** A barrier after everything accepted so far; it reaches the sink after those rows. */
  barrier(epoch: number): void {
    if (this.failed) return;
    this.queue.push({ kind: 'barrier', epoch, nextOffset: this.nextOffset });
    this.drain();
  }

  /** Resolves when no task is in flight and everything queued has been forwarded. */
  idle(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get pending(): number {
    return this.queue.length;
  }

  private async run(fetched: FetchedChunk): Promise<TransformTaskResult> {
    const nowMs = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.o.transform(fetched, nowMs);
      } catch (err) {
        const e = toStreamError(err, 'WORKER_CRASHED');
        // A task is a pure function of its batch: running it again cannot duplicate rows, since
        // only the one result that arrives is forwarded.
        if (!e.retryable || attempt >= this.o.maxTaskAttempts) {
          // Named by the records it held, so an operator can find them (and a poison record among
          // them) with any Kafka tool; code and retryable stay the cause's, which decides.
          const { topic, fromOffset, nextOffset } = fetched.chunk;
          throw new StreamError(e.code, `transform of topic ${topic} partition ${this.partition} offsets ${fromOffset}..${nextOffset - 1n} failed after ${attempt} attempt(s): ${e.message}`, {
            cause: e,
            retryable: e.retryable,
            details: { topic, partition: this.partition, firstOffset: String(fromOffset), lastOffset: String(nextOffset - 1n), attempts: attempt },
          });
        }
        this.o.retried(e, attempt);
      }
    }
  }

  private drain(): void {
    while (this.queue.length > 0 && !this.failed) {
      const head = this.queue[0]!;
      if (head.kind === 'batch') {
        if (!head.done) return;
        this.queue.shift();
        this.o.forward({ kind: 'data', partition: this.partition, epoch: this.epoch, result: head.result!, fetchedAt: head.fetchedAt });
      } else {
        this.queue.shift();
        this.epoch = head.epoch + 1;
        this.o.forward({ kind: 'barrier', epoch: head.epoch, partition: this.partition, nextOffset: head.nextOffset });
      }
    }
    if (this.queue.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
