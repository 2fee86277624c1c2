// One pipeline (topic → transformation → table) while it runs: its source actors (one per
// partition), its sink actor (a worker thread), and its checkpoints. Built and torn down whole by
// the supervisor: a failure anywhere in it rejects `failed`, and the supervisor replaces the
// runner with a new one that starts again from the table's last committed offsets.
//
// Checkpoint N, for this pipeline:
//   1. every source actor puts barrier N into its ordered output, at its current offset;
//   2. the sink closes epoch N's files once barrier N arrived from every partition, and acks;
//   3. the dead-letter table is committed, then the table, each one snapshot whose summary holds
//      the next offset of every partition and the epoch; the catalog's compare-and-swap makes
//      files and offsets land together or not at all;
//   4. the same offsets go to the Kafka consumer group, for lag tooling only.
// The dead-letter table goes first: a crash between the two commits replays the epoch, and the
// sink drops the dead letters below the dead-letter table's own offsets (its "floor").

import { Worker } from 'node:worker_threads';
import type { Kafka } from 'kafkajs';
import { formatSqlType } from '../config/sql-types.js';
import type { AppConfig, PipelineConfig, SinkConfig } from '../config/types.js';
import { StreamError, deserializeError, toStreamError } from '../errors.js';
import type { Catalog, LoadedTable } from '../iceberg/catalog.js';
import type { TableMetadata } from '../iceberg/metadata.js';
import { commitAppend, latestSnapshotWithSummaryKey, type CommitOptions } from '../iceberg/commit.js';
import { openTable } from '../iceberg/table.js';
import type { FetchedChunk, TopicSource } from '../kafka/source.js';
import { ThreadedTopicSource } from '../kafka/threaded-source.js';
import type { RuntimeMetrics } from '../metrics/metrics.js';
import { DEAD_LETTER_COLUMNS } from '../transform/dead-letter.js';
import type { Logger } from './log.js';
import type { SinkCommand, SinkEvent } from './messages.js';
import { EPOCH_KEY, decodeOffsets, encodeOffsets, offsetsKey, type PartitionOffsets } from './offsets.js';
import { workerFile } from './paths.js';
import type { SinkActorInit } from './sink-actor.js';
import { DeadLetterTopic } from './dead-letter-topic.js';
import { shouldFail } from './faults.js';
import { SourceActor, type SourceOutput } from './source-actor.js';
import type { TransformPool } from './transform-pool.js';

export interface PipelineDeps {
  app: AppConfig;
  pipeline: PipelineConfig;
  catalog: Catalog;
  kafka: Kafka;
  pool: TransformPool;
  metrics: RuntimeMetrics;
  log: Logger;
  /** Stop each partition at the end offset seen at start. */
  bounded: boolean;
  /** Transform tasks in flight per partition before it is paused. */
  maxInFlightPerPartition?: number;
  /** Bytes sent to the sink and not yet consumed before every partition is paused. */
  sinkBufferBytes?: number;
  /** Arrow bytes the sink buffers per epoch before it writes files early. */
  sinkWriteBytes?: number;
  /** Fetched chunk bytes whose transform tasks have not settled before fetching waits. */
  fetchBufferBytes?: number;
  /** With `bounded`: the end offsets a previous run of this pipeline saw at its start. */
  boundedEnds?: PartitionOffsets | undefined;
}

interface Ack extends Extract<SinkEvent, { kind: 'checkpoint-ack' }> {}

export function deadLetterSink(pipeline: PipelineConfig): SinkConfig | null {
  if (pipeline.onError !== 'dlq' || pipeline.deadLetter.kind !== 'table') return null;
  return {
    tableNameRaw: pipeline.deadLetter.tableName,
    tableName: pipeline.deadLetter.tableName,
    schema: DEAD_LETTER_COLUMNS.map((c) => ({ name: c.name, type: c.type, typeText: formatSqlType(c.type) })),
    partitionBy: [],
    properties: pipeline.sink.properties,
  };
}

export class PipelineRunner {
  readonly id: string;
  /** Rejects when any part of the pipeline fails; never resolves. */
  readonly failed: Promise<never>;
  /** With `bounded`: resolves when every partition has reached its end offset. */
  readonly drained: Promise<void>;
  lastCommittedEpoch = 0;
  readonly lag = new Map<number, bigint>();

  private fail!: (err: StreamError) => void;
  private resolveDrained!: () => void;
  private readonly source: TopicSource;
  private sink: Worker | undefined;
  private table!: LoadedTable;
  private deadLetterTable: LoadedTable | undefined;
  private readonly actors = new Map<number, SourceActor>();
  private nextEpoch = 1;
  private committedOffsets: PartitionOffsets = new Map();
  private pendingCheckpoint: Promise<void> | undefined;
  private readonly acks = new Map<number, { resolve: (a: Ack) => void; reject: (e: StreamError) => void }>();
  private ends: PartitionOffsets | undefined;
  private readonly done = new Set<number>();
  private readonly pausedByFlow = new Set<number>();
  private pausedBySink = false;
  private buffered = 0;
  private closed = false;
  private readonly log: Logger;
  private readonly deadLetterTopic: DeadLetterTopic | undefined;
  /** Epoch each partition's rows belong to, as forwarded (for dead letters held on this thread). */
  private readonly forwardEpoch = new Map<number, number>();
  /** Epoch of the newest snapshot of ours in the dead-letter table (its commit fence). */
  private deadLetterEpoch: number | undefined;
  /** Next offset the consumer fetches per partition; past transaction markers, unlike nextOffset. */
  private readonly position = new Map<number, bigint>();
  private stopping: Promise<void> | undefined;
  /** The consumer group's copy of the last committed offsets, on its way. */
  private groupCommit: Promise<void> | undefined;
  private starting: Promise<void> | undefined;

  constructor(private readonly d: PipelineDeps) {
    this.id = d.pipeline.topic;
    this.log = d.log.child({ pipeline: this.id });
    this.source = new ThreadedTopicSource(d.kafka, d.app.kafka, d.pipeline.topic, d.pipeline.groupId, {
      isolationLevel: d.pipeline.isolationLevel,
      maxChunkRecords: d.app.runtime.batchRecords,
      maxBytesInFlight: d.fetchBufferBytes ?? 32 * 1024 * 1024,
      log: (level, msg, fields) => this.log.log(level, msg, fields),
    });
    const dl = d.pipeline.deadLetter;
    if (d.pipeline.onError === 'dlq' && dl.kind === 'topic') this.deadLetterTopic = new DeadLetterTopic(d.kafka, dl.topic);
    this.failed = new Promise<never>((_, reject) => {
      this.fail = (err) => {
        if (this.closed) return;
        reject(err);
      };
    });
    this.failed.catch(() => {});
    this.drained = new Promise((resolve) => (this.resolveDrained = resolve));
  }

  private get maxInFlight(): number {
    return this.d.maxInFlightPerPartition ?? 16;
  }

  private get sinkBudget(): number {
    return this.d.sinkBufferBytes ?? 64 * 1024 * 1024;
  }

  /** Opens the tables, recovers the offsets, starts the sink and the sources. */
  start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  /** Throws once close() was called, so a start cut short creates nothing more. */
  private checkOpen(): void {
    if (this.closed) throw new StreamError('PIPELINE_FAILED', `pipeline ${this.id} was closed while starting`, { retryable: true });
  }

  private async doStart(): Promise<void> {
    const { pipeline, catalog, app } = this.d;
    const ns = app.catalog.namespace;
    this.table = await openTable(catalog, ns, pipeline.sink);
    const dlqSink = deadLetterSink(pipeline);
    if (dlqSink) this.deadLetterTable = await openTable(catalog, ns, dlqSink);

    // Recovery: the newest snapshot this pipeline committed says where the table ends.
    const key = offsetsKey(pipeline.groupId);
    const last = latestSnapshotWithSummaryKey(this.table.metadata, key);
    const recovered = last ? decodeOffsets(pipeline.topic, last.summary[key]!) : new Map<number, bigint>();
    if (last) this.lastCommittedEpoch = Number(last.summary[EPOCH_KEY] ?? 0);
    this.nextEpoch = this.lastCommittedEpoch + 1;
    const dlqLast = this.deadLetterTable ? latestSnapshotWithSummaryKey(this.deadLetterTable.metadata, key) : undefined;
    const floor = dlqLast ? decodeOffsets(pipeline.topic, dlqLast.summary[key]!) : new Map<number, bigint>();
    this.deadLetterEpoch = dlqLast ? Number(dlqLast.summary[EPOCH_KEY] ?? 0) : undefined;

    this.checkOpen();
    const partitions = await this.source.partitions();
    const initial = await this.source.initialOffsets(pipeline.scanMode, pipeline.scanTimestampMs);
    this.checkOpen();
    const start = new Map<number, bigint>();
    for (const p of partitions) {
      start.set(p, recovered.get(p) ?? initial.get(p) ?? 0n);
      this.forwardEpoch.set(p, this.nextEpoch);
    }
    this.committedOffsets = new Map(start);
    if (!last) {
      // The first start's position goes into the table before anything is read: with
      // latest-offset (or a timestamp) a restart would otherwise start again from a later
      // "latest" and skip what arrived in between.
      const fence = this.fence(pipeline.sink.tableName, undefined);
      const summary = this.summary(0, start);
      const r = await commitAppend(catalog, this.table.ident, [], (base) => ({ ...fence(base), ...summary }));
      this.table = r.table;
    }
    this.log.log('info', last ? 'resuming from the last committed checkpoint' : `no checkpoint yet; starting by scan_mode ${pipeline.scanMode}`, {
      epoch: this.lastCommittedEpoch,
      offsets: Object.fromEntries(start),
    });

    if (this.d.bounded) {
      this.ends = this.d.boundedEnds ?? (await this.source.endOffsets());
      for (const p of partitions) if ((this.ends.get(p) ?? 0n) <= start.get(p)!) this.done.add(p);
    }
    this.checkOpen();

    await this.startSink({
      pipelineId: this.id,
      catalog: app.catalog,
      table: this.table,
      deadLetterTable: this.deadLetterTable ?? null,
      partitions,
      firstEpoch: this.nextEpoch,
      deadLetterFloor: [...floor],
      maxBufferedBytes: this.d.sinkWriteBytes ?? this.sinkBudget,
    });

    for (const p of partitions) {
      this.actors.set(
        p,
        new SourceActor({
          partition: p,
          startOffset: start.get(p)!,
          maxInFlight: this.maxInFlight,
          maxTaskAttempts: 3,
          endOffset: this.ends?.get(p),
          transform: (fetched, nowMs) => this.d.pool.run({ pipelineId: this.id, chunk: fetched.chunk, endOffset: this.ends?.get(p), nowMs }),
          forward: (out) => this.forward(out),
          backpressure: (paused) => this.flow(p, paused),
          fail: (err) => this.fail(err),
          settled: (fetched) => this.source.release(fetched.chunk.bytes.byteLength),
          retried: (err, attempt) => {
            this.d.metrics.actorRestarts.inc({ pipeline: this.id, actor: 'transform' });
            this.log.log('warn', 'transform task failed; retrying it', { partition: p, attempt, code: err.code, error: err.message });
          },
        }),
      );
    }
    this.checkOpen();
    await this.source.run(start, {
      onChunk: (fetched) => this.onChunk(fetched),
      onPosition: (partition, next) => this.onPosition(partition, next),
      onError: (err) => this.fail(err),
    });
    this.checkOpen();
    const finished = [...this.done];
    if (finished.length > 0) this.source.pause(finished);
    this.checkDrained();
  }

  private startSink(init: SinkActorInit): Promise<void> {
    const worker = new Worker(workerFile('sink-worker'), { workerData: init, name: `sink ${init.table.ident.name}` });
    this.sink = worker;
    return new Promise((resolve, reject) => {
      // Before 'ready' a dead worker must reject the start too, or the start would never settle.
      worker.on('error', (err) => {
        const e = new StreamError('ACTOR_FAILED', `sink actor of ${init.table.ident.name} crashed: ${err.message}`, { cause: err });
        reject(e);
        this.fail(e);
      });
      worker.on('exit', (code) => {
        const e = new StreamError('ACTOR_FAILED', `sink actor of ${init.table.ident.name} exited with code ${code}`);
        reject(e);
        if (!this.closed) this.fail(e);
      });
      worker.on('message', (event: SinkEvent) => {
        switch (event.kind) {
          case 'ready':
            resolve();
            return;
          case 'consumed':
            this.buffered -= event.bytes;
            this.d.metrics.bufferedBytes.set({ pipeline: this.id }, this.buffered);
            if (this.pausedBySink && this.buffered <= this.sinkBudget / 2) {
              this.pausedBySink = false;
              this.applyPauses();
            }
            return;
          case 'checkpoint-ack':
            this.acks.get(event.epoch)?.resolve(event);
            return;
          case 'failed': {
            const err = deserializeError(event.error);
            reject(err);
            this.fail(err);
            return;
          }
        }
      });
    });
  }

  /**
   * A chunk of one partition's record batches (at most batchRecords records, cut by the source at
   * batch boundaries so one fetch spreads over the whole pool). Bounded runs: the transform task
   * leaves out records at or past the partition's end, for the next run.
   */
  private onChunk(fetched: FetchedChunk): void {
    const p = fetched.partition;
    const actor = this.actors.get(p);
    if (!actor || this.closed || this.done.has(p)) {
      // Not taken (a bounded partition already at its end): its bytes are free at once, or the
      // source would count them against its room for good.
      this.source.release(fetched.chunk.bytes.byteLength);
      return;
    }
    actor.accept(fetched);
    const lag = fetched.highWatermark - actor.nextOffset;
    this.lag.set(p, lag > 0n ? lag : 0n);
    this.d.metrics.consumerLag.set({ pipeline: this.id, partition: String(p) }, Number(lag > 0n ? lag : 0n));
    this.checkEnd(p);
  }

  private onPosition(partition: number, next: bigint): void {
    if (next > (this.position.get(partition) ?? -1n)) this.position.set(partition, next);
    this.checkEnd(partition);
  }

  /** Bounded: a partition is done once the consumer is past its end (markers included). */
  private checkEnd(partition: number): void {
    const end = this.ends?.get(partition);
    const actor = this.actors.get(partition);
    if (end === undefined || !actor || this.done.has(partition)) return;
    const at = this.position.get(partition) ?? 0n;
    if (actor.nextOffset >= end || at >= end) {
      this.done.add(partition);
      this.source.pause([partition]);
      this.checkDrained();
    }
  }

  /** The end offsets of a bounded run, once started. */
  get boundedEnds(): PartitionOffsets | undefined {
    return this.ends;
  }

  /** Records consumed so far per partition (next offset to read). */
  positions(): Map<number, bigint> {
    return new Map([...this.actors].map(([p, a]) => [p, a.nextOffset]));
  }

  private checkDrained(): void {
    if (this.ends && this.done.size === this.actors.size) this.resolveDrained();
  }

  private flow(partition: number, paused: boolean): void {
    if (paused) this.pausedByFlow.add(partition);
    else this.pausedByFlow.delete(partition);
    this.applyPauses();
  }

  /** A partition fetches only if neither its own in-flight bound nor the sink's buffer holds it. */
  private applyPauses(): void {
    // While stopping every partition stays paused: the final checkpoint is being taken.
    if (this.closed || this.stopping) return;
    const pause: number[] = [];
    const resume: number[] = [];
    for (const p of this.actors.keys()) {
      if (this.done.has(p)) continue;
      if (this.pausedBySink || this.pausedByFlow.has(p)) pause.push(p);
      else resume.push(p);
    }
    this.source.pause(pause);
    this.source.resume(resume);
  }

  private forward(out: SourceOutput): void {
    const sink = this.sink;
    if (!sink || this.closed) return;
    if (out.kind === 'barrier') {
      this.forwardEpoch.set(out.partition, out.epoch + 1);
      sink.postMessage({ kind: 'barrier', epoch: out.epoch, partition: out.partition, nextOffset: out.nextOffset } satisfies SinkCommand);
      return;
    }
    const { result } = out;
    if (result.deadLetters && this.deadLetterTopic) {
      this.deadLetterTopic.add(this.forwardEpoch.get(out.partition)!, result.deadLetters);
      result.deadLetters = null;
    }
    const bytes = result.rows.byteLength + (result.deadLetters?.byteLength ?? 0);
    const m = this.d.metrics;
    const labels = { pipeline: this.id, partition: String(out.partition) };
    m.recordsIn.inc(labels, result.stats.records);
    m.bytesIn.inc(labels, result.valueBytes);
    m.recordsFiltered.inc({ pipeline: this.id }, result.stats.filtered);
    for (const [reason, n] of Object.entries(result.stats.deadLetters)) if (n > 0) m.deadLetters.inc({ pipeline: this.id, reason }, n);
    m.batchLatency.observe({ pipeline: this.id }, (Date.now() - out.fetchedAt) / 1000);
    const transfer = [result.rows.buffer as ArrayBuffer];
    if (result.deadLetters) transfer.push(result.deadLetters.buffer as ArrayBuffer);
    sink.postMessage({ kind: 'data', partition: out.partition, rows: result.rows, deadLetters: result.deadLetters, bytes } satisfies SinkCommand, transfer);
    this.buffered += bytes;
    m.bufferedBytes.set({ pipeline: this.id }, this.buffered);
    if (!this.pausedBySink && this.buffered > this.sinkBudget) {
      this.pausedBySink = true;
      this.applyPauses();
    }
  }

  /**
   * Takes checkpoint N: barriers, alignment at the sink, commit. One at a time: a trigger while
   * one is pending returns that one (Flink's max-concurrent-checkpoints = 1).
   */
  checkpoint(): Promise<void> {
    if (this.closed) return Promise.reject(new StreamError('CHECKPOINT_FAILED', `pipeline ${this.id} is closed`));
    if (this.pendingCheckpoint) return this.pendingCheckpoint;
    const epoch = this.nextEpoch++;
    const started = performance.now();
    const ack = new Promise<Ack>((resolve, reject) => this.acks.set(epoch, { resolve, reject }));
    for (const actor of this.actors.values()) actor.barrier(epoch);
    // A barrier held up forever (a transformation that never returns) must not hold the
    // pipeline forever: past the timeout the pipeline fails and restarts from its last commit.
    const timeoutMs = Math.max(60_000, 5 * this.d.app.runtime.checkpointIntervalMs);
    const timer = setTimeout(
      () => this.acks.get(epoch)?.reject(new StreamError('CHECKPOINT_FAILED', `checkpoint ${epoch} of ${this.id} did not complete within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    this.pendingCheckpoint = Promise.race([ack, this.failed])
      .then((a) => this.commit(a))
      .then(() => {
        this.d.metrics.checkpointDuration.observe({ pipeline: this.id }, (performance.now() - started) / 1000);
      })
      .catch((err: unknown) => {
        // The sink has already handed over and forgotten this epoch's files: going on would
        // commit the next epoch without them. Restart from the table instead.
        const e = toStreamError(err, 'CHECKPOINT_FAILED');
        this.fail(e);
        throw e;
      })
      .finally(() => {
        clearTimeout(timer);
        this.acks.delete(epoch);
        this.pendingCheckpoint = undefined;
      });
    return this.pendingCheckpoint;
  }

  private commitOptions(table: string): CommitOptions {
    return {
      onRetry: (err, attempt) => {
        this.d.metrics.commitRetries.inc({ pipeline: this.id, table });
        this.log.log('info', 'commit conflict; retrying on the new table head', { table, attempt, code: err.code });
      },
    };
  }

  private summary(epoch: number, offsets: PartitionOffsets): Record<string, string> {
    return { [offsetsKey(this.d.pipeline.groupId)]: encodeOffsets(this.d.pipeline.topic, offsets), [EPOCH_KEY]: String(epoch) };
  }

  /**
   * The commit fence: the newest snapshot of ours in the table we commit on top of must be the
   * one this runner last committed (or recovered from). Otherwise another runner of this
   * pipeline — a restart that overlapped a slow commit, a second process — has committed since,
   * and committing now would duplicate rows or move the offsets backwards. Not retryable: the
   * pipeline restarts and recovers from the table.
   */
  private fence(table: string, expectedEpoch: number | undefined): (base: TableMetadata) => Record<string, string> {
    const key = offsetsKey(this.d.pipeline.groupId);
    return (base) => {
      const last = latestSnapshotWithSummaryKey(base, key);
      const epoch = last ? Number(last.summary[EPOCH_KEY] ?? 0) : undefined;
      if (epoch !== expectedEpoch) {
        throw new StreamError('COMMIT_FAILED', `${table}: another writer committed epoch ${String(epoch)} of ${this.id} (this one expected ${String(expectedEpoch)}); restarting from the table`, {
          retryable: true,
          details: { actor: 'commit' },
        });
      }
      return {};
    };
  }

  private async commit(ack: Ack): Promise<void> {
    const { pipeline, catalog, metrics } = this.d;
    const offsets: PartitionOffsets = new Map(ack.offsets);
    const summary = this.summary(ack.epoch, offsets);
    const moved = [...offsets].some(([p, o]) => this.committedOffsets.get(p) !== o);
    try {
      await this.deadLetterTopic?.flush(ack.epoch);
      if (this.deadLetterTable && ack.deadLetterFiles.length > 0) {
        const dlq = this.deadLetterTable;
        const fence = this.fence(dlq.ident.name, this.deadLetterEpoch);
        const r = await commitAppend(catalog, dlq.ident, ack.deadLetterFiles, (base) => ({ ...fence(base), ...summary }), this.commitOptions(dlq.ident.name));
        this.deadLetterTable = r.table;
        this.deadLetterEpoch = ack.epoch;
        metrics.recordsOut.inc({ pipeline: this.id, table: dlq.ident.name }, ack.deadLetters);
      }
      // An epoch that moved no offset and wrote no file needs no snapshot.
      if (ack.files.length > 0 || moved) {
        if (shouldFail('commit-fail', this.id)) throw new StreamError('COMMIT_FAILED', `injected commit failure of epoch ${ack.epoch}`);
        const fence = this.fence(this.table.ident.name, this.lastCommittedEpoch);
        const r = await commitAppend(catalog, this.table.ident, ack.files, (base) => ({ ...fence(base), ...summary }), this.commitOptions(this.table.ident.name));
        this.table = r.table;
        this.lastCommittedEpoch = ack.epoch;
        metrics.recordsOut.inc({ pipeline: this.id, table: this.table.ident.name }, ack.rows);
      }
    } catch (err) {
      metrics.commitFailures.inc({ pipeline: this.id, table: pipeline.sink.tableName });
      throw toStreamError(err, 'COMMIT_FAILED');
    }
    this.committedOffsets = offsets;
    metrics.lastCompletedEpoch.set({ pipeline: this.id }, ack.epoch);
    metrics.checkpointSize.set({ pipeline: this.id }, ack.bytes);
    this.log.log('debug', 'checkpoint committed', { epoch: ack.epoch, rows: ack.rows, deadLetters: ack.deadLetters, files: ack.files.length });
    // Kafka's copy of the offsets is informational; failing to write it loses nothing, and a
    // checkpoint does not wait for it (kafkajs retries it for long during a rebalance).
    this.groupCommit = this.source.commit(offsets).catch((err: unknown) => this.log.log('warn', 'could not commit offsets to the consumer group', { error: (err as Error).message }));
  }

  /** Stops fetching, takes a final checkpoint, and shuts the pipeline down. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.source.pause([...this.actors.keys()]);
      // A checkpoint already under way has its barriers before records accepted since: the
      // final one must come after it, or those records would be left out of the last commit.
      if (this.pendingCheckpoint) await this.pendingCheckpoint;
      await this.checkpoint();
      // The final offsets should reach the group too (lag tools read them once the job is
      // gone), but a broker that does not answer must not hold the shutdown.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.groupCommit, new Promise((resolve) => (timer = setTimeout(resolve, 5_000)))]);
      clearTimeout(timer);
      await this.close();
    })();
    return this.stopping;
  }

  /** Tears everything down without committing; buffered rows are dropped (they will be re-read). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const { reject } of this.acks.values()) reject(new StreamError('CHECKPOINT_FAILED', `pipeline ${this.id} closed`));
    // A commit under way must finish (or fail) before a new runner reads the table; the fence
    // catches the rest.
    await this.pendingCheckpoint?.catch(() => {});
    await this.starting?.catch(() => {});
    await this.source.close();
    await this.deadLetterTopic?.close().catch(() => {});
    await this.sink?.terminate();
  }
}

