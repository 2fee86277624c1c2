import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StreamError, isStreamError } from '../../src/errors.js';
import type { LoadedTable } from '../../src/iceberg/catalog.js';
import { commitAppend, latestSnapshotWithSummaryKey } from '../../src/iceberg/commit.js';
import { mainSnapshot } from '../../src/iceberg/metadata.js';
import { CheckpointCoordinator, type CommitStep, type CoordinatorDeps } from '../../src/runtime/checkpoint-coordinator.js';
import type { CheckpointAck } from '../../src/runtime/threads/sink-messages.js';
import { EPOCH_KEY, decodeOffsets, encodeOffsets, offsetsKey, type PartitionOffsets } from '../../src/iceberg/snapshot-offsets.js';
import { metricValue, recordingLogger, storageDown, testMetrics, warehouse, type Warehouse } from '../helpers/checkpoint-fixtures.js';

const TOPIC = 'bids';
const GROUP = 'g1';
const KEY = offsetsKey(GROUP);

interface Harness {
  coordinator: CheckpointCoordinator;
  barriers: number[];
  groupCommits: PartitionOffsets[];
  failures: StreamError[];
  steps: string[];
  failPipeline(err: StreamError): void;
  metrics: ReturnType<typeof testMetrics>;
}

function harness(w: Warehouse, extra: Partial<CoordinatorDeps> = {}): Harness {
  const barriers: number[] = [];
  const groupCommits: PartitionOffsets[] = [];
  const failures: StreamError[] = [];
  const steps: string[] = [];
  let failPipeline!: (err: StreamError) => void;
  const failed = new Promise<never>((_, reject) => (failPipeline = reject));
  failed.catch(() => {});
  const metrics = testMetrics();
  const coordinator = new CheckpointCoordinator({
    pipelineId: TOPIC,
    topic: TOPIC,
    groupId: GROUP,
    catalog: w.catalog,
    metrics,
    log: recordingLogger(),
    injectBarriers: (epoch) => barriers.push(epoch),
    commitGroupOffsets: async (offsets) => {
      steps.push('group');
      groupCommits.push(offsets);
    },
    failed,
    fail: (err) => failures.push(err),
    ackTimeoutMs: 60_000,
    atStep: (step) => steps.push(step),
    ...extra,
  });
  return { coordinator, barriers, groupCommits, failures, steps, failPipeline, metrics };
}

function ack(epoch: number, offsets: Array<[number, bigint]>, parts: Partial<CheckpointAck> = {}): CheckpointAck {
  return { kind: 'checkpoint-ack', epoch, files: [], deadLetterFiles: [], rows: 0, deadLetters: 0, bytes: 0, offsets, ...parts };
}

/** This pipeline's newest epoch and offsets in the table, as a reader of the table sees them. */
async function committedIn(w: Warehouse, table: string): Promise<{ epoch: number; offsets: Record<number, bigint> } | undefined> {
  const t = await w.catalog.loadTable({ namespace: 'analytics', name: table });
  const s = latestSnapshotWithSummaryKey(t.metadata, KEY);
  if (!s) return undefined;
  return { epoch: Number(s.summary[EPOCH_KEY]), offsets: Object.fromEntries(decodeOffsets(TOPIC, s.summary[KEY]!)) };
}

const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'resolved',
    (e: unknown) => (isStreamError(e) ? e.code : String(e)),
  );

describe('CheckpointCoordinator', () => {
  let w: Warehouse;
  let table: LoadedTable;
  let dlq: LoadedTable;
  beforeEach(async () => {
    w = await warehouse();
    table = await w.open('bids_table');
    dlq = await w.open('bids_dead_letters');
  });
  afterEach(async () => {
    await w.close();
  });

  it('is quiet only once a checkpoint of its own completed, none is under way, and every position is the one committed', async () => {
    const h = harness(w);
    h.coordinator.recover(table, dlq);
    const start = new Map([[0, 0n], [1, 0n]]);
    await h.coordinator.begin(start);
    // Begun, not checkpointed: the first checkpoint of a runner always runs.
    expect(h.coordinator.quiet(start)).toBe(false);
    const first = h.coordinator.trigger();
    expect(h.coordinator.quiet(start)).toBe(false);
    h.coordinator.acknowledge(ack(1, [[0, 3n], [1, 5n]], { files: [await w.dataFile(h.coordinator.table, [1, 2, 3])], rows: 3 }));
    await first;
    expect(h.coordinator.quiet(new Map([[0, 3n], [1, 5n]]))).toBe(true);
    // A record read since, a partition joined since (no committed offset yet), one gone.
    expect(h.coordinator.quiet(new Map([[0, 4n], [1, 5n]]))).toBe(false);
    expect(h.coordinator.quiet(new Map([[0, 3n], [1, 5n], [2, 0n]]))).toBe(false);
    expect(h.coordinator.quiet(new Map([[0, 3n]]))).toBe(false);
    // An epoch that committed nothing leaves it quiet on the same offsets.
    const second = h.coordinator.trigger();
    h.coordinator.acknowledge(ack(2, [[0, 3n], [1, 5n]]));
    await second;
    expect(h.coordinator.quiet(new Map([[0, 3n], [1, 5n]]))).toBe(true);
  });

  it('numbers epochs from the table, takes one checkpoint at a time, and commits dead letters, table, then the group', async () => {
    const h = harness(w);
    const recovery = h.coordinator.recover(table, dlq);
    expect(recovery).toEqual({ offsets: undefined, deadLetterFloor: new Map(), firstEpoch: 1 });
    await h.coordinator.begin(new Map([[0, 0n], [1, 0n]]));
    // The first start's offsets are in the table before anything is read.
    expect(await committedIn(w, 'bids_table')).toEqual({ epoch: 0, offsets: { 0: 0n, 1: 0n } });

    const first = h.coordinator.trigger();
    expect(h.coordinator.trigger()).toBe(first);
    expect(h.barriers).toEqual([1]);
    const files = [await w.dataFile(h.coordinator.table, [1, 2, 3])];
    const deadLetterFiles = [await w.dataFile(dlq, [7])];
    w.catalog.commits.length = 0;
    h.coordinator.acknowledge(ack(1, [[0, 3n], [1, 5n]], { files, deadLetterFiles, rows: 3, deadLetters: 1 }));
    await first;

    expect(w.catalog.commits).toEqual(['bids_dead_letters', 'bids_table']);
    expect(h.steps).toEqual(['after-files-written', 'before-dead-letter-commit', 'before-table-commit', 'before-group-commit', 'group']);
    expect(await committedIn(w, 'bids_table')).toEqual({ epoch: 1, offsets: { 0: 3n, 1: 5n } });
    expect(await committedIn(w, 'bids_dead_letters')).toEqual({ epoch: 1, offsets: { 0: 3n, 1: 5n } });
    expect(h.groupCommits).toEqual([new Map([[0, 3n], [1, 5n]])]);
    expect(h.coordinator.lastCommittedEpoch).toBe(1);
    expect(await metricValue(h.metrics, 'streamberg_checkpoint_last_completed_epoch', { pipeline: TOPIC })).toBe(1);

    // The next trigger is a new epoch; one that moved nothing and wrote nothing commits nothing.
    const second = h.coordinator.trigger();
    expect(h.barriers).toEqual([1, 2]);
    w.catalog.commits.length = 0;
    h.coordinator.acknowledge(ack(2, [[0, 3n], [1, 5n]]));
    await second;
    expect(w.catalog.commits).toEqual([]);
    expect(await committedIn(w, 'bids_table')).toEqual({ epoch: 1, offsets: { 0: 3n, 1: 5n } });
  });

  it('an idle pipeline sends the consumer group its offsets only when they changed, and again after a failed send', async () => {
    let refuse = false;
    const sent: PartitionOffsets[] = [];
    const h = harness(w, {
      commitGroupOffsets: async (offsets) => {
        sent.push(offsets);
        if (refuse) throw new StreamError('KAFKA_UNAVAILABLE', 'broker away');
      },
    });
    h.coordinator.recover(table, undefined);
    await h.coordinator.begin(new Map([[0, 0n]]));
    const epoch = async (n: number, offset: bigint) => {
      const pending = h.coordinator.trigger();
      h.coordinator.acknowledge(ack(n, [[0, offset]]));
      await pending;
      await h.coordinator.settleGroupCommit(1000);
    };
    await epoch(1, 4n);
    // Caught up: epochs that move nothing ask nothing of the broker.
    await epoch(2, 4n);
    await epoch(3, 4n);
    expect(sent).toEqual([new Map([[0, 4n]])]);
    refuse = true;
    await epoch(4, 6n);
    refuse = false;
    // The failed send is retried with the next checkpoint, though the offsets did not move.
    await epoch(5, 6n);
    await epoch(6, 6n);
    expect(sent).toEqual([new Map([[0, 4n]]), new Map([[0, 6n]]), new Map([[0, 6n]])]);
  });

  it('measures each commit and what the table holds after it: manifests, data files, snapshots', async () => {
    const h = harness(w);
    h.coordinator.recover(table, undefined);
    await h.coordinator.begin(new Map([[0, 0n]]));
    const labels = { pipeline: TOPIC, table: 'bids_table' };
    const commits = async (): Promise<number> => {
      const m = await h.metrics.registry.getSingleMetric('streamberg_commit_duration_seconds')!.get();
      return (m.values as Array<{ metricName?: string; labels: Record<string, unknown>; value: number }>).find((v) => v.metricName === 'streamberg_commit_duration_seconds_count' && v.labels['table'] === 'bids_table')?.value ?? 0;
    };

    const first = h.coordinator.trigger();
    h.coordinator.acknowledge(ack(1, [[0, 2n]], { files: [await w.dataFile(h.coordinator.table, [1, 2])], rows: 2 }));
    await first;
    expect(await commits()).toBe(1);
    expect(await metricValue(h.metrics, 'streamberg_table_manifests', labels)).toBe(1);
    expect(await metricValue(h.metrics, 'streamberg_table_data_files', labels)).toBe(1);
    expect(await metricValue(h.metrics, 'streamberg_table_snapshots', labels)).toBe(2);

    // Offsets moved, no file written: one more snapshot, no more manifests or files.
    const second = h.coordinator.trigger();
    h.coordinator.acknowledge(ack(2, [[0, 3n]]));
    await second;
    expect(await commits()).toBe(2);
    expect(await metricValue(h.metrics, 'streamberg_table_manifests', labels)).toBe(1);
    expect(await metricValue(h.metrics, 'streamberg_table_data_files', labels)).toBe(1);
    expect(await metricValue(h.metrics, 'streamberg_table_snapshots', labels)).toBe(3);
  });

  it('fails a checkpoint whose ack does not come within the timeout, and drops the late ack', async () => {
    const h = harness(w, { ackTimeoutMs: 20 });
    h.coordinator.recover(table, undefined);
    await h.coordinator.begin(new Map([[0, 0n]]));
    const first = h.coordinator.trigger();
    expect(await codeOf(first)).toBe('CHECKPOINT_FAILED');
    expect(h.failures.map((e) => e.code)).toEqual(['CHECKPOINT_FAILED']);
    expect(h.failures[0]!.message).toMatch(/checkpoint 1 of bids did not complete/);

    // The sink's ack for epoch 1 arrives after all: nobody waits for it, nothing is committed.
    const files = [await w.dataFile(table, [1])];
    h.coordinator.acknowledge(ack(1, [[0, 1n]], { files, rows: 1 }));
    expect(await committedIn(w, 'bids_table')).toEqual({ epoch: 0, offsets: { 0: 0n } });
    // An epoch number is never given out twice.
    const second = h.coordinator.trigger();
    expect(h.barriers).toEqual([1, 2]);
    h.coordinator.acknowledge(ack(2, [[0, 1n]], { files, rows: 1 }));
    await second;
    expect(await committedIn(w, 'bids_table')).toEqual({ epoch: 2, offsets: { 0: 1n } });
  });

  it('stops waiting for an ack when the pipeline fails', async () => {
    const h = harness(w);
    h.coordinator.recover(table, undefined);
    await h.coordinator.begin(new Map([[0, 0n]]));
    const pending = h.coordinator.trigger();
    h.failPipeline(new StreamError('ACTOR_FAILED', 'sink actor of bids_table exited with code 70'));
    expect(await codeOf(pending)).toBe('ACTOR_FAILED');
    expect(h.coordinator.pending).toBeUndefined();
  });

  it('a failed commit fails the checkpoint and the pipeline, and counts the failure', async () => {
    const h = harness(w);
    h.coordinator.recover(table, undefined);
    await h.coordinator.begin(new Map([[0, 0n]]));
    w.catalog.failNext = { table: 'bids_table', error: storageDown() };
    const pending = h.coordinator.trigger();
    h.coordinator.acknowledge(ack(1, [[0, 4n]], { files: [await w.dataFile(table, [1, 2, 3, 4])], rows: 4 }));
    expect(await codeOf(pending)).toBe('STORAGE_FAILED');
    expect(h.failures.map((e) => e.code)).toEqual(['STORAGE_FAILED']);
    expect(await metricValue(h.metrics, 'streamberg_commit_failures_total', { pipeline: TOPIC, table: 'bids_table' })).toBe(1);
    expect(h.coordinator.lastCommittedEpoch).toBe(0);
    expect(h.coordinator.committed).toEqual(new Map([[0, 0n]]));
    expect(h.groupCommits).toEqual([]);
    expect(await committedIn(w, 'bids_table')).toEqual({ epoch: 0, offsets: { 0: 0n } });
  });

  it('fences out a stale runner: a second runner of the pipeline committed since', async () => {
    const stale = harness(w);
    stale.coordinator.recover(table, undefined);
    await stale.coordinator.begin(new Map([[0, 0n]]));
    // The replacement recovers from the same table and commits epoch 1 first.
    const fresh = harness(w);
    const recovery = fresh.coordinator.recover(await w.catalog.loadTable(table.ident), undefined);
    expect(recovery.offsets).toEqual(new Map([[0, 0n]]));
    await fresh.coordinator.begin(recovery.offsets!);
    const f = fresh.coordinator.trigger();
    fresh.coordinator.acknowledge(ack(1, [[0, 10n]], { files: [await w.dataFile(table, [1])], rows: 1 }));
    await f;

    const s = stale.coordinator.trigger();
    stale.coordinator.acknowledge(ack(1, [[0, 6n]], { files: [await w.dataFile(table, [2])], rows: 1 }));
    const err = await s.then(() => undefined, (e: unknown) => e as StreamError);
    expect(err?.code).toBe('COMMIT_FAILED');
    expect(err?.retryable).toBe(true);
    expect(err?.message).toMatch(/another writer committed epoch 1 of bids \(this one expected 0\)/);
    // The offsets did not move backwards, and the stale runner's rows are not in the table.
    expect(await committedIn(w, 'bids_table')).toEqual({ epoch: 1, offsets: { 0: 10n } });
    const head = mainSnapshot((await w.catalog.loadTable(table.ident)).metadata)!;
    expect(head.summary['total-records']).toBe('1');
  });

  it('the fence holds on a retry: a rival commit during a conflict is seen on the reloaded head', async () => {
    const h = harness(w);
    h.coordinator.recover(table, undefined);
    await h.coordinator.begin(new Map([[0, 0n]]));
    // Just before this runner's swap, another runner of the same pipeline commits epoch 1: the
    // swap conflicts, and the retry must refuse the new head instead of appending on top of it.
    w.catalog.beforeNext = {
      table: 'bids_table',
      run: async () => {
        await commitAppend(w.catalog.inner, table.ident, [], { [KEY]: encodeOffsets(TOPIC, new Map([[0, 9n]])), [EPOCH_KEY]: '1' });
      },
    };
    const pending = h.coordinator.trigger();
    h.coordinator.acknowledge(ack(1, [[0, 5n]], { files: [await w.dataFile(table, [1])], rows: 1 }));
    expect(await codeOf(pending)).toBe('COMMIT_FAILED');
    expect(await committedIn(w, 'bids_table')).toEqual({ epoch: 1, offsets: { 0: 9n } });
  });

  it('a crash between the dead-letter commit and the table commit replays the epoch above the dead-letter floor', async () => {
    const crash = new StreamError('COMMIT_FAILED', 'killed before the table commit');
    const h = harness(w, {
      atStep: (step: CommitStep) => {
        if (step === 'before-table-commit') throw crash;
      },
    });
    h.coordinator.recover(table, dlq);
    await h.coordinator.begin(new Map([[0, 100n], [1, 200n]]));
    const pending = h.coordinator.trigger();
    h.coordinator.acknowledge(
      ack(1, [[0, 150n], [1, 230n]], { files: [await w.dataFile(table, [1, 2])], deadLetterFiles: [await w.dataFile(dlq, [120])], rows: 2, deadLetters: 1 }),
    );
    expect(await codeOf(pending)).toBe('COMMIT_FAILED');
    expect(await committedIn(w, 'bids_dead_letters')).toEqual({ epoch: 1, offsets: { 0: 150n, 1: 230n } });
    expect(await committedIn(w, 'bids_table')).toEqual({ epoch: 0, offsets: { 0: 100n, 1: 200n } });

    // The next runner reads from the table's offsets, and skips dead letters already committed.
    const next = harness(w);
    const recovery = next.coordinator.recover(await w.catalog.loadTable(table.ident), await w.catalog.loadTable(dlq.ident));
    expect(recovery).toEqual({ offsets: new Map([[0, 100n], [1, 200n]]), deadLetterFloor: new Map([[0, 150n], [1, 230n]]), firstEpoch: 1 });
    await next.coordinator.begin(recovery.offsets!);
    // Epoch 1 again, on both tables: the dead-letter table's fence expects its own epoch 1.
    const replay = next.coordinator.trigger();
    next.coordinator.acknowledge(
      ack(1, [[0, 150n], [1, 230n]], { files: [await w.dataFile(table, [1, 2])], deadLetterFiles: [await w.dataFile(dlq, [121])], rows: 2, deadLetters: 1 }),
    );
    await replay;
    expect(await committedIn(w, 'bids_table')).toEqual({ epoch: 1, offsets: { 0: 150n, 1: 230n } });
  });

  it('recovers from the newest snapshot of this pipeline, skipping other writers and other groups', async () => {
    const summary = (group: string, epoch: number, offsets: Array<[number, bigint]>) => ({
      [offsetsKey(group)]: encodeOffsets(TOPIC, new Map(offsets)),
      [EPOCH_KEY]: String(epoch),
    });
    await commitAppend(w.catalog, table.ident, [], summary(GROUP, 6, [[0, 40n], [1, 41n]]));
    await commitAppend(w.catalog, table.ident, [], summary(GROUP, 7, [[0, 70n], [1, 71n]]));
    // Newer snapshots by others: a compaction with no offsets, another job's group.
    await commitAppend(w.catalog, table.ident, [await w.dataFile(table, [5])], { operation: 'replace' });
    await commitAppend(w.catalog, table.ident, [], summary('other-group', 99, [[0, 999n], [1, 999n]]));

    const h = harness(w);
    const recovery = h.coordinator.recover(await w.catalog.loadTable(table.ident), undefined);
    expect(recovery).toEqual({ offsets: new Map([[0, 70n], [1, 71n]]), deadLetterFloor: new Map(), firstEpoch: 8 });
    expect(h.coordinator.lastCommittedEpoch).toBe(7);
    // A recovered pipeline commits no start snapshot of its own, and its fence expects epoch 7.
    w.catalog.commits.length = 0;
    await h.coordinator.begin(recovery.offsets!);
    expect(w.catalog.commits).toEqual([]);
    const pending = h.coordinator.trigger();
    expect(h.barriers).toEqual([8]);
    h.coordinator.acknowledge(ack(8, [[0, 80n], [1, 71n]]));
    await pending;
    expect(await committedIn(w, 'bids_table')).toEqual({ epoch: 8, offsets: { 0: 80n, 1: 71n } });
  });

  it('close() fails a checkpoint waiting for its ack and refuses new ones', async () => {
    const h = harness(w);
    h.coordinator.recover(table, undefined);
    await h.coordinator.begin(new Map([[0, 0n]]));
    const pending = h.coordinator.trigger();
    await h.coordinator.close();
    expect(await codeOf(pending)).toBe('CHECKPOINT_FAILED');
    expect(await codeOf(h.coordinator.trigger())).toBe('CHECKPOINT_FAILED');
    expect(h.barriers).toEqual([1]);
  });
  it('a partition that joins during a checkpoint is in the commits from the next epoch on', async () => {
    const h = harness(w);
    h.coordinator.recover(table, undefined);
    await h.coordinator.begin(new Map([[0, 0n]]));
    expect(h.coordinator.upcomingEpoch).toBe(1);
    const first = h.coordinator.trigger();
    // Barrier 1 is out: a partition joining now has its first rows in epoch 2.
    expect([h.barriers, h.coordinator.upcomingEpoch]).toEqual([[1], 2]);
    h.coordinator.acknowledge(ack(1, [[0, 4n]]));
    await first;
    expect(await committedIn(w, 'bids_table')).toEqual({ epoch: 1, offsets: { 0: 4n } });
    const second = h.coordinator.trigger();
    h.coordinator.acknowledge(ack(2, [[0, 4n], [1, 6n]]));
    await second;
    // Partition 0 did not move, but the joined partition did: epoch 2 is committed with both.
    expect(await committedIn(w, 'bids_table')).toEqual({ epoch: 2, offsets: { 0: 4n, 1: 6n } });
    expect(h.groupCommits.at(-1)).toEqual(new Map([[0, 4n], [1, 6n]]));
  });
});
