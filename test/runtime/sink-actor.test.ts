// The sink actor in this thread (its worker entry is one thin file): barrier alignment across
// partitions, and the dead-letter floor, writing real Parquet files to a temporary warehouse.

import * as arrow from 'apache-arrow';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as pq from 'parquet-wasm/node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LoadedTable } from '../../src/iceberg/catalog.js';
import type { CheckpointAck, SinkCommand, SinkEvent } from '../../src/runtime/threads/sink-messages.js';
import { SinkActor } from '../../src/runtime/sink-actor.js';
import { arrowRows, warehouse, type Warehouse } from '../helpers/checkpoint-fixtures.js';

describe('SinkActor', () => {
  let w: Warehouse;
  let table: LoadedTable;
  beforeEach(async () => {
    w = await warehouse();
    table = await w.open('rows');
  });
  afterEach(async () => {
    await w.close();
  });

  function actor(events: SinkEvent[], partitions = [0, 1]) {
    return new SinkActor(
      { pipelineId: 'p', catalog: w.config, table, deadLetterTable: null, partitions, firstEpoch: 3, deadLetterFloor: [], maxBufferedBytes: 1 << 20 },
      (e) => events.push(e),
    );
  }

  const data = (partition: number, ids: number[]): SinkCommand => {
    const rows = arrowRows(ids);
    return { kind: 'data', partition, rows, deadLetters: null, bytes: rows.byteLength };
  };
  const barrier = (epoch: number, partition: number, nextOffset: bigint): SinkCommand => ({ kind: 'barrier', epoch, partition, nextOffset });
  const acks = (events: SinkEvent[]) => events.filter((e): e is CheckpointAck => e.kind === 'checkpoint-ack');
  const drain = () => new Promise((resolve) => setTimeout(resolve, 50));

  it('closes an epoch only when every partition passed its barrier; rows after a barrier go to the next epoch', async () => {
    const events: SinkEvent[] = [];
    const a = actor(events);
    a.start();
    a.handle(data(0, [1, 2]));
    a.handle(barrier(3, 0, 2n));
    a.handle(data(0, [3, 4, 5])); // partition 0 is already in epoch 4
    a.handle(data(1, [10]));
    for (let i = 0; i < 20 && events.filter((e) => e.kind === 'consumed').length < 3; i++) await drain();
    expect(acks(events)).toEqual([]);

    a.handle(barrier(3, 1, 11n));
    for (let i = 0; i < 20 && acks(events).length < 1; i++) await drain();
    const [first] = acks(events);
    expect(first).toMatchObject({ epoch: 3, rows: 3, offsets: [[0, 2n], [1, 11n]] });
    expect(first!.files.reduce((n, f) => n + f.recordCount, 0)).toBe(3);

    a.handle(barrier(4, 1, 11n));
    a.handle(barrier(4, 0, 5n));
    for (let i = 0; i < 20 && acks(events).length < 2; i++) await drain();
    expect(acks(events)[1]).toMatchObject({ epoch: 4, rows: 3, offsets: [[1, 11n], [0, 5n]] });
    expect(events[0]).toEqual({ kind: 'started' });
  });

  it('frees the bytes of each data message once its rows are encoded, and the files of the epoch still hold every row', async () => {
    const events: SinkEvent[] = [];
    const a = actor(events, [0]);
    a.start();
    const sent = [data(0, [1, 2, 3]), data(0, [4, 5]), data(0, [6])];
    for (const cmd of sent) a.handle(cmd);
    a.handle(barrier(3, 0, 7n));
    for (let i = 0; i < 20 && acks(events).length < 1; i++) await drain();
    for (const cmd of sent) expect(cmd.kind === 'data' && cmd.rows.byteLength).toBe(0);
    const [ack] = acks(events);
    const ids: bigint[] = [];
    for (const f of ack!.files) {
      const bytes = await readFile(fileURLToPath(f.filePath));
      for (const row of arrow.tableFromIPC(pq.readParquet(bytes).intoIPCStream()).toArray()) ids.push(row.id as bigint);
    }
    expect(ids.sort((x, y) => Number(x - y))).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
  });

  it('a barrier out of turn fails the sink, and nothing after it is written', async () => {
    const events: SinkEvent[] = [];
    const a = actor(events, [0]);
    a.handle(barrier(5, 0, 1n));
    a.handle(data(0, [1]));
    for (let i = 0; i < 20 && !events.some((e) => e.kind === 'failed'); i++) await drain();
    const failed = events.find((e) => e.kind === 'failed');
    expect(failed).toMatchObject({ kind: 'failed', error: { code: 'CHECKPOINT_FAILED' } });
    expect(events.filter((e) => e.kind === 'consumed')).toEqual([]);
  });
  it('a partition added while epoch 3 is open joins at epoch 4: epoch 3 closes without it, epoch 4 waits for it', async () => {
    const events: SinkEvent[] = [];
    const a = actor(events, [0]);
    a.start();
    a.handle(data(0, [1]));
    a.handle({ kind: 'add-partition', partition: 1, firstEpoch: 4 });
    a.handle(data(1, [10, 11]));
    a.handle(barrier(3, 0, 1n));
    for (let i = 0; i < 20 && acks(events).length < 1; i++) await drain();
    expect(acks(events)[0]).toMatchObject({ epoch: 3, rows: 1, offsets: [[0, 1n]] });

    a.handle(barrier(4, 0, 1n));
    for (let i = 0; i < 5; i++) await drain();
    expect(acks(events)).toHaveLength(1); // partition 1 has not passed barrier 4 yet
    a.handle(barrier(4, 1, 7n));
    for (let i = 0; i < 20 && acks(events).length < 2; i++) await drain();
    expect(acks(events)[1]).toMatchObject({ epoch: 4, rows: 2, offsets: [[0, 1n], [1, 7n]] });
  });

  it('a partition added twice, or at an epoch already closed for the others, fails the sink', async () => {
    for (const cmd of [{ kind: 'add-partition', partition: 0, firstEpoch: 3 } as const, { kind: 'add-partition', partition: 2, firstEpoch: 2 } as const]) {
      const events: SinkEvent[] = [];
      const a = actor(events, [0, 1]);
      a.handle(cmd);
      for (let i = 0; i < 20 && !events.some((e) => e.kind === 'failed'); i++) await drain();
      expect(events.find((e) => e.kind === 'failed')).toMatchObject({ kind: 'failed', error: { code: cmd.partition === 0 ? 'ACTOR_FAILED' : 'CHECKPOINT_FAILED' } });
    }
  });
});
