// One pipeline (topic → transformation → table) while it runs: it wires its source actors (one
// per partition), its sink actor and its checkpoint coordinator together. Built and torn down
// whole by the supervisor: a failure anywhere in it rejects `failed`, and the supervisor replaces
// the runner with a new one that starts again from the table's last committed offsets.
//
// The runner constructs no thread and no client: its Kafka source, its sink and the dead-letter
// topic come from `PipelinePorts` (threaded-ports.ts in production), so it runs in tests on fakes.
// What it owns itself is the data path between them, in named parts: flow control
// (flow-control.ts: a partition fetches only while its own in-flight bound and the sink's buffer
// budget allow), a bounded run's end (bounded-end.ts), and where dead letters go (the table through
// the sink, or the dead-letter topic by the epoch each batch is stamped with). The checkpoint
// protocol (epochs, acks, commit order, fence, recovery) is checkpoint-coordinator.ts.
//
// The partition set is not fixed at start: partition discovery (partition-discovery.ts) adds
// partitions while running (`addPartitions`), each joining the checkpoint protocol at the epoch
// the next barrier will close.

import type { AppConfig, PipelineConfig, ScanMode } from '../config/types.js';
import { StreamError } from '../errors.js';
import { releaseBytes } from '../release-bytes.js';
import type { Catalog, TableIdentifier } from '../iceberg/catalog.js';
import { deadLetterSink } from '../config/dead-letter-sink.js';
import { openTable, writeTargetOf } from '../iceberg/table.js';
import type { WriteTarget } from '../iceberg/table-rows.js';
import type { RuntimeMetrics } from '../metrics/metrics.js';
import { BoundedEnd } from './bounded-end.js';
import { CheckpointCoordinator } from './checkpoint-coordinator.js';
import { FlowControl } from './flow-control.js';
import { PartitionDiscovery } from './partition-discovery.js';
import { TableMaintenance, maintenanceEnabled } from './table-maintenance.js';
import type { DeadLetterTopic } from './dead-letter-topic.js';
import type { Logger } from './log.js';
import type { PartitionOffsets } from '../iceberg/snapshot-offsets.js';
import type { PartitionOwnership } from '../iceberg/partition-claims.js';
import type { LoadedTable } from '../iceberg/catalog.js';
import type { Recovery } from './checkpoint-coordinator.js';
import type { SinkPort } from './threads/sink-port.js';
import type { RewritePort } from './threads/rewrite-port.js';
import { SourceActor, type SourceOutput } from './source-actor.js';
import type { FetchedChunk, TopicSource } from './threads/source-port.js';
import type { TransformTask, TransformTaskResult } from './threads/transform-messages.js';

/** Where a runner's parts come from. Each is called once per runner. */
export interface PipelinePorts {
  source(): TopicSource;
  sink(): SinkPort;
  /** With `dead_letter: { topic }`: dead letters held per epoch and sent before its commit. */
  deadLetterTopic?(topic: string): Pick<DeadLetterTopic, 'add' | 'flush' | 'close'>;
  /** Compaction's file rewriting off the main thread; without it, compaction rewrites on this one. */
  rewriter?(): RewritePort;
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
  /** Scale-out: read only the partitions the consumer group assigned this process. */
  assignment?: Assignment;
}

/** What the consumer group gave this process of a pipeline, and the claims that outlive a runner. */
export interface Assignment {
  partitions: readonly number[];
  /** The pipeline's claims in one table, kept by the supervisor across runners. */
  ownership(table: TableIdentifier): PartitionOwnership;
  /** Partitions another process has claimed since: this one no longer reads them. */
  fenced(partitions: number[]): void;
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
  private readonly flow: FlowControl;
  private readonly maintenance: TableMaintenance | undefined;
  private readonly actors = new Map<number, SourceActor>();
  /** With `bounded`, once started. */
  private end: BoundedEnd | undefined;
  /** Unbounded runs with a discovery interval, once started. */
  private discovery: PartitionDiscovery | undefined;
  private sinkStarted = false;
  private closed = false;
  private readonly log: Logger;
  private readonly deadLetterTopic: Pick<DeadLetterTopic, 'add' | 'flush' | 'close'> | undefined;
  /** The newest record timestamp forwarded per epoch not yet committed, for the freshness metric. */
  private readonly newestByEpoch = new Map<number, number>();
  private committedNewest = -Infinity;
  /** The newest record timestamp forwarded per partition, for the lag in seconds. */
  private readonly newestByPartition = new Map<number, number>();
  private stopping: Promise<void> | undefined;
  private starting: Promise<void> | undefined;
  /** The table the transform workers prepare rows for (its files' schema and spec), once started. */
  private writeTarget: WriteTarget | undefined;

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
    this.flow = new FlowControl({
      sinkBudget: this.sinkBudget,
      pause: (partitions) => this.source.pause(partitions),
      resume: (partitions) => this.source.resume(partitions),
      finished: (p) => this.end?.isDone(p) ?? false,
      buffered: (bytes) => d.metrics.bufferedBytes.set({ pipeline: this.id }, bytes),
    });
    const maintenance = d.app.runtime.maintenance;
    if (maintenanceEnabled(maintenance, d.app.catalog.type).enabled) {
      this.maintenance = new TableMaintenance({
        pipelineId: this.id,
        catalog: d.catalog,
        config: maintenance,
        managedCatalog: d.app.catalog.type === 's3tables',
        metrics: d.metrics,
        log: this.log,
        rewriter: d.ports.rewriter?.(),
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
    const { partitions, start, deadLetterFloor } = this.d.assignment
      ? await this.claimAssigned(this.d.assignment, recovery, table, deadLetterTable)
      : { ...(await this.startOffsets(recovery)), deadLetterFloor: recovery.deadLetterFloor };
    await this.coordinator.begin(start);
    const how = recovery.reset ? `position reset; starting by ${recovery.reset}` : `no checkpoint yet; starting by scan_mode ${pipeline.scanMode}`;
    this.log.log('info', recovery.offsets ? 'resuming from the last committed checkpoint' : how, {
      epoch: this.coordinator.lastCommittedEpoch,
      offsets: Object.fromEntries(start),
    });

    let finished: number[] = [];
    if (this.d.bounded) {
      this.end = new BoundedEnd(this.d.boundedEnds ?? (await this.source.endOffsets()), (p) => this.source.pause([p]));
      void this.end.drained.then(() => this.resolveDrained());
      finished = this.end.begin(start);
    }
    this.checkOpen();

    this.sinkStarted = true;
    // The sink writes for the table as loaded now; the workers prepare rows for the same.
    this.writeTarget = writeTargetOf(this.coordinator.table);
    // The sink's thread starts while the source's does: what is sent to the sink before its
    // actor runs waits in its port, in order (and counts against the sink's budget as ever).
    const sinkRunning = this.sink.start(
      {
        pipelineId: this.id,
        catalog: app.catalog,
        table: this.coordinator.table,
        deadLetterTable: this.coordinator.deadLetterTable ?? null,
        partitions,
        firstEpoch: recovery.firstEpoch,
        deadLetterFloor: [...deadLetterFloor],
        maxBufferedBytes: this.d.sinkWriteBytes ?? this.sinkBudget,
      },
      {
        onConsumed: (bytes) => this.flow.consumed(bytes),
        onAck: (ack) => this.coordinator.acknowledge(ack),
        onFailure: (err) => this.fail(err),
      },
    );

    for (const p of partitions) this.addActor(p, start.get(p)!, recovery.firstEpoch);
    this.d.metrics.sourcePartitions.set({ pipeline: this.id }, partitions.length);
    await Promise.all([
      sinkRunning,
      this.source.run(start, {
        onChunk: (fetched) => this.onChunk(fetched),
        onPosition: (partition, next) => this.onPosition(partition, next),
        onError: (err) => this.fail(err),
        onTrouble: (err) => {
          if (!this.closed) this.d.onSourceTrouble?.(err);
        },
      }),
    ]);
    this.checkOpen();
    if (finished.length > 0) this.source.pause(finished);
    this.end?.check();
    // A bounded run reads the partitions it saw at start and no others, as Flink's bounded
    // Kafka source turns discovery off. Under scale-out the group assigns new partitions.
    if (!this.d.bounded && !this.d.assignment) {
      this.discovery = new PartitionDiscovery(
        {
          topic: pipeline.topic,
          intervalMs: app.runtime.partitionDiscoveryIntervalMs ?? 0,
          list: () => this.source.partitions(),
          earliest: () => this.source.initialOffsets('earliest-offset'),
          open: () => !this.closed && this.stopping === undefined,
          add: (added) => this.addPartitions(added),
          log: this.log,
        },
        partitions,
      );
      this.discovery.start();
    }
  }

  /** Where each partition of the topic starts, when this process reads them all. */
  private async startOffsets(recovery: Recovery): Promise<{ partitions: number[]; start: Map<number, bigint> }> {
    const { pipeline } = this.d;
    const partitions = await this.source.partitions();
    const initial = recovery.reset ? await this.source.initialOffsets(recovery.reset) : await this.source.initialOffsets(pipeline.scanMode, pipeline.scanTimestampMs);
    this.checkOpen();
    // A partition the committed position does not hold was added to the topic since (while this
    // pipeline was down, or while it ran and before a checkpoint took it in): its records all
    // came after the pipeline started, so it starts from its earliest offset, as a partition
    // discovered while running does (partition-discovery.ts), never by scan_mode.
    const unheld = recovery.offsets ? partitions.filter((p) => !recovery.offsets!.has(p)) : [];
    const earliest = unheld.length > 0 ? await this.source.initialOffsets('earliest-offset') : new Map<number, bigint>();
    this.checkOpen();
    const start = new Map<number, bigint>();
    for (const p of partitions) start.set(p, recovery.offsets?.get(p) ?? earliest.get(p) ?? initial.get(p) ?? 0n);
    if (unheld.length > 0) {
      this.log.log('info', 'partitions without a committed offset start from their earliest offset', { partitions: unheld, offsets: Object.fromEntries(unheld.map((p) => [p, start.get(p)])) });
    }
    return { partitions, start };
  }

  /**
   * Scale-out: the assigned partitions this process still holds resume where the table says
   * (their last commit may or may not have landed); those another process claimed since are
   * given up; the rest are claimed, in the table and then in the dead-letter table, and resume
   * from the `next` each claim recorded. A partition the table never saw starts as a single
   * process would start it (earliest when the pipeline has a position already, else scan_mode).
   */
  private async claimAssigned(
    a: Assignment,
    recovery: Recovery,
    table: LoadedTable,
    deadLetterTable: LoadedTable | undefined,
  ): Promise<{ partitions: number[]; start: Map<number, bigint>; deadLetterFloor: PartitionOffsets }> {
    const { pipeline } = this.d;
    const inTopic = new Set(await this.source.partitions());
    const missing = a.partitions.filter((p) => !inTopic.has(p));
    if (missing.length > 0) throw new StreamError('KAFKA_TOPIC_MISSING', `topic ${pipeline.topic}: partitions ${missing.join(', ')} were assigned by the group but are not in the topic's metadata yet`, { retryable: true });
    const owned = a.ownership(table.ident);
    const ownedDeadLetters = deadLetterTable ? a.ownership(deadLetterTable.ident) : undefined;
    const r = owned.resume(table.metadata, a.partitions);
    const rd = ownedDeadLetters?.resume(deadLetterTable!.metadata, a.partitions);
    // Released and counted there, for every table of the pipeline.
    const fenced = [...new Set([...r.fenced, ...(rd?.fenced ?? [])])];
    if (fenced.length > 0) a.fenced(fenced);
    const keep = a.partitions.filter((p) => !fenced.includes(p));
    const { start, floors } = await this.claim(owned, ownedDeadLetters, keep, recovery.offsets !== undefined, recovery.reset ?? pipeline.scanMode, recovery.offsets);
    this.coordinator.own(owned, ownedDeadLetters);
    return { partitions: keep, start, deadLetterFloor: new Map([...recovery.deadLetterFloor, ...floors]) };
  }

  /**
   * Claims what `partitions` this process does not hold yet, in the table and then in the
   * dead-letter table; returns where each resumes (the table's `next` as held) and the
   * dead-letter table's `next` per partition, as held now (not as loaded at start: a previous
   * owner killed between its two commits left that table ahead), below which the sink drops
   * dead letters. A partition neither table has seen starts from `known` (a recovered offset),
   * or from earliest when the pipeline has a position already, else by `mode`.
   */
  private async claim(
    owned: PartitionOwnership,
    ownedDeadLetters: PartitionOwnership | undefined,
    partitions: readonly number[],
    hasPosition: boolean,
    mode: ScanMode,
    known?: PartitionOffsets,
  ): Promise<{ start: Map<number, bigint>; floors: Map<number, bigint> }> {
    const gained = partitions.filter((p) => !owned.held.has(p));
    const gainedDeadLetters = ownedDeadLetters ? partitions.filter((p) => !ownedDeadLetters.held.has(p)) : [];
    const initial = new Map<number, bigint>();
    if (gained.length > 0 || gainedDeadLetters.length > 0) {
      const offsets = hasPosition ? await this.source.initialOffsets('earliest-offset') : await this.source.initialOffsets(mode, this.d.pipeline.scanTimestampMs);
      for (const p of partitions) initial.set(p, known?.get(p) ?? offsets.get(p) ?? 0n);
    }
    this.checkOpen();
    const claimed = await owned.claim(new Map(gained.map((p) => [p, initial.get(p)!])));
    if (claimed.size > 0) {
      this.log.log('info', 'partitions claimed', { table: owned.ident.name, partitions: Object.fromEntries([...claimed].map(([p, next]) => [p, { epoch: owned.held.get(p)!.epoch, next: String(next) }])) });
    }
    await ownedDeadLetters?.claim(new Map(gainedDeadLetters.map((p) => [p, owned.held.get(p)!.next])));
    this.checkOpen();
    const start = new Map(partitions.map((p) => [p, owned.held.get(p)!.next]));
    const floors = new Map<number, bigint>();
    for (const p of partitions) {
      const at = ownedDeadLetters?.held.get(p)?.next;
      if (at !== undefined) floors.set(p, at);
    }
    return { start, floors };
  }

  /**
   * Scale-out: partitions the group gave this process while it runs. They are claimed (in the
   * table, then the dead-letter table) and join at the next epoch like discovered partitions, so
   * the partitions already read go on without a stop. A claim the table refuses fails the
   * pipeline, which restarts on its whole assignment.
   */
  async gain(partitions: readonly number[]): Promise<void> {
    const a = this.d.assignment;
    if (!a) throw new StreamError('PIPELINE_FAILED', `pipeline ${this.id}: partitions gained without scale-out`);
    const fresh = partitions.filter((p) => !this.actors.has(p));
    if (fresh.length === 0 || this.closed || this.stopping) return;
    const dlq = this.coordinator.deadLetterTable;
    const owned = a.ownership(this.coordinator.table.ident);
    const ownedDeadLetters = dlq ? a.ownership(dlq.ident) : undefined;
    // This runner holds partitions, so the group's position exists: new ones start from earliest.
    const { start, floors } = await this.claim(owned, ownedDeadLetters, fresh, true, this.d.pipeline.scanMode);
    this.addPartitions(start, floors);
  }

  /** One pass of partition discovery now (the interval's timer does the same); resolves with the partitions added. */
  discoverPartitions(): Promise<number[]> {
    return this.discovery?.discover() ?? Promise.resolve([]);
  }

  /**
   * Partitions discovered while running join the pipeline. Each joins the checkpoint protocol at
   * the epoch the next trigger will number: a checkpoint under way injected its barriers before
   * the partition existed here, so it closes without it, and the sink is told before any of the
   * partition's rows (the sink port is ordered) so that the next epoch's alignment waits for it.
   * Its offset is in every commit from that epoch on; until then a restart finds no offset for it
   * and starts it from its earliest offset again, so what it read before is neither lost nor
   * doubled. The actor exists before the source fetches the partition, so no chunk finds none.
   */
  private addPartitions(start: Map<number, bigint>, deadLetterFloors?: ReadonlyMap<number, bigint>): void {
    const firstEpoch = this.coordinator.upcomingEpoch;
    const added = new Map([...start].filter(([p]) => !this.actors.has(p)));
    for (const [p, offset] of added) {
      const floor = deadLetterFloors?.get(p);
      this.sink.send({ kind: 'add-partition', partition: p, firstEpoch, ...(floor !== undefined ? { deadLetterFloor: floor } : {}) });
      this.addActor(p, offset, firstEpoch);
    }
    this.source.add(added);
    this.d.metrics.sourcePartitions.set({ pipeline: this.id }, this.actors.size);
  }

  private addActor(p: number, startOffset: bigint, firstEpoch: number): void {
    const endOffset = this.end?.ends.get(p);
    this.flow.add(p);
    this.actors.set(
      p,
      new SourceActor({
        partition: p,
        startOffset,
        firstEpoch,
        maxInFlight: this.maxInFlight,
        maxTaskAttempts: 3,
        endOffset,
        transform: (fetched, nowMs) => this.d.pool.run({ pipelineId: this.id, chunk: fetched.chunk, endOffset, nowMs, target: this.writeTarget }),
        forward: (out) => this.forward(out),
        backpressure: (paused) => this.flow.backpressure(p, paused),
        fail: (err) => this.fail(err),
        settled: (fetched, result) => {
          this.source.release(fetched.chunk, result?.valueBytes);
          // The pool worked on a copy; no retry can come now, so the bytes go at once.
          releaseBytes(fetched.chunk.bytes);
        },
        retried: (err, attempt) => {
          this.d.metrics.actorRestarts.inc({ pipeline: this.id, actor: 'transform' });
          this.log.log('warn', 'transform task failed; retrying it', { partition: p, attempt, code: err.code, error: err.message });
        },
      }),
    );
  }

  /**
   * A chunk of one partition's record batches (at most batchRecords records, cut by the source at
   * batch boundaries so one fetch spreads over the whole pool). Bounded runs: the transform task
   * leaves out records at or past the partition's end, for the next run.
   */
  private onChunk(fetched: FetchedChunk): void {
    const p = fetched.partition;
    const actor = this.actors.get(p);
    if (!actor || this.closed || this.end?.isDone(p)) {
      // Not taken (a bounded partition already at its end): its bytes are free at once, or the
      // source would count them against its room for good.
      this.source.release(fetched.chunk);
      return;
    }
    actor.accept(fetched);
    const lag = fetched.highWatermark - actor.nextOffset;
    this.lag.set(p, lag > 0n ? lag : 0n);
    this.d.metrics.consumerLag.set({ pipeline: this.id, partition: String(p) }, Number(lag > 0n ? lag : 0n));
    this.lagSeconds(p);
    this.end?.reached(p, actor.nextOffset);
  }

  private onPosition(partition: number, next: bigint): void {
    const actor = this.actors.get(partition);
    if (actor) this.end?.moved(partition, next, actor.nextOffset);
  }

  /** The end offsets of a bounded run, once started. */
  get boundedEnds(): PartitionOffsets | undefined {
    return this.end?.ends;
  }

  /** Records consumed so far per partition (next offset to read). */
  positions(): Map<number, bigint> {
    return new Map([...this.actors].map(([p, a]) => [p, a.nextOffset]));
  }

  private forward(out: SourceOutput): void {
    if (!this.sinkStarted || this.closed) return;
    if (out.kind === 'barrier') {
      this.sink.send({ kind: 'barrier', epoch: out.epoch, partition: out.partition, nextOffset: out.nextOffset });
      return;
    }
    const { result } = out;
    if (result.deadLetters && this.deadLetterTopic) {
      // Held by the epoch the batch was stamped with, and sent before that epoch commits.
      this.deadLetterTopic.add(out.epoch, result.deadLetters);
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
    const newest = result.stats.newestTimestampMs;
    if (newest !== undefined) {
      if (newest > (this.newestByEpoch.get(out.epoch) ?? -Infinity)) this.newestByEpoch.set(out.epoch, newest);
      if (newest > (this.newestByPartition.get(out.partition) ?? -Infinity)) this.newestByPartition.set(out.partition, newest);
      this.lagSeconds(out.partition);
    }
    this.sink.send({ kind: 'data', partition: out.partition, rows: result.rows, parts: result.parts, deadLetters: result.deadLetters, bytes });
    this.flow.sent(bytes);
  }

  /**
   * How far behind a partition's reader is in time: now minus the newest record timestamp read
   * from it while records are left to read; 0 once caught up (an idle topic is not late).
   */
  private lagSeconds(p: number): void {
    const newest = this.newestByPartition.get(p);
    const behind = (this.lag.get(p) ?? 0n) > 0n && newest !== undefined ? Math.max(0, (Date.now() - newest) / 1000) : 0;
    this.d.metrics.consumerLagSeconds.set({ pipeline: this.id, partition: String(p) }, behind);
  }

  /** Takes the next checkpoint (see CheckpointCoordinator.trigger). */
  checkpoint(): Promise<void> {
    if (this.closed) return Promise.reject(new StreamError('CHECKPOINT_FAILED', `pipeline ${this.id} is closed`));
    return this.coordinator.trigger().then(() => this.completed());
  }

  /**
   * Nothing to checkpoint (CheckpointCoordinator.quiet): no record read since the last commit of
   * this runner. The supervisor's timer skips such a pipeline (`skipQuiet`), so one at rest costs
   * no barrier round through its threads every interval; a stop still takes its final checkpoint.
   */
  get quiet(): boolean {
    return !this.closed && this.stopping === undefined && this.coordinator.quiet(this.positions());
  }

  /** A checkpoint skipped for having nothing to do counts as completed, as one that ran and committed nothing would. */
  skipQuiet(): void {
    this.d.metrics.checkpointCompletedAt.set({ pipeline: this.id }, Date.now() / 1000);
  }

  /** A checkpoint completed: everything stamped with its epoch or an earlier one is in the table. */
  private completed(): void {
    const epoch = this.coordinator.lastCommittedEpoch;
    for (const [e, newest] of this.newestByEpoch) {
      if (e > epoch) continue;
      if (newest > this.committedNewest) this.committedNewest = newest;
      this.newestByEpoch.delete(e);
    }
    const m = this.d.metrics;
    m.checkpointCompletedAt.set({ pipeline: this.id }, Date.now() / 1000);
    if (this.committedNewest > -Infinity) m.committedEventTime.set({ pipeline: this.id }, this.committedNewest / 1000);
  }

  /** Stops fetching, takes a final checkpoint, and shuts the pipeline down. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.discovery?.stop();
      // Every partition stays paused from here: the final checkpoint is being taken.
      this.source.pause([...this.actors.keys()]);
      this.flow.freeze();
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
    this.discovery?.stop();
    this.flow.freeze();
    await this.coordinator.close();
    await this.maintenance?.close();
    await this.starting?.catch(() => {});
    await this.source.close();
    await this.deadLetterTopic?.close().catch(() => {});
    if (this.sinkStarted) await this.sink.close();
  }
}
