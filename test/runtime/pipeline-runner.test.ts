// The runner wired to fakes for its ports (a topic source and a sink that the test drives) and a
// real SQL catalog on a temporary warehouse: no broker, no thread.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppConfig, PipelineConfig } from '../../src/config/types.js';
import { StreamError, isStreamError } from '../../src/errors.js';
import { latestSnapshotWithSummaryKey } from '../../src/iceberg/commit.js';
import type { CheckpointAck, SinkCommand } from '../../src/runtime/threads/sink-messages.js';
import { EPOCH_KEY, decodeOffsets, offsetsKey, type PartitionOffsets } from '../../src/iceberg/snapshot-offsets.js';
import { PipelineRunner, type PipelineDeps } from '../../src/runtime/pipeline-runner.js';
import type { SinkActorInit } from '../../src/runtime/sink-actor.js';
import type { SinkHandlers, SinkPort } from '../../src/runtime/threads/sink-port.js';
import { NAMESPACE, ROW_FIELDS, metricValue, recordingLogger, testMetrics, warehouse, type Warehouse } from '../helpers/checkpoint-fixtures.js';
import { sinkConfig } from '../helpers/iceberg-fixtures.js';
import type { FetchedChunk, SourceHandlers, TopicSource } from '../../src/runtime/threads/source-port.js';
import type { RecordChunk } from '../../src/kafka/record-chunks.js';
import type { TransformTask, TransformTaskResult } from '../../src/runtime/threads/transform-messages.js';

const TOPIC = 'bids';
const GROUP = 'runner-group';

class FakeSource implements TopicSource {
  readonly topic = TOPIC;
  readonly paused = new Set<number>();
  readonly commits: PartitionOffsets[] = [];
  runFrom: Map<number, bigint> | undefined;
  /** Partitions handed to `add` while running, with their start offsets. */
  readonly added: Array<Map<number, bigint>> = [];
  handlers: SourceHandlers | undefined;
  /** Each chunk released, as `<weight>:<valueBytes>` (`-` where no decoded size came with it). */
  readonly released: string[] = [];
  closed = false;

  /** Each partition's log start, for `initialOffsets('earliest-offset')`; default: as `initial`. */
  readonly logStart = new Map<number, bigint>();
  /** What `initialOffsets` answers for any other mode (the topic's partitions as of now). */
  readonly initial: Map<number, bigint>;

  constructor(
    initial: Map<number, bigint>,
    private readonly ends: Map<number, bigint> = new Map(),
  ) {
    this.initial = new Map(initial);
  }

  async partitions(): Promise<number[]> {
    return [...this.initial.keys()];
  }

  async initialOffsets(mode?: string): Promise<Map<number, bigint>> {
    if (mode === 'earliest-offset') return new Map([...this.initial].map(([p, o]) => [p, this.logStart.get(p) ?? o]));
    return new Map(this.initial);
  }

  add(start: Map<number, bigint>): void {
    this.added.push(new Map(start));
  }

  async endOffsets(): Promise<Map<number, bigint>> {
    return new Map(this.ends);
  }

  async run(start: Map<number, bigint>, handlers: SourceHandlers): Promise<void> {
    this.runFrom = new Map(start);
    this.handlers = handlers;
  }

  pause(partitions: number[]): void {
    for (const p of partitions) this.paused.add(p);
  }

  resume(partitions: number[]): void {
    for (const p of partitions) this.paused.delete(p);
  }

  release(chunk: RecordChunk, valueBytes?: number): void {
    this.released.push(`${chunk.weight}:${valueBytes ?? '-'}`);
  }

  async commit(offsets: Map<number, bigint>): Promise<void> {
    this.commits.push(new Map(offsets));
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Records [from, from + n) of a partition, as one chunk (the runner never looks inside). */
  deliver(partition: number, from: bigint, n: number): void {
    const chunk = { topic: TOPIC, partition, bytes: new Uint8Array(16), fromOffset: from, nextOffset: from + BigInt(n), recordCount: n, compressedBytes: 0, weight: 100 + n, abortedTransactions: null };
    this.handlers!.onChunk({ partition, chunk, highWatermark: from + BigInt(n) } satisfies FetchedChunk);
  }
}

class FakeSink implements SinkPort {
  init: SinkActorInit | undefined;
  handlers: SinkHandlers | undefined;
  readonly sent: SinkCommand[] = [];
  closed = false;

  async start(init: SinkActorInit, handlers: SinkHandlers): Promise<void> {
    this.init = init;
    this.handlers = handlers;
  }

  send(cmd: SinkCommand): void {
    this.sent.push(cmd);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** What went to the sink for one partition, as `data:<bytes>` and `barrier:<epoch>@<offset>`. */
  of(partition: number): string[] {
    return this.sent
      .filter((c) => c.partition === partition)
      .map((c) => (c.kind === 'data' ? `data:${c.bytes}` : c.kind === 'barrier' ? `barrier:${c.epoch}@${c.nextOffset}` : `add@epoch${c.firstEpoch}`));
  }
}

/** Transform results of `recordCount` bytes, so the test can tell the chunks apart. */
const pool = {
  async run(task: TransformTask): Promise<TransformTaskResult> {
    const n = task.chunk.recordCount;
    return { rows: new Uint8Array(n), deadLetters: null, stats: { records: n, rows: n, filtered: 0, tombstones: 0, deadLetters: { RECORD_DECODE_FAILED: 0, RECORD_TOO_LARGE: 0, EXPRESSION_FAILED: 0 } }, valueBytes: n };
  },
};

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('PipelineRunner', () => {
  let w: Warehouse;
  let pipeline: PipelineConfig;
  let app: AppConfig;
  beforeEach(async () => {
    w = await warehouse();
    // Only the fields the runner reads: the rest of a loaded configuration plays no part here.
    pipeline = { topic: TOPIC, groupId: GROUP, scanMode: 'earliest-offset', sink: sinkConfig('bids_rows', ROW_FIELDS), onError: 'skip', deadLetter: { kind: 'none' } } as unknown as PipelineConfig;
    app = { catalog: { namespace: NAMESPACE }, runtime: { checkpointIntervalMs: 1000, maintenance: { enabled: false } } } as unknown as AppConfig;
  });
  afterEach(async () => {
    await w.close();
  });

  function runner(source: FakeSource, sink: FakeSink, extra: Partial<PipelineDeps> = {}): PipelineRunner {
    return new PipelineRunner({
      app,
      pipeline,
      catalog: w.catalog,
      ports: { source: () => source, sink: () => sink },
      pool,
      metrics: testMetrics(),
      log: recordingLogger(),
      bounded: false,
      ...extra,
    });
  }

  const ackOf = (sink: FakeSink, epoch: number, files: CheckpointAck['files'] = []): CheckpointAck => ({
    kind: 'checkpoint-ack',
    epoch,
    files,
    deadLetterFiles: [],
    rows: 0,
    deadLetters: 0,
    bytes: 0,
    offsets: sink.sent.flatMap((c): Array<[number, bigint]> => (c.kind === 'barrier' && c.epoch === epoch ? [[c.partition, c.nextOffset]] : [])),
  });

  it('forwards rows then barriers in each partition order, commits the ack, and a restarted runner resumes from it', async () => {
    const source = new FakeSource(new Map([[0, 0n], [1, 10n]]));
    const sink = new FakeSink();
    const r = runner(source, sink);
    await r.start();
    expect(source.runFrom).toEqual(new Map([[0, 0n], [1, 10n]]));
    expect(sink.init).toMatchObject({ partitions: [0, 1], firstEpoch: 1, deadLetterFloor: [] });

    source.deliver(0, 0n, 5);
    source.deliver(1, 10n, 3);
    source.deliver(0, 5n, 2);
    await settle();
    const checkpoint = r.checkpoint();
    expect(sink.of(0)).toEqual(['data:5', 'data:2', 'barrier:1@7']);
    expect(sink.of(1)).toEqual(['data:3', 'barrier:1@13']);
    // Rows after the barrier belong to the next epoch and follow it.
    source.deliver(1, 13n, 4);
    await settle();
    expect(sink.of(1)).toEqual(['data:3', 'barrier:1@13', 'data:4']);
    // Each chunk goes back to the source by the weight it came with, and with its values' size.
    expect(source.released.sort()).toEqual(['102:2', '103:3', '104:4', '105:5']);

    const table = await w.catalog.loadTable({ namespace: NAMESPACE, name: 'bids_rows' });
    sink.handlers!.onAck(ackOf(sink, 1, [await w.dataFile(table, [1, 2, 3])]));
    await checkpoint;
    expect(r.lastCommittedEpoch).toBe(1);
    expect(source.commits).toEqual([new Map([[0, 7n], [1, 13n]])]);
    await r.close();
    expect([source.closed, sink.closed]).toEqual([true, true]);

    // The next runner of the pipeline: the table says where to start, whatever the topic says.
    const source2 = new FakeSource(new Map([[0, 0n], [1, 0n]]));
    const sink2 = new FakeSink();
    const r2 = runner(source2, sink2);
    await r2.start();
    expect(source2.runFrom).toEqual(new Map([[0, 7n], [1, 13n]]));
    expect(sink2.init).toMatchObject({ firstEpoch: 2 });
    expect(r2.lastCommittedEpoch).toBe(1);
    await r2.close();
  });

  it('reports the newest committed record time once the checkpoint that covers it completes, and lag in seconds only while behind', async () => {
    const BASE = 1_700_000_000_000;
    // Each chunk's newest record timestamp is BASE + its first offset in seconds.
    const timedPool = {
      async run(task: TransformTask): Promise<TransformTaskResult> {
        const r = await pool.run(task);
        r.stats.newestTimestampMs = BASE + Number(task.chunk.fromOffset) * 1000;
        return r;
      },
    };
    const metrics = testMetrics();
    const value = async (g: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> }, labels: Record<string, string> = {}) =>
      (await g.get()).values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
    const source = new FakeSource(new Map([[0, 0n], [1, 0n]]));
    const sink = new FakeSink();
    const r = runner(source, sink, { pool: timedPool, metrics });
    await r.start();
    source.deliver(0, 0n, 5);
    source.deliver(1, 0n, 40);
    source.deliver(0, 5n, 5);
    await settle();
    const first = r.checkpoint();
    source.deliver(1, 40n, 1); // after barrier 1: belongs to epoch 2
    await settle();
    expect(await value(metrics.committedEventTime)).toBeUndefined();
    sink.handlers!.onAck(ackOf(sink, 1));
    await first;
    expect(await value(metrics.committedEventTime)).toBe((BASE + 5000) / 1000);
    expect(await value(metrics.checkpointCompletedAt, { pipeline: TOPIC })).toBeGreaterThan(BASE / 1000);
    const second = r.checkpoint();
    await settle();
    sink.handlers!.onAck(ackOf(sink, 2));
    await second;
    expect(await value(metrics.committedEventTime)).toBe((BASE + 40_000) / 1000);
    // Every chunk reached its high watermark: caught up, so not late however old the records are.
    expect(await value(metrics.consumerLagSeconds, { partition: '1' })).toBe(0);
    source.handlers!.onChunk({ partition: 0, chunk: { topic: TOPIC, partition: 0, bytes: new Uint8Array(16), fromOffset: 10n, nextOffset: 11n, recordCount: 1, compressedBytes: 0, weight: 16, abortedTransactions: null }, highWatermark: 100n });
    await settle();
    // Behind by 89 records whose newest was written at BASE + 10 s: late by now minus that.
    expect(await value(metrics.consumerLagSeconds, { partition: '0' })).toBeGreaterThan((Date.now() - (BASE + 10_000)) / 1000 - 60);
    await r.close();
  });

  it('pauses every partition while the sink holds more than its budget, and resumes below half of it', async () => {
    const source = new FakeSource(new Map([[0, 0n], [1, 0n]]));
    const sink = new FakeSink();
    const r = runner(source, sink, { sinkBufferBytes: 10 });
    await r.start();
    source.deliver(0, 0n, 6);
    await settle();
    expect([...source.paused]).toEqual([]);
    source.deliver(1, 0n, 6);
    await settle();
    expect([...source.paused].sort()).toEqual([0, 1]);
    sink.handlers!.onConsumed(6);
    expect([...source.paused].sort()).toEqual([0, 1]); // 6 bytes left: above half the budget
    sink.handlers!.onConsumed(2);
    expect([...source.paused]).toEqual([]);
    await r.close();
  });

  it('a sink failure fails the runner with the sink error', async () => {
    const source = new FakeSource(new Map([[0, 0n]]));
    const sink = new FakeSink();
    const r = runner(source, sink);
    await r.start();
    sink.handlers!.onFailure(new StreamError('STORAGE_FAILED', 'sink actor of bids_rows: disk full'));
    const e = await r.failed.then(() => undefined, (err: unknown) => err);
    expect(isStreamError(e) && [e.code, e.message]).toEqual(['STORAGE_FAILED', 'sink actor of bids_rows: disk full']);
    await r.close();
  });

  it('stop() pauses every partition, takes a final checkpoint after the one under way, and closes', async () => {
    const source = new FakeSource(new Map([[0, 0n], [1, 0n]]));
    const sink = new FakeSink();
    const r = runner(source, sink);
    await r.start();
    source.deliver(0, 0n, 3);
    await settle();
    const first = r.checkpoint();
    source.deliver(1, 0n, 4);
    await settle();
    const stopped = r.stop();
    expect([...source.paused].sort()).toEqual([0, 1]);
    sink.handlers!.onAck(ackOf(sink, 1));
    await first;
    await settle();
    // The final checkpoint's barriers come after the rows accepted during the first one.
    expect(sink.of(1)).toEqual(['barrier:1@0', 'data:4', 'barrier:2@4']);
    sink.handlers!.onAck(ackOf(sink, 2));
    await stopped;
    expect([source.closed, sink.closed]).toEqual([true, true]);
    const head = latestSnapshotWithSummaryKey((await w.catalog.loadTable({ namespace: NAMESPACE, name: 'bids_rows' })).metadata, offsetsKey(GROUP))!;
    expect([head.summary[EPOCH_KEY], decodeOffsets(TOPIC, head.summary[offsetsKey(GROUP)]!)]).toEqual(['2', new Map([[0, 3n], [1, 4n]])]);
  });

  it('bounded: drains once every partition reached the end it saw at start', async () => {
    const source = new FakeSource(new Map([[0, 0n], [1, 5n]]), new Map([[0, 4n], [1, 5n]]));
    const sink = new FakeSink();
    const r = runner(source, sink, { bounded: true });
    let drained = false;
    void r.drained.then(() => (drained = true));
    await r.start();
    // Partition 1 starts at its end: paused at once.
    expect([...source.paused]).toEqual([1]);
    source.deliver(0, 0n, 4);
    await settle();
    expect(drained).toBe(true);
    expect([...source.paused].sort()).toEqual([0, 1]);
    await r.close();
  });
  const committedOffsets = async () => {
    const head = latestSnapshotWithSummaryKey((await w.catalog.loadTable({ namespace: NAMESPACE, name: 'bids_rows' })).metadata, offsetsKey(GROUP))!;
    return decodeOffsets(TOPIC, head.summary[offsetsKey(GROUP)]!);
  };

  it('a partition discovered during a checkpoint joins at the next epoch: the pending one closes without it, the next commits its offset', async () => {
    const source = new FakeSource(new Map([[0, 0n], [1, 0n]]));
    const sink = new FakeSink();
    const metrics = testMetrics();
    const log = recordingLogger();
    const r = runner(source, sink, { metrics, log });
    await r.start();
    expect(await metricValue(metrics, 'streamberg_source_partitions', { pipeline: TOPIC })).toBe(2);
    source.deliver(0, 0n, 3);
    await settle();
    const first = r.checkpoint(); // barrier 1 goes to partitions 0 and 1 only

    // Partition 2 appears with records at 5..; scan_mode does not matter for it: its log start.
    source.initial.set(2, 40n);
    source.logStart.set(2, 5n);
    expect(await r.discoverPartitions()).toEqual([2]);
    expect(await r.discoverPartitions()).toEqual([]);
    expect(source.added).toEqual([new Map([[2, 5n]])]);
    expect(await metricValue(metrics, 'streamberg_source_partitions', { pipeline: TOPIC })).toBe(3);
    expect(log.lines.find((l) => l.msg.startsWith('partitions discovered'))).toMatchObject({ level: 'info', msg: expect.stringContaining('2 → 3'), fields: { topic: TOPIC, from: 2, to: 3, partitions: [2] } });
    source.deliver(2, 5n, 4);
    await settle();
    // The sink hears of the partition before its rows, at epoch 2: barrier 1 never comes from it.
    expect(sink.of(2)).toEqual(['add@epoch2', 'data:4']);
    sink.handlers!.onAck(ackOf(sink, 1));
    await first;
    expect(source.commits.at(-1)).toEqual(new Map([[0, 3n], [1, 0n]]));

    const second = r.checkpoint();
    expect(sink.of(2)).toEqual(['add@epoch2', 'data:4', 'barrier:2@9']);
    sink.handlers!.onAck(ackOf(sink, 2));
    await second;
    expect(await committedOffsets()).toEqual(new Map([[0, 3n], [1, 0n], [2, 9n]]));
    await r.close();

    // A restart resumes the partition where its commit left it.
    const source2 = new FakeSource(new Map([[0, 0n], [1, 0n], [2, 40n]]));
    const r2 = runner(source2, new FakeSink());
    await r2.start();
    expect(source2.runFrom).toEqual(new Map([[0, 3n], [1, 0n], [2, 9n]]));
    await r2.close();
  });

  it('a restart starts a partition the committed position lacks from its earliest offset, not by scan_mode', async () => {
    pipeline = { ...pipeline, scanMode: 'latest-offset' } as PipelineConfig;
    const source = new FakeSource(new Map([[0, 10n], [1, 20n]]));
    const sink = new FakeSink();
    const r = runner(source, sink);
    await r.start();
    const cp = r.checkpoint();
    sink.handlers!.onAck(ackOf(sink, 1));
    await cp;
    await r.close();

    // While it was down (or before a checkpoint took it in), partition 2 was added and written to.
    const source2 = new FakeSource(new Map([[0, 30n], [1, 40n], [2, 50n]]));
    source2.logStart.set(2, 0n);
    const log = recordingLogger();
    const r2 = runner(source2, new FakeSink(), { log });
    await r2.start();
    expect(source2.runFrom).toEqual(new Map([[0, 10n], [1, 20n], [2, 0n]]));
    expect(log.lines.some((l) => l.msg === 'partitions without a committed offset start from their earliest offset' && (l.fields.partitions as number[]).join() === '2')).toBe(true);
    await r2.close();
  });

  it('adds no partition once stopping, and none in a bounded run', async () => {
    const source = new FakeSource(new Map([[0, 0n]]));
    const sink = new FakeSink();
    const r = runner(source, sink);
    await r.start();
    source.initial.set(1, 0n);
    const stopped = r.stop();
    expect(await r.discoverPartitions()).toEqual([]);
    sink.handlers!.onAck(ackOf(sink, 1));
    await stopped;
    expect(source.added).toEqual([]);
    expect(sink.sent.filter((c) => c.kind === 'add-partition')).toEqual([]);

    const bounded = new FakeSource(new Map([[0, 0n]]), new Map([[0, 5n]]));
    const rb = runner(bounded, new FakeSink(), { bounded: true });
    await rb.start();
    bounded.initial.set(1, 0n);
    expect(await rb.discoverPartitions()).toEqual([]);
    expect(bounded.added).toEqual([]);
    await rb.close();
  });

  it('a partition discovered while the sink is over its budget starts paused', async () => {
    const source = new FakeSource(new Map([[0, 0n]]));
    const sink = new FakeSink();
    const r = runner(source, sink, { sinkBufferBytes: 4 });
    await r.start();
    source.deliver(0, 0n, 6);
    await settle();
    expect([...source.paused]).toEqual([0]);
    source.initial.set(1, 0n);
    await r.discoverPartitions();
    expect([...source.paused].sort()).toEqual([0, 1]);
    sink.handlers!.onConsumed(6);
    expect([...source.paused]).toEqual([]);
    await r.close();
  });
});
