// One pipeline (topic → transformation → table) while it runs: it wires its source actors (one
// per partition), its sink actor and its checkpoint coordinator together. Built and torn down
// whole by the supervisor: a failure anywhere in it rejects `failed`, and the supervisor replaces
// the runner with a new one that starts again from the table's last committed offsets.
//
// The runner constructs no thread and no client: its Kafka source, its sink and the dead-letter
// topic come from `PipelinePorts` (threaded-ports.ts in production), so it runs in tests on fakes.
// What it owns itself is the data path between them and its flow control: a partition fetches
// only while its own in-flight bound and the sink's buffer budget allow. The checkpoint protocol
// (epochs, acks, commit order, fence, recovery) is checkpoint-coordinator.ts.

import type { AppConfig, PipelineConfig } from '../config/types.js';
import { StreamError } from '../errors.js';
import type { Catalog, TableIdentifier } from '../iceberg/catalog.js';
import { deadLetterSink } from '../config/dead-letter-sink.js';
import { openTable } from '../iceberg/table.js';
import type { FetchedChunk, TopicSource } from '../kafka/source.js';
import type { RuntimeMetrics } from '../metrics/metrics.js';
import { CheckpointCoordinator } from './checkpoint-coordinator.js';
import { TableMaintenance, maintenanceEnabled } from './table-maintenance.js';
import type { DeadLetterTopic } from './dead-letter-topic.js';
import type { Logger } from './log.js';
import type { TransformTask, TransformTaskResult } from './messages.js';
import type { PartitionOffsets } from '../iceberg/snapshot-offsets.js';
import type { SinkPort } from './sink-port.js';
import { SourceActor, type SourceOutput } from './source-actor.js';

/** Where a runner's parts come from. Each is called once per runner. */
export interface PipelinePorts {
  source(): TopicSource;
  sink(): SinkPort;
  /** With `dead_letter: { topic }`: dead letters held per epoch and sent before its commit. */
  deadLetterTopic?(topic: string): Pick<DeadLetterTopic, 'add' | 'flush' | 'close'>;
}

/** The transform step as the runner sees it (TransformPool in production). */
export interface Transformer {
  run(task: TransformTask): Promise<TransformTaskResult>;
}

export interface PipelineDeps {
  app: AppConfig;
  pipeline: PipelineConfig;
  catalog: Catalog;
  ports: PipelinePorts;
  pool: Transformer;
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
  /** With `bounded`: the end offsets a previous run of this pipeline saw at its start. */
  boundedEnds?: PartitionOffsets | undefined;
  /** The source rides out a broker outage (the error), or fetches again (undefined). */
  onSourceTrouble?(err: StreamError | undefined): void;
}

export class PipelineRunner {
  readonly id: string;
  /** Rejects when any part of the pipeline fails; never resolves. */
  readonly failed: Promise<never>;
  /** With `bounded`: resolves when every partition has reached its end offset. */
  readonly drained: Promise<void>;
  readonly lag = new Map<number, bigint>();

  private fail!: (err: StreamError) => void;
  private resolveDrained!: () => void;
  private readonly source: TopicSource;
  private readonly sink: SinkPort;
  private readonly coordinator: CheckpointCoordinator;
  private readonly maintenance: TableMaintenance | undefined;
  private readonly actors = new Map<number, SourceActor>();
  private ends: PartitionOffsets | undefined;
  private readonly done = new Set<number>();
  private readonly pausedByFlow = new Set<number>();
  private pausedBySink = false;
  private buffered = 0;
  private sinkStarted = false;
  private closed = false;
  private readonly log: Logger;
  private readonly deadLetterTopic: Pick<DeadLetterTopic, 'add' | 'flush' | 'close'> | undefined;
  /**
   * The epoch each partition's rows belong to as forwarded (the one after its last barrier), for
   * dead letters held on this thread. It follows the barriers; the coordinator numbers them.
   */
  private readonly forwardEpoch = new Map<number, number>();
  /** Next offset the consumer fetches per partition; past transaction markers, unlike nextOffset. */
  private readonly position = new Map<number, bigint>();
  private stopping: Promise<void> | undefined;
  private starting: Promise<void> | undefined;

  constructor(private readonly d: PipelineDeps) {
    this.id = d.pipeline.topic;
    this.log = d.log.child({ pipeline: this.id });
    this.source = d.ports.source();
    this.sink = d.ports.sink();
    const dl = d.pipeline.deadLetter;
    if (d.pipeline.onError === 'dlq' && dl.kind === 'topic') this.deadLetterTopic = d.ports.deadLetterTopic?.(dl.topic);
    this.failed = new Promise<never>((_, reject) => {
      this.fail = (err) => {
        if (this.closed) return;
        reject(err);
      };
    });
    this.failed.catch(() => {});
    this.drained = new Promise((resolve) => (this.resolveDrained = resolve));
    const maintenance = d.app.runtime.maintenance;
    if (maintenanceEnabled(maintenance, d.app.catalog.type).enabled) {
      this.maintenance = new TableMaintenance({
        pipelineId: this.id,
        catalog: d.catalog,
        config: maintenance,
        managedCatalog: d.app.catalog.type === 's3tables',
        metrics: d.metrics,
        log: this.log,
      });
    }
    this.coordinator = new CheckpointCoordinator({
      pipelineId: this.id,
      topic: d.pipeline.topic,
      groupId: d.pipeline.groupId,
      catalog: d.catalog,
      metrics: d.metrics,
      log: this.log,
      injectBarriers: (epoch) => {
        for (const actor of this.actors.values()) actor.barrier(epoch);
      },
      ...(this.deadLetterTopic ? { flushDeadLetters: (epoch: number) => this.deadLetterTopic!.flush(epoch) } : {}),
      commitGroupOffsets: (offsets) => this.source.commit(offsets),
      failed: this.failed,
      fail: (err) => this.fail(err),
      ackTimeoutMs: Math.max(60_000, 5 * d.app.runtime.checkpointIntervalMs),
      ...(this.maintenance ? { committed: (table: TableIdentifier) => this.maintenance!.afterCommit(table) } : {}),
    });
  }

  /** Epoch of the newest committed checkpoint (recovered or taken). */
  get lastCommittedEpoch(): number {
    return this.coordinator.lastCommittedEpoch;
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
    const table = await openTable(catalog, ns, pipeline.sink);
    const dlqSink = deadLetterSink(pipeline);
    const deadLetterTable = dlqSink ? await openTable(catalog, ns, dlqSink) : undefined;
    const recovery = this.coordinator.recover(table, deadLetterTable);

    this.checkOpen();
    const partitions = await this.source.partitions();
    const initial = await this.source.initialOffsets(pipeline.scanMode, pipeline.scanTimestampMs);
    this.checkOpen();
    const start = new Map<number, bigint>();
    for (const p of partitions) {
      start.set(p, recovery.offsets?.get(p) ?? initial.get(p) ?? 0n);
      this.forwardEpoch.set(p, recovery.firstEpoch);
    }
    await this.coordinator.begin(start);
    this.log.log('info', recovery.offsets ? 'resuming from the last committed checkpoint' : `no checkpoint yet; starting by scan_mode ${pipeline.scanMode}`, {
      epoch: this.coordinator.lastCommittedEpoch,
      offsets: Object.fromEntries(start),
    });

    if (this.d.bounded) {
      this.ends = this.d.boundedEnds ?? (await this.source.endOffsets());
      for (const p of partitions) if ((this.ends.get(p) ?? 0n) <= start.get(p)!) this.done.add(p);
    }
    this.checkOpen();

    this.sinkStarted = true;
    await this.sink.start(
      {
        pipelineId: this.id,
        catalog: app.catalog,
        table: this.coordinator.table,
        deadLetterTable: this.coordinator.deadLetterTable ?? null,
        partitions,
        firstEpoch: recovery.firstEpoch,
        deadLetterFloor: [...recovery.deadLetterFloor],
        maxBufferedBytes: this.d.sinkWriteBytes ?? this.sinkBudget,
      },
      {
        onConsumed: (bytes) => this.onConsumed(bytes),
        onAck: (ack) => this.coordinator.acknowledge(ack),
        onFailure: (err) => this.fail(err),
      },
    );

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
      onTrouble: (err) => {
        if (!this.closed) this.d.onSourceTrouble?.(err);
      },
    });
    this.checkOpen();
    const finished = [...this.done];
    if (finished.length > 0) this.source.pause(finished);
    this.checkDrained();
  }

  /** The sink took data off its queue: below half the budget, paused partitions fetch again. */
  private onConsumed(bytes: number): void {
    this.buffered -= bytes;
    this.d.metrics.bufferedBytes.set({ pipeline: this.id }, this.buffered);
    if (this.pausedBySink && this.buffered <= this.sinkBudget / 2) {
      this.pausedBySink = false;
      this.applyPauses();
    }
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
    if (!this.sinkStarted || this.closed) return;
    if (out.kind === 'barrier') {
      this.forwardEpoch.set(out.partition, out.epoch + 1);
      this.sink.send({ kind: 'barrier', epoch: out.epoch, partition: out.partition, nextOffset: out.nextOffset });
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
    this.sink.send({ kind: 'data', partition: out.partition, rows: result.rows, deadLetters: result.deadLetters, bytes });
    this.buffered += bytes;
    m.bufferedBytes.set({ pipeline: this.id }, this.buffered);
    if (!this.pausedBySink && this.buffered > this.sinkBudget) {
      this.pausedBySink = true;
      this.applyPauses();
    }
  }

  /** Takes the next checkpoint (see CheckpointCoordinator.trigger). */
  checkpoint(): Promise<void> {
    if (this.closed) return Promise.reject(new StreamError('CHECKPOINT_FAILED', `pipeline ${this.id} is closed`));
    return this.coordinator.trigger();
  }

  /** Stops fetching, takes a final checkpoint, and shuts the pipeline down. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.source.pause([...this.actors.keys()]);
      // A checkpoint already under way has its barriers before records accepted since: the
      // final one must come after it, or those records would be left out of the last commit.
      if (this.coordinator.pending) await this.coordinator.pending;
      await this.checkpoint();
      // The final offsets should reach the group too (lag tools read them once the job is
      // gone), but a broker that does not answer must not hold the shutdown.
      await this.coordinator.settleGroupCommit(5_000);
      await this.close();
    })();
    return this.stopping;
  }

  /** Tears everything down without committing; buffered rows are dropped (they will be re-read). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.coordinator.close();
    await this.maintenance?.close();
    await this.starting?.catch(() => {});
    await this.source.close();
    await this.deadLetterTopic?.close().catch(() => {});
    if (this.sinkStarted) await this.sink.close();
  }
}
