// The supervisor: builds every enabled pipeline from the configuration, drives the checkpoint
// clock, restarts a failed pipeline by the restart policy while the others go on, reports
// progress, and on SIGTERM/SIGINT (or, bounded, when every partition reached its end) stops each
// pipeline with a final checkpoint.
//
// Outages (restart-policy.ts): a pipeline whose broker, catalog or warehouse is away is
// `degraded` — one log line when the outage begins (its code and reason), one when it is proven
// over (with its duration), none per attempt — and retried with capped backoff for as long as it
// lasts, without counting toward `max_failures`.

import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import type { AppConfig, PipelineConfig } from '../config/types.js';
import { errorFields, toStreamError, type StreamError } from '../errors.js';
import { createCatalog } from '../iceberg/catalogs.js';
import { maintenanceEnabled } from './table-maintenance.js';
import { type Catalog } from '../iceberg/catalog.js';
import { createKafka } from '../kafka/client.js';
import { RuntimeMetrics } from '../metrics/metrics.js';
import { startMetricsServer, type MetricsServer, type Readiness } from '../metrics/server.js';
import { compileTransforms } from '../transform/compile-all.js';
import type { Logger } from './log.js';
import type { PartitionOffsets } from '../iceberg/snapshot-offsets.js';
import { PipelineLifecycle } from './pipeline-lifecycle.js';
import { PipelineRunner } from './pipeline-runner.js';
import { GroupAssignment } from './group-assignment.js';
import { fencedPartitions } from '../iceberg/partition-claims.js';
import { RestartTracker } from './restart-policy.js';
import { sinkThreads } from './threads/sink-thread.js';
import { sourceThreads } from './threads/source-thread.js';
import { threadedPorts, type SharedThreads } from './threads/threaded-ports.js';
import { TransformPool } from './threads/transform-pool.js';

export interface SupervisorOptions {
  config: AppConfig;
  bounded: boolean;
  log: Logger;
  registry?: Registry;
  /** Print progress lines this often (0: never). */
  progressIntervalMs?: number;
}

interface Slot {
  pipeline: PipelineConfig;
  tracker: RestartTracker;
  runner: PipelineRunner | undefined;
  lifecycle: PipelineLifecycle;
  boundedEnds: PartitionOffsets | undefined;
  restartTimer: NodeJS.Timeout | undefined;
  lastRecords: number;
  /** The runner's start has resolved: it takes checkpoints and can be stopped with one. */
  live: boolean;
  /** Scale-out: the pipeline's membership of its consumer group. */
  group: GroupAssignment | undefined;
  /** Scale-out: assignment changes and restarts, one at a time. */
  chain: Promise<void>;
}

/**
 * Whether `runner` still holds its slot. A runner that failed was released from its slot and a new
 * one may hold it since; the old runner's late reports (its failed promise, a final checkpoint that
 * settles after a failure) must decide nothing.
 */
function holds(slot: Slot, runner: PipelineRunner): boolean {
  return slot.runner === runner;
}

export class Supervisor {
  readonly metrics: RuntimeMetrics;
  private catalog!: Catalog;
  private kafka!: Kafka;
  private pool!: TransformPool;
  /** The threads every pipeline's sources and sinks share, at most runtime.actor_threads each. */
  private threads: SharedThreads | undefined;
  private server: MetricsServer | undefined;
  private readonly slots = new Map<string, Slot>();
  private stopping = false;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private finish!: () => void;
  private readonly finished = new Promise<void>((resolve) => (this.finish = resolve));

  constructor(private readonly o: SupervisorOptions) {
    this.metrics = new RuntimeMetrics(o.registry ?? new Registry());
  }

  get metricsPort(): number | undefined {
    return this.server?.port;
  }

  /**
   * Ready when every enabled pipeline is running. Degraded, restarting, failed and still-starting
   * pipelines make the process not ready, and are named; so does a process still starting up,
   * before its pipelines exist. A bounded run that finished is stopped, and not ready either: it
   * takes no more records.
   */
  readiness(): Readiness {
    const pipelines: Record<string, string> = {};
    for (const [id, slot] of this.slots) pipelines[id] = slot.lifecycle.state;
    const states = Object.values(pipelines);
    return { ready: !this.stopping && states.length > 0 && states.every((s) => s === 'running'), pipelines };
  }

  async start(): Promise<void> {
    const { config, log } = this.o;
    this.metrics.checkpointInterval.set(config.runtime.checkpointIntervalMs / 1000);
    const specs = await compileTransforms(config);
    this.catalog = await createCatalog(config.catalog);
    this.kafka = createKafka(config.kafka);
    this.pool = new TransformPool(specs, config.runtime.parallelism);
    this.threads = { sources: sourceThreads(config.runtime.actorThreads), sinks: sinkThreads(config.runtime.actorThreads) };
    if (config.runtime.metricsPort !== 0 || process.env.STREAMBERG_METRICS_EPHEMERAL === '1') {
      const port = process.env.STREAMBERG_METRICS_EPHEMERAL === '1' ? 0 : config.runtime.metricsPort;
      this.server = await startMetricsServer(this.metrics.registry, port, undefined, { readiness: () => this.readiness() });
      log.log('info', `metrics on http://127.0.0.1:${this.server.port}/metrics`, { metricsPort: this.server.port });
    }
    const maintenance = maintenanceEnabled(config.runtime.maintenance, config.catalog.type);
    log.log('info', `table maintenance by the runtime ${maintenance.enabled ? 'on' : 'off'}: ${maintenance.reason}`);
    for (const p of config.pipelines.filter((x) => x.enabled)) {
      const lifecycle = new PipelineLifecycle(p.topic, (state) => this.metrics.setState(p.topic, state));
      const slot: Slot = { pipeline: p, tracker: new RestartTracker(config.runtime.restart), runner: undefined, lifecycle, boundedEnds: undefined, restartTimer: undefined, lastRecords: 0, live: false, group: undefined, chain: Promise.resolve() };
      this.slots.set(p.topic, slot);
    }
    const scaleOut = config.runtime.scaleOut;
    if (scaleOut) {
      log.log('info', `scale-out: member ${scaleOut.member}; each pipeline reads the partitions its consumer group assigns`, { member: scaleOut.member, protocol: scaleOut.protocol });
      await Promise.all([...this.slots.values()].map((s) => this.joinGroup(s)));
    } else await Promise.all([...this.slots.values()].map((s) => this.launch(s)));
    this.checkpointTimer = setInterval(() => this.triggerCheckpoints(), config.runtime.checkpointIntervalMs);
    const every = this.o.progressIntervalMs ?? 5000;
    if (every > 0) this.progressTimer = setInterval(() => this.progress(every), every);
    this.checkFinished();
  }

  /** Resolves when every pipeline has stopped or failed for good. */
  wait(): Promise<void> {
    return this.finished;
  }

  /** Whether any pipeline ended failed. */
  get anyFailed(): boolean {
    return [...this.slots.values()].some((s) => s.lifecycle.state === 'failed');
  }

  /** Whether `runner` may still decide its slot's state: it holds the slot and stop() has not taken over. */
  private decides(slot: Slot, runner: PipelineRunner): boolean {
    return holds(slot, runner) && !this.stopping;
  }

  private async launch(slot: Slot): Promise<void> {
    if (this.stopping || slot.lifecycle.final) return;
    const { config, log } = this.o;
    const id = slot.pipeline.topic;
    // During an outage the pipeline stays degraded while it tries again.
    slot.lifecycle.to(slot.tracker.outage ? 'degraded' : 'starting');
    slot.live = false;
    if (slot.group && slot.group.current().length === 0) {
      // A standby: the group gave this process nothing of the topic (yet).
      slot.runner = undefined;
      this.metrics.sourcePartitions.set({ pipeline: id }, 0);
      this.recovered(slot, { kind: 'started' });
      slot.lifecycle.to('running');
      log.log('info', 'pipeline standing by: no partition assigned to this process', { pipeline: id });
      return;
    }
    const { fetchBufferBytes, ...sinkShares } = memoryShares(config.runtime.memoryBudgetBytes, this.slots.size);
    const runner = new PipelineRunner({
      app: config,
      pipeline: slot.pipeline,
      catalog: this.catalog,
      ports: threadedPorts(this.kafka, config, slot.pipeline, log, fetchBufferBytes, this.threads!),
      pool: this.pool,
      metrics: this.metrics,
      log,
      bounded: this.o.bounded,
      boundedEnds: slot.boundedEnds,
      onSourceTrouble: (err) => this.onSourceTrouble(slot, runner, err),
      ...(slot.group ? { assignment: slot.group.forRunner() } : {}),
      ...sinkShares,
    });
    slot.runner = runner;
    try {
      await Promise.race([runner.start(), runner.failed]);
    } catch (err) {
      await this.onFailure(slot, runner, err);
      return;
    }
    // stop() may have run while this runner was starting: it owns the slot's state now.
    if (!this.decides(slot, runner)) return;
    slot.boundedEnds = runner.boundedEnds;
    slot.live = true;
    this.recovered(slot, { kind: 'started' });
    slot.lifecycle.to(slot.tracker.outage ? 'degraded' : 'running');
    log.log(slot.tracker.outage ? 'debug' : 'info', 'pipeline running', { pipeline: id, table: slot.pipeline.sink.tableName, epoch: runner.lastCommittedEpoch });
    runner.failed.catch((err: unknown) => void this.onFailure(slot, runner, err));
    if (this.o.bounded) {
      void runner.drained.then(async () => {
        if (!this.decides(slot, runner)) return;
        try {
          slot.lifecycle.to('stopping');
          await runner.stop();
          // A failure reported while the final checkpoint settled has claimed the slot (and
          // scheduled the restart): this runner no longer decides its state.
          if (!holds(slot, runner)) return;
          this.recovered(slot, { kind: 'commit', epoch: runner.lastCommittedEpoch });
          slot.lifecycle.to('stopped');
          log.log('info', 'pipeline reached the end offsets and committed', { pipeline: id, epoch: runner.lastCommittedEpoch });
          this.checkFinished();
        } catch (err) {
          await this.onFailure(slot, runner, err);
        }
      });
    }
  }

  private async onFailure(slot: Slot, runner: PipelineRunner, err: unknown): Promise<void> {
    // Claim the failure: a runner can report more than once (its failed promise, a final
    // checkpoint that then rejects); only the first report may schedule a restart.
    if (!holds(slot, runner) || slot.lifecycle.state === 'failed') return;
    slot.runner = undefined;
    slot.live = false;
    const e = toStreamError(err);
    const id = slot.pipeline.topic;
    await runner.close().catch(() => {});
    if (this.stopping) return;
    if (slot.group && e.code === 'PARTITION_FENCED') {
      // Not a failure of this process: another one claimed partitions of its commit (nothing of
      // which landed). It gives them up and goes on with the rest, from the table.
      slot.group.fence(fencedPartitions(e));
      slot.lifecycle.to('restarting');
      this.relaunch(slot, 0);
      return;
    }
    this.metrics.actorRestarts.inc({ pipeline: id, actor: actorOf(e) });
    const decision = slot.tracker.onFailure(e, runner.lastCommittedEpoch);
    if (decision.action === 'give-up') {
      slot.lifecycle.to('failed');
      this.o.log.log('error', `pipeline failed for good: ${decision.reason}`, { pipeline: id, ...errorFields(e) });
      this.checkFinished();
      return;
    }
    if (decision.outage) {
      slot.lifecycle.to('degraded');
      if (decision.outage.began) this.degradedLine(id, decision.outage.error, e);
      else this.o.log.log('debug', `still degraded; restarting from the last checkpoint in ${decision.delayMs} ms`, { pipeline: id, attempt: decision.attempt, ...errorFields(e) });
    } else {
      slot.lifecycle.to('restarting');
      this.o.log.log('warn', `pipeline failed; restarting from its last checkpoint in ${decision.delayMs} ms`, {
        pipeline: id,
        attempt: decision.attempt,
        ...errorFields(e),
      });
    }
    this.relaunch(slot, decision.delayMs);
  }

  /** Launches the slot's runner again after `delayMs`; under scale-out, in turn with assignment changes. */
  private relaunch(slot: Slot, delayMs: number): void {
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined;
      if (!slot.group) {
        void this.launch(slot);
        return;
      }
      slot.chain = slot.chain.then(() => (slot.runner ? undefined : this.launch(slot))).catch(() => {});
    }, delayMs);
  }

  /** Scale-out: joins the pipeline's consumer group; its assignments launch and relaunch the runner. */
  private async joinGroup(slot: Slot): Promise<void> {
    const id = slot.pipeline.topic;
    const group = new GroupAssignment({
      kafka: this.kafka,
      catalog: this.catalog,
      pipeline: slot.pipeline,
      scaleOut: this.o.config.runtime.scaleOut!,
      metrics: this.metrics,
      log: this.o.log,
      changed: (change) => (change.revoked.length === 0 ? this.gain(slot, change.gained) : this.regroup(slot, change.lost)),
      failed: (err) => {
        this.o.log.log('error', 'pipeline left its consumer group for good', { pipeline: id, ...errorFields(err) });
        slot.chain = slot.chain
          .then(() => this.retire(slot, true))
          .then(() => {
            if (slot.lifecycle.final) return;
            if (slot.lifecycle.state === 'restarting') slot.lifecycle.to('starting');
            slot.lifecycle.to('failed');
            this.checkFinished();
          })
          .catch(() => {});
      },
    });
    slot.group = group;
    try {
      await group.join();
    } catch (err) {
      // A broker away at start is an outage like any other: ridden out with backoff.
      const e = toStreamError(err);
      if (this.stopping) return;
      slot.group = undefined;
      const decision = slot.tracker.onFailure(e, 0);
      if (decision.action === 'give-up') {
        slot.lifecycle.to('failed');
        this.o.log.log('error', `pipeline failed for good: could not join its consumer group: ${decision.reason}`, { pipeline: id, ...errorFields(e) });
        this.checkFinished();
        return;
      }
      slot.lifecycle.to(decision.outage ? 'degraded' : 'restarting');
      this.o.log.log('warn', `could not join the consumer group; trying again in ${decision.delayMs} ms`, { pipeline: id, group: slot.pipeline.groupId, ...errorFields(e) });
      slot.restartTimer = setTimeout(() => {
        slot.restartTimer = undefined;
        void this.joinGroup(slot);
      }, decision.delayMs);
      return;
    }
    // Standing by until the first assignment (or running it, if it came already).
    slot.chain = slot.chain.then(() => (slot.runner ? undefined : this.launch(slot))).catch(() => {});
  }

  /**
   * Scale-out: the assignment changed. The runner takes a final checkpoint of what it read (none
   * when the partitions were lost: another process may own them already) and stops; the promise
   * resolves then, which the group waits for before it hears revoked partitions are released.
   * A runner on the new assignment starts after.
   */
  private regroup(slot: Slot, lost: boolean): Promise<void> {
    const retired = slot.chain.then(() => this.retire(slot, lost));
    slot.chain = retired.then(() => this.launch(slot)).catch((err: unknown) => {
      this.o.log.log('error', 'could not restart the pipeline on its new assignment', { pipeline: slot.pipeline.topic, ...errorFields(toStreamError(err)) });
    });
    return retired.catch(() => {});
  }

  /**
   * Scale-out: partitions gained while the runner runs join it without a stop (claimed first);
   * a standby, or a runner not running yet, is (re)launched on the whole assignment instead.
   */
  private gain(slot: Slot, gained: number[]): Promise<void> {
    slot.chain = slot.chain.then(async () => {
      const r = slot.runner;
      if (!r || !slot.live || slot.lifecycle.state !== 'running' || this.stopping) {
        await this.retire(slot, false);
        await this.launch(slot);
        return;
      }
      try {
        await r.gain(gained.filter((p) => slot.group!.current().includes(p)));
        this.metrics.sourcePartitions.set({ pipeline: slot.pipeline.topic }, r.positions().size);
      } catch (err) {
        await this.onFailure(slot, r, err);
      }
    }).catch((err: unknown) => {
      this.o.log.log('error', 'could not take the partitions gained', { pipeline: slot.pipeline.topic, ...errorFields(toStreamError(err)) });
    });
    return slot.chain;
  }

  /** Stops the slot's runner: with a final checkpoint unless `lost` or not yet running. */
  private async retire(slot: Slot, lost: boolean): Promise<void> {
    if (slot.restartTimer) {
      clearTimeout(slot.restartTimer);
      slot.restartTimer = undefined;
    }
    const r = slot.runner;
    if (this.stopping || slot.lifecycle.final) return;
    // A standby (no runner) restarts too: from running, it may not go back to starting directly.
    slot.lifecycle.to('restarting');
    if (!r) return;
    // Released first: the stopping runner's reports (a failed final checkpoint) decide nothing.
    slot.runner = undefined;
    const live = slot.live;
    slot.live = false;
    if (live && !lost) {
      try {
        await r.stop();
        this.o.log.log('info', 'pipeline checkpointed for the new assignment', { pipeline: slot.pipeline.topic, epoch: r.lastCommittedEpoch });
        return;
      } catch (err) {
        const e = toStreamError(err);
        if (e.code === 'PARTITION_FENCED') slot.group?.fence(fencedPartitions(e));
        this.o.log.log('warn', 'final checkpoint before the new assignment failed; the partitions resume from the table', { pipeline: slot.pipeline.topic, ...errorFields(e) });
      }
    }
    await r.close().catch(() => {});
  }

  /** The source of a running pipeline rides out a broker outage (err), or fetches again. */
  private onSourceTrouble(slot: Slot, runner: PipelineRunner, err: StreamError | undefined): void {
    if (!this.decides(slot, runner) || slot.lifecycle.final) return;
    if (err === undefined) {
      this.recovered(slot, { kind: 'source' });
      return;
    }
    if (!slot.tracker.sourceTrouble(err, runner.lastCommittedEpoch)) return;
    // A pipeline stopping (bounded, final checkpoint) finishes its stop; its state stays.
    if (slot.lifecycle.state === 'running') slot.lifecycle.to('degraded');
    this.degradedLine(slot.pipeline.topic, err, err);
  }

  private degradedLine(pipeline: string, outage: StreamError, e: StreamError): void {
    const { maxBackoffMs } = this.o.config.runtime.restart;
    this.o.log.log('warn', `pipeline degraded: ${outage.code}; riding the outage out, retrying with backoff (at most ${Math.round(maxBackoffMs / 1000)} s apart) until it passes`, {
      pipeline,
      ...errorFields(e),
    });
  }

  /** Ends the slot's outage if `proof` shows it over: one line, and the pipeline is running. */
  private recovered(slot: Slot, proof: Parameters<RestartTracker['endOutage']>[0]): void {
    const over = slot.tracker.endOutage(proof);
    if (!over) return;
    this.o.log.log('info', `pipeline recovered after ${(over.durationMs / 1000).toFixed(1)} s degraded`, {
      pipeline: slot.pipeline.topic,
      outageSeconds: Math.round(over.durationMs / 100) / 10,
      code: over.error.code,
      attempts: over.attempts,
    });
    if (slot.lifecycle.state === 'degraded' && slot.live) slot.lifecycle.to('running');
  }

  private triggerCheckpoints(): void {
    for (const slot of this.slots.values()) {
      const r = slot.runner;
      const state = slot.lifecycle.state;
      if (!r || !slot.live || (state !== 'running' && state !== 'degraded')) continue;
      // A degraded pipeline checkpoints in any case: its commit is what ends the outage.
      if (state === 'running' && r.quiet) {
        r.skipQuiet();
        continue;
      }
      r.checkpoint().then(
        () => {
          if (holds(slot, r)) this.recovered(slot, { kind: 'commit', epoch: r.lastCommittedEpoch });
        },
        () => {}, // failures arrive through runner.failed
      );
    }
  }

  private progress(everyMs: number): void {
    for (const slot of this.slots.values()) {
      const r = slot.runner;
      const id = slot.pipeline.topic;
      let records = 0;
      for (const p of r?.positions().values() ?? []) records += Number(p);
      const rate = Math.max(0, Math.round(((records - slot.lastRecords) * 1000) / everyMs));
      slot.lastRecords = records;
      let lag = 0n;
      for (const l of r?.lag.values() ?? []) lag += l;
      const state = slot.lifecycle.state;
      const line = `${id}: ${state}, ${rate} records/s, lag ${lag}, last committed epoch ${r?.lastCommittedEpoch ?? 0}`;
      // On a terminal the sentence says it all; in JSON logs the fields are what tools read.
      this.o.log.log('info', line, this.o.log.json ? { pipeline: id, state, recordsPerSecond: rate, lag: Number(lag), epoch: r?.lastCommittedEpoch ?? 0 } : {});
    }
    this.metrics.poolUtilization.set(this.pool.utilization);
    this.metrics.poolQueueSize.set(this.pool.queueSize);
  }

  private checkFinished(): void {
    if ([...this.slots.values()].every((s) => s.lifecycle.final)) this.finish();
  }

  /** Stops fetching everywhere, takes a final checkpoint per pipeline, and releases everything. */
  async stop(): Promise<void> {
    if (this.stopping) return this.finished;
    this.stopping = true;
    clearInterval(this.checkpointTimer);
    clearInterval(this.progressTimer);
    await Promise.all(
      [...this.slots.values()].map(async (slot) => {
        if (slot.restartTimer) clearTimeout(slot.restartTimer);
        const r = slot.runner;
        const life = slot.lifecycle;
        if (r && slot.live && (life.state === 'running' || life.state === 'degraded')) {
          try {
            life.to('stopping');
            await r.stop();
            this.o.log.log('info', 'pipeline stopped after its final checkpoint', { pipeline: slot.pipeline.topic, epoch: r.lastCommittedEpoch });
            life.to('stopped');
          } catch (err) {
            const e = toStreamError(err);
            this.o.log.log('error', 'final checkpoint failed; the next start resumes from the previous one', { pipeline: slot.pipeline.topic, ...errorFields(e) });
            await r.close().catch(() => {});
            life.to('failed');
          }
        } else if (r) {
          // A bounded pipeline already stopping on its own ends with its own stop().
          if (life.state === 'stopping') await r.stop().catch(() => {});
          await r.close().catch(() => {});
          if (!life.final) life.to('stopped');
        } else if (!life.final) life.to('stopped');
        // After the final checkpoint: leaving at once moves the partitions to the others now.
        await slot.group?.close().catch((err: unknown) => this.o.log.log('warn', 'could not leave the consumer group', { pipeline: slot.pipeline.topic, ...errorFields(toStreamError(err)) }));
      }),
    );
    await this.release();
    this.finish();
  }

  /** After a bounded run has finished on its own. */
  async release(): Promise<void> {
    clearInterval(this.checkpointTimer);
    clearInterval(this.progressTimer);
    await this.pool?.close().catch(() => {});
    await Promise.all([this.threads?.sources.close(), this.threads?.sinks.close()]);
    await this.catalog?.close().catch(() => {});
    await this.server?.close();
  }
}

function actorOf(e: StreamError): string {
  switch (e.code) {
    case 'WORKER_CRASHED':
      return 'transform';
    case 'COMMIT_CONFLICT':
    case 'COMMIT_FAILED':
    case 'COMMIT_RETRIES_EXHAUSTED':
    case 'CATALOG_UNAVAILABLE':
      return 'commit';
    case 'KAFKA_UNAVAILABLE':
    case 'KAFKA_PROTOCOL':
    case 'KAFKA_TOPIC_MISSING':
      return 'source';
    default:
      return typeof e.details.actor === 'string' ? e.details.actor : 'pipeline';
  }
}

const MB = 1024 * 1024;
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.floor(v)));

/**
 * A pipeline's share of runtime.memory_budget, split between the three places its records wait:
 * fetched chunks whose transform tasks have not settled, transformed batches queued for the sink,
 * and the encoded bytes of the files the sink has open (the row groups being built, in
 * WebAssembly memory, which never shrinks) before it closes them early; the cost of a small
 * share is more, smaller files per epoch under a backlog. Below a few MB the pool and the sink
 * starve; above these caps larger buffers bought no speed in benchmarks/runtime-w1.ts.
 */
export function memoryShares(budgetBytes: number, pipelines: number): { fetchBufferBytes: number; sinkBufferBytes: number; sinkWriteBytes: number } {
  const share = budgetBytes / Math.max(1, pipelines);
  return {
    fetchBufferBytes: clamp(share / 16, 4 * MB, 32 * MB),
    sinkBufferBytes: clamp(share / 16, 4 * MB, 32 * MB),
    sinkWriteBytes: clamp(share / 8, 8 * MB, 64 * MB),
  };
}
