// The checkpoint protocol of one pipeline, in one place: where it recovers from, how an epoch is
// numbered, when it is acknowledged, and in what order it is committed. The one place where an
// epoch gets its number.
//
// Checkpoint N:
//   1. `trigger()` numbers epoch N and asks every source actor for barrier N (`injectBarriers`);
//      each puts it into its ordered output at its current offset;
//   2. the sink closes epoch N's files once barrier N arrived from every partition, and acks
//      (`acknowledge`); an ack that does not come within the timeout fails the checkpoint;
//   3. the commit order: dead letters held for a topic are sent, the dead-letter table is
//      committed, then the table, each one snapshot whose summary holds the next offset of every
//      partition and the epoch; the catalog's compare-and-swap makes files and offsets land
//      together or not at all;
//   4. the same offsets go to the Kafka consumer group, for lag tooling only.
// The dead-letter table goes first: a crash between the two commits replays the epoch, and the
// sink drops the dead letters below the dead-letter table's own offsets (its "floor").
//
// The commit fence: every commit requires (a CommitRequirement, checked on every retry) that the
// newest snapshot of this pipeline in the table is the one this coordinator last committed or
// recovered from. A runner replaced while its commit was slow, or a second process on the same
// pipeline, fails there instead of duplicating rows or moving the offsets backwards.

import { StreamError, toStreamError } from '../errors.js';
import type { Catalog, LoadedTable, TableIdentifier } from '../iceberg/catalog.js';
import { commitAppend, type CommitOptions, type CommitRequirement, type CommitResult } from '../iceberg/commit.js';
import type { DataFile } from '../iceberg/data-file-writer.js';
import type { RuntimeMetrics } from '../metrics/metrics.js';
import { killIfDue, shouldFail } from './faults.js';
import type { Logger } from './log.js';
import type { CheckpointAck } from './threads/sink-messages.js';
import { EPOCH_KEY, encodeOffsets, encodePosition, offsetsKey, positionProperty, type PartitionOffsets } from '../iceberg/snapshot-offsets.js';
import { recoverPosition } from '../iceberg/position-recovery.js';
import type { ResetMode } from '../iceberg/snapshot-offsets.js';
import type { PartitionOwnership } from '../iceberg/partition-claims.js';

/**
 * Named points in the commit order where a fault can be injected: `after-files-written` (the
 * sink has written and acknowledged the epoch's files, nothing is committed),
 * `before-dead-letter-commit`, `before-table-commit` (the dead-letter table is committed, the
 * table not yet), `before-group-commit` (both tables committed).
 */
export type CommitStep = 'after-files-written' | 'before-dead-letter-commit' | 'before-table-commit' | 'before-group-commit';

export interface CoordinatorDeps {
  pipelineId: string;
  topic: string;
  groupId: string;
  catalog: Catalog;
  metrics: RuntimeMetrics;
  log: Logger;
  /** Puts barrier `epoch` into every source actor's ordered output. */
  injectBarriers(epoch: number): void;
  /** Dead letters held on the main thread for a topic: sent before the epoch's tables commit. */
  flushDeadLetters?(epoch: number): Promise<void>;
  /** The consumer group's copy of the committed offsets: informational, never waited for. */
  commitGroupOffsets(offsets: PartitionOffsets): Promise<void>;
  /** Rejects when the pipeline fails: a pending checkpoint then stops waiting for its ack. */
  failed: Promise<never>;
  /** A failed checkpoint fails the pipeline (see `trigger`). */
  fail(err: StreamError): void;
  /** How long an epoch may wait for its ack. */
  ackTimeoutMs: number;
  /** A table of this pipeline committed (runs table maintenance when due; must not throw). */
  committed?(table: TableIdentifier): void;
  /**
   * Called at each step of the commit order; throwing fails the checkpoint there. Default: the
   * STREAMBERG_FAULTS injection (`commit-fail` before the table commit, `kill-at` at any step).
   */
  atStep?(step: CommitStep, epoch: number): void;
}

/** Where a pipeline starts, read from its tables' snapshots. */
export interface Recovery {
  /** The next offset per partition of the newest snapshot of this pipeline; undefined: none yet. */
  offsets: PartitionOffsets | undefined;
  /** Per partition: dead letters below this offset are already in the dead-letter table. */
  deadLetterFloor: PartitionOffsets;
  /** The epoch the first barrier will close. */
  firstEpoch: number;
  /** An operator asked (a table property) to start this group from Kafka: the mode to start by. */
  reset: ResetMode | undefined;
}

interface PendingAck {
  resolve(ack: CheckpointAck): void;
  reject(err: StreamError): void;
}

function defaultStep(pipeline: string): (step: CommitStep, epoch: number) => void {
  return (step, epoch) => {
    killIfDue(step, pipeline);
    if (step === 'before-table-commit' && shouldFail('commit-fail', pipeline)) throw new StreamError('COMMIT_FAILED', `injected commit failure of epoch ${epoch}`);
  };
}

export class CheckpointCoordinator {
  private tableState: LoadedTable | undefined;
  private deadLetterState: LoadedTable | undefined;
  /** Epoch of the newest snapshot of ours in the table (its fence); 0 before any. */
  private lastEpoch = 0;
  /** Epoch of the newest snapshot of ours in the dead-letter table (its fence); null before any. */
  private deadLetterEpoch: number | null = null;
  /** Whether the table holds a position of this pipeline yet. */
  private hasSnapshot = false;
  /** The reset property to remove in the commit of the new start position (see recover). */
  private resetProperty: string | undefined;
  /** The fence of the first commit: the recovered position's epoch, null when there was none. */
  private recoveredEpoch: number | null = null;
  private nextEpoch = 1;
  private committedOffsets: PartitionOffsets = new Map();
  /** A checkpoint of this coordinator completed (not only recovered or begun). */
  private checkpointed = false;
  private readonly acks = new Map<number, PendingAck>();
  private pendingCheckpoint: Promise<void> | undefined;
  private groupCommit: Promise<void> | undefined;
  private groupCommitFailing = false;
  /** The offsets the consumer group last took, so an idle pipeline does not send them again. */
  private groupOffsets: PartitionOffsets | undefined;
  private closed = false;
  private readonly atStep: (step: CommitStep, epoch: number) => void;
  private ownership: { table: PartitionOwnership; deadLetters: PartitionOwnership | undefined } | undefined;

  constructor(private readonly d: CoordinatorDeps) {
    this.atStep = d.atStep ?? defaultStep(d.pipelineId);
  }

  private get key(): string {
    return offsetsKey(this.d.groupId);
  }

  /**
   * Scale-out: this process holds only some partitions, claimed in the tables. Commits go
   * through the claims (fenced per partition, iceberg/partition-claims.ts) instead of the
   * pipeline-wide fence, no start position is committed by `begin` (the claim did), and nothing
   * is committed to the consumer group (it is for membership only). Called before `begin`.
   */
  own(table: PartitionOwnership, deadLetters: PartitionOwnership | undefined): void {
    this.ownership = { table, deadLetters };
  }

  /** The table as last loaded or committed. */
  get table(): LoadedTable {
    if (!this.tableState) throw new StreamError('PIPELINE_FAILED', `pipeline ${this.d.pipelineId}: checkpoint coordinator used before recover()`);
    return this.tableState;
  }

  get deadLetterTable(): LoadedTable | undefined {
    return this.deadLetterState;
  }

  /** Epoch of the newest committed checkpoint (recovered or taken); 0 before any. */
  get lastCommittedEpoch(): number {
    return this.lastEpoch;
  }

  /**
   * The epoch the next trigger will number. A partition that joins now has its first rows in it:
   * its first barrier is that trigger's, and a checkpoint under way closes without it.
   */
  get upcomingEpoch(): number {
    return this.nextEpoch;
  }

  /** The offsets of the last committed checkpoint, per partition. */
  get committed(): PartitionOffsets {
    return new Map(this.committedOffsets);
  }

  /**
   * Whether a checkpoint now would have nothing to do: one of this coordinator's completed, none
   * is under way, and `positions` (each partition's next offset to read) are the offsets it
   * committed, so no record was read since and none is in flight. A partition that joined since
   * has no committed offset yet, so it makes the pipeline not quiet until its first commit.
   */
  quiet(positions: ReadonlyMap<number, bigint>): boolean {
    if (!this.checkpointed || this.pendingCheckpoint || this.closed || positions.size !== this.committedOffsets.size) return false;
    for (const [p, o] of positions) if (this.committedOffsets.get(p) !== o) return false;
    return true;
  }

  /**
   * Reads where this pipeline left off in each table: its position property, or the newest
   * snapshot in `main`'s ancestry carrying its offsets key (position-recovery.ts). Snapshots by
   * other writers (compaction, another pipeline) are skipped. A table that shows this group's
   * history but holds no position for its topic fails the pipeline (POSITION_LOST), unless an
   * operator set the group's reset property.
   */
  recover(table: LoadedTable, deadLetterTable: LoadedTable | undefined): Recovery {
    this.tableState = table;
    this.deadLetterState = deadLetterTable;
    const found = recoverPosition(table, this.d.topic, this.d.groupId);
    this.hasSnapshot = found.position !== undefined && found.reset === undefined;
    this.resetProperty = found.reset ? found.resetProperty : undefined;
    this.lastEpoch = found.position?.epoch ?? 0;
    this.recoveredEpoch = found.position?.epoch ?? null;
    this.nextEpoch = this.lastEpoch + 1;
    const dlq = deadLetterTable ? recoverPosition(deadLetterTable, this.d.topic, this.d.groupId, { lenient: true }) : undefined;
    this.deadLetterEpoch = dlq?.position?.epoch ?? null;
    if (found.reset) {
      this.d.log.log('warn', `position reset by table property ${found.resetProperty}: starting by ${found.reset}`, {
        table: `${table.ident.namespace}.${table.ident.name}`,
        group: this.d.groupId,
        previous: found.position?.offsets ?? null,
      });
    }
    return {
      offsets: found.reset ? undefined : found.offsets,
      deadLetterFloor: dlq?.offsets ?? new Map(),
      firstEpoch: this.nextEpoch,
      reset: found.reset,
    };
  }

  /**
   * Takes the start offsets as committed. On a first start they go into the table (epoch 0, no
   * files) before anything is read: with latest-offset (or a timestamp) a restart would otherwise
   * start again from a later "latest" and skip what arrived in between.
   */
  async begin(start: PartitionOffsets): Promise<void> {
    this.committedOffsets = new Map(start);
    if (this.hasSnapshot || this.ownership) return;
    // A reset keeps the epoch (the fence other runners check) and removes its property in the
    // same commit, so it acts once.
    const r = await commitAppend(this.d.catalog, this.table.ident, [], this.summary(this.lastEpoch, start), {
      requirements: [this.fence(this.recoveredEpoch)],
      setProperties: this.position(this.lastEpoch, start),
      ...(this.resetProperty ? { removeProperties: [this.resetProperty] } : {}),
    });
    this.tableState = r.table;
    this.hasSnapshot = true;
    this.resetProperty = undefined;
  }

  /**
   * Takes the next checkpoint: barriers, alignment at the sink, commit. One at a time: a trigger
   * while one is pending returns that one (Flink's max-concurrent-checkpoints = 1). A failed
   * checkpoint fails the pipeline: the sink has handed over and forgotten that epoch's files,
   * and the next epoch must not be committed without them.
   */
  trigger(): Promise<void> {
    if (this.closed) return Promise.reject(new StreamError('CHECKPOINT_FAILED', `pipeline ${this.d.pipelineId} is closed`));
    if (this.pendingCheckpoint) return this.pendingCheckpoint;
    const epoch = this.nextEpoch++;
    const started = performance.now();
    const ack = new Promise<CheckpointAck>((resolve, reject) => this.acks.set(epoch, { resolve, reject }));
    this.d.injectBarriers(epoch);
    // A barrier held up forever (a transformation that never returns) must not hold the
    // pipeline forever: past the timeout the pipeline fails and restarts from its last commit.
    const timeoutMs = this.d.ackTimeoutMs;
    const timer = setTimeout(
      () => this.acks.get(epoch)?.reject(new StreamError('CHECKPOINT_FAILED', `checkpoint ${epoch} of ${this.d.pipelineId} did not complete within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    this.pendingCheckpoint = Promise.race([ack, this.d.failed])
      .then((a) => this.commit(a))
      .then(() => {
        this.d.metrics.checkpointDuration.observe({ pipeline: this.d.pipelineId }, (performance.now() - started) / 1000);
      })
      .catch((err: unknown) => {
        const e = toStreamError(err, 'CHECKPOINT_FAILED');
        this.d.fail(e);
        throw e;
      })
      .finally(() => {
        clearTimeout(timer);
        this.acks.delete(epoch);
        this.pendingCheckpoint = undefined;
      });
    return this.pendingCheckpoint;
  }

  /** The checkpoint under way, if any. */
  get pending(): Promise<void> | undefined {
    return this.pendingCheckpoint;
  }

  /** The sink's ack of epoch N. An ack nobody waits for (late, after a timeout) is dropped. */
  acknowledge(ack: CheckpointAck): void {
    this.acks.get(ack.epoch)?.resolve(ack);
  }

  private summary(epoch: number, offsets: PartitionOffsets): Record<string, string> {
    return { [this.key]: encodeOffsets(this.d.topic, offsets), [EPOCH_KEY]: String(epoch) };
  }

  /** The position as a table property, set with every commit: no snapshot expiry removes it. */
  private position(epoch: number, offsets: PartitionOffsets): Record<string, string> {
    return { [positionProperty(this.key)]: encodePosition(epoch, encodeOffsets(this.d.topic, offsets)) };
  }

  /** The commit fence, as a requirement on the head a commit builds on. */
  private fence(epoch: number | null): CommitRequirement {
    return { type: 'assert-fence', ownerKey: this.key, epochKey: EPOCH_KEY, epoch, owner: this.d.pipelineId };
  }

  private commitOptions(table: string, fenceEpoch: number | null, epoch: number, offsets: PartitionOffsets): CommitOptions {
    return {
      requirements: [this.fence(fenceEpoch)],
      setProperties: this.position(epoch, offsets),
      onRetry: (err, attempt) => {
        this.d.metrics.commitRetries.inc({ pipeline: this.d.pipelineId, table });
        this.d.log.log('info', 'commit conflict; retrying on the new table head', { table, attempt, code: err.code });
      },
    };
  }

  /** A commit's duration, what it added, and what the table holds after it. */
  private async timed(table: string, files: readonly DataFile[], commit: Promise<CommitResult>): Promise<CommitResult> {
    const started = performance.now();
    const r = await commit;
    const labels = { pipeline: this.d.pipelineId, table };
    const m = this.d.metrics;
    m.commitDuration.observe(labels, (performance.now() - started) / 1000);
    m.commits.inc(labels);
    m.committedBytes.inc(labels, files.reduce((n, f) => n + f.fileSizeInBytes, 0));
    m.tableCommittedAt.set(labels, Date.now() / 1000);
    if (r.manifests !== undefined) m.tableManifests.set(labels, r.manifests);
    const dataFiles = Number(r.snapshot.summary['total-data-files']);
    if (Number.isSafeInteger(dataFiles)) m.tableDataFiles.set(labels, dataFiles);
    m.tableSnapshots.set(labels, r.table.metadata.snapshots.length);
    return r;
  }

  /** The table's commit of an epoch: fenced for the whole pipeline, or per claimed partition. */
  private append(files: DataFile[], offsets: PartitionOffsets, epoch: number, summary: Record<string, string>): Promise<CommitResult> {
    const { catalog } = this.d;
    const ident = this.table.ident;
    const owned = this.ownership?.table;
    if (!owned) return commitAppend(catalog, ident, files, summary, this.commitOptions(ident.name, this.lastEpoch, epoch, offsets));
    // A file may hold rows of any partition of the epoch (the sink writes per epoch).
    const partitions = [...offsets.keys()];
    return owned.commit(files.map((file) => ({ file, partitions })), offsets);
  }

  /**
   * The dead-letter table's commit. Per claimed partition, its position may be ahead of the
   * table's (a crash between the two commits, which replays the epoch while the sink drops the
   * dead letters below that position): it never moves back, so contiguity holds.
   */
  private appendDeadLetters(files: DataFile[], offsets: PartitionOffsets, epoch: number, summary: Record<string, string>): Promise<CommitResult> {
    const dlq = this.deadLetterState!;
    const owned = this.ownership?.deadLetters;
    if (!owned) return commitAppend(this.d.catalog, dlq.ident, files, summary, this.commitOptions(dlq.ident.name, this.deadLetterEpoch, epoch, offsets));
    const held = owned.held;
    const next = new Map([...offsets].map(([p, o]) => {
      const at = held.get(p)?.next;
      return [p, at !== undefined && at > o ? at : o] as const;
    }));
    const partitions = [...next.keys()];
    return owned.commit(files.map((file) => ({ file, partitions })), next);
  }

  /** The commit order of one acknowledged epoch. */
  private async commit(ack: CheckpointAck): Promise<void> {
    const { metrics, pipelineId } = this.d;
    const offsets: PartitionOffsets = new Map(ack.offsets);
    const summary = this.summary(ack.epoch, offsets);
    const moved = [...offsets].some(([p, o]) => this.committedOffsets.get(p) !== o);
    const table = this.table;
    try {
      this.atStep('after-files-written', ack.epoch);
      await this.d.flushDeadLetters?.(ack.epoch);
      const dlq = this.deadLetterState;
      if (dlq && ack.deadLetterFiles.length > 0) {
        this.atStep('before-dead-letter-commit', ack.epoch);
        const r = await this.timed(dlq.ident.name, ack.deadLetterFiles, this.appendDeadLetters(ack.deadLetterFiles, offsets, ack.epoch, summary));
        this.deadLetterState = r.table;
        this.deadLetterEpoch = ack.epoch;
        metrics.recordsOut.inc({ pipeline: pipelineId, table: dlq.ident.name }, ack.deadLetters);
      }
      // An epoch that moved no offset and wrote no file needs no snapshot.
      if (ack.files.length > 0 || moved) {
        this.atStep('before-table-commit', ack.epoch);
        const r = await this.timed(table.ident.name, ack.files, this.append(ack.files, offsets, ack.epoch, summary));
        this.tableState = r.table;
        this.lastEpoch = ack.epoch;
        metrics.recordsOut.inc({ pipeline: pipelineId, table: table.ident.name }, ack.rows);
      }
    } catch (err) {
      metrics.commitFailures.inc({ pipeline: pipelineId, table: table.ident.name });
      throw toStreamError(err, 'COMMIT_FAILED');
    }
    this.committedOffsets = offsets;
    this.checkpointed = true;
    // Maintenance after the commit, never before: it then races only the next epoch's commit.
    if (this.deadLetterState && ack.deadLetterFiles.length > 0) this.d.committed?.(this.deadLetterState.ident);
    if (ack.files.length > 0 || moved) this.d.committed?.(table.ident);
    metrics.lastCompletedEpoch.set({ pipeline: pipelineId }, ack.epoch);
    metrics.checkpointSize.set({ pipeline: pipelineId }, ack.bytes);
    this.d.log.log('debug', 'checkpoint committed', { epoch: ack.epoch, rows: ack.rows, deadLetters: ack.deadLetters, files: ack.files.length });
    // Kafka's copy of the offsets is informational; failing to write it loses nothing, and a
    // checkpoint does not wait for it (a broker can take long to answer during a rebalance).
    this.atStep('before-group-commit', ack.epoch);
    if (this.ownership) return;
    // A caught-up pipeline checkpoints the same offsets every interval: the group already has them
    // (a broker round trip per pipeline per checkpoint is most of what an idle pipeline costs).
    if (this.groupOffsets && sameOffsets(this.groupOffsets, offsets)) return;
    // Logged when it starts failing and when it works again, not once per checkpoint of an outage.
    this.groupCommit = this.d.commitGroupOffsets(offsets).then(
      () => {
        if (this.groupCommitFailing) this.d.log.log('info', 'offsets reach the consumer group again');
        this.groupCommitFailing = false;
        this.groupOffsets = offsets;
      },
      (err: unknown) => {
        if (!this.groupCommitFailing) this.d.log.log('warn', 'could not commit offsets to the consumer group; retried with every checkpoint', { error: (err as Error).message });
        this.groupCommitFailing = true;
      },
    );
  }

  /** Waits (at most `timeoutMs`) for the consumer group's copy of the last offsets. */
  async settleGroupCommit(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.groupCommit, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  /**
   * No checkpoint is taken from now on; one waiting for its ack fails. A commit under way must
   * finish (or fail) before a new runner reads the table; the fence catches the rest.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const { reject } of this.acks.values()) reject(new StreamError('CHECKPOINT_FAILED', `pipeline ${this.d.pipelineId} closed`));
    await this.pendingCheckpoint?.catch(() => {});
  }
}

function sameOffsets(a: PartitionOffsets, b: PartitionOffsets): boolean {
  if (a.size !== b.size) return false;
  for (const [p, o] of a) if (b.get(p) !== o) return false;
  return true;
}
