// Sink actors of several pipelines on shared threads (actor-threads.ts), with the real sink
// thread and a real SQL catalog and file warehouse: the number of threads is bounded by
// maxThreads, not by the actors; one actor's failure leaves the others on its thread working;
// a thread that dies fails each actor it hosted once, and new actors get a fresh thread.

import * as arrow from 'apache-arrow';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamError } from '../../../src/errors.js';
import { createCatalog } from '../../../src/iceberg/catalogs.js';
import type { Catalog, LoadedTable } from '../../../src/iceberg/catalog.js';
import { localPath } from '../../../src/iceberg/file-io.js';
import { openTable } from '../../../src/iceberg/table.js';
import type { SinkActorInit } from '../../../src/runtime/sink-actor.js';
import type { CheckpointAck } from '../../../src/runtime/threads/sink-messages.js';
import { ThreadedSink, sinkThreads } from '../../../src/runtime/threads/sink-thread.js';
import { ensureBuilt } from '../../helpers/build.js';
import { batchOf, fields, sinkConfig, sqlCatalogConfig } from '../../helpers/iceberg-fixtures.js';

const schema = fields({ id: 'BIGINT' });
let catalog: Catalog;
let catalogConfig: ReturnType<typeof sqlCatalogConfig>['config'];

beforeAll(async () => {
  ensureBuilt();
  catalogConfig = sqlCatalogConfig().config;
  catalog = await createCatalog(catalogConfig);
});
afterAll(async () => catalog?.close());

function initOf(pipelineId: string, table: LoadedTable): SinkActorInit {
  return { pipelineId, catalog: catalogConfig, table, deadLetterTable: null, partitions: [0], firstEpoch: 1, deadLetterFloor: [], maxBufferedBytes: 1 << 20 };
}

/** A started sink, what it acknowledged and how it failed. */
async function started(sink: ThreadedSink, init: SinkActorInit) {
  const acks: CheckpointAck[] = [];
  const failures: StreamError[] = [];
  let ackWaiter: ((a: CheckpointAck) => void) | undefined;
  let failWaiter: ((e: StreamError) => void) | undefined;
  await sink.start(init, {
    onConsumed: () => {},
    onAck: (a) => {
      acks.push(a);
      ackWaiter?.(a);
    },
    onFailure: (e) => {
      failures.push(e);
      failWaiter?.(e);
    },
  });
  return {
    acks,
    failures,
    nextAck: () => new Promise<CheckpointAck>((resolve) => (ackWaiter = resolve)),
    nextFailure: () => new Promise<StreamError>((resolve) => (failWaiter = resolve)),
  };
}

function sendEpoch(sink: ThreadedSink, epoch: number, ids: bigint[], nextOffset: bigint): void {
  const rows = arrow.tableToIPC(new arrow.Table(batchOf(schema, ids.map((id) => ({ id })))), 'stream');
  sink.send({ kind: 'data', partition: 0, rows, deadLetters: null, bytes: rows.byteLength });
  sink.send({ kind: 'barrier', epoch, partition: 0, nextOffset });
}

describe('actors of many pipelines on a bounded set of threads', () => {
  it('hosts any number of actors on at most maxThreads threads, and ends a thread left empty', async () => {
    const threads = sinkThreads(2);
    const sinks: Array<{ sink: ThreadedSink; s: Awaited<ReturnType<typeof started>> }> = [];
    try {
      for (let i = 0; i < 5; i++) {
        const table = await openTable(catalog, 'analytics', sinkConfig(`placed_${i}`, schema));
        const sink = new ThreadedSink(threads);
        sinks.push({ sink, s: await started(sink, initOf(`placed-${i}`, table)) });
      }
      expect(threads.threadCount).toBe(2);
      // Every actor answers on its own port, whichever thread it shares: i + 1 rows for actor i.
      const acks = sinks.map(({ s }) => s.nextAck());
      sinks.forEach(({ sink }, i) => sendEpoch(sink, 1, Array.from({ length: i + 1 }, (_, k) => BigInt(k)), BigInt(i + 1)));
      expect((await Promise.all(acks)).map((a) => a.rows)).toEqual([1, 2, 3, 4, 5]);
    } finally {
      for (const { sink } of sinks) await sink.close();
    }
    expect(threads.threadCount).toBe(0);
  });

  it('one actor failing leaves the others on its thread writing and acknowledging', async () => {
    const threads = sinkThreads(1);
    const broken = new ThreadedSink(threads);
    const healthy = new ThreadedSink(threads);
    try {
      const bad = await openTable(catalog, 'analytics', sinkConfig('unwritable_shared', schema));
      // A regular file where the data folder should be: the write fails, even for root.
      writeFileSync(path.join(localPath(bad.metadata.location), 'data'), 'not a folder');
      const good = await openTable(catalog, 'analytics', sinkConfig('healthy_shared', schema));
      const b = await started(broken, initOf('broken', bad));
      const h = await started(healthy, initOf('healthy', good));
      expect(threads.threadCount).toBe(1);

      const failure = b.nextFailure();
      sendEpoch(broken, 1, [1n, 2n], 2n);
      expect((await failure).code).toBe('STORAGE_FAILED');
      // The pipeline restarts its own sink: the broken actor is dropped from the shared thread.
      await broken.close();

      const ack = h.nextAck();
      sendEpoch(healthy, 1, [10n, 11n, 12n], 3n);
      const a = await ack;
      expect([a.epoch, a.rows, a.files.length]).toEqual([1, 3, 1]);
      expect(h.failures).toEqual([]);
      expect(threads.threadCount).toBe(1);
    } finally {
      await healthy.close();
      await broken.close();
      await threads.close();
    }
  });

  it('a thread that dies fails each actor it hosted once; a new actor gets a fresh thread', async () => {
    const before = { faults: process.env.STREAMBERG_FAULTS, dir: process.env.STREAMBERG_FAULT_DIR };
    // Read by the sink thread when it starts: its first data message of `dies` ends the thread.
    process.env.STREAMBERG_FAULTS = 'sink-exit:dies:1';
    process.env.STREAMBERG_FAULT_DIR = mkdtempSync(path.join(os.tmpdir(), 'actor-threads-faults-'));
    const threads = sinkThreads(1);
    const dies = new ThreadedSink(threads);
    const bystander = new ThreadedSink(threads);
    const later = new ThreadedSink(threads);
    try {
      const d = await started(dies, initOf('dies', await openTable(catalog, 'analytics', sinkConfig('dies', schema))));
      const b = await started(bystander, initOf('bystander', await openTable(catalog, 'analytics', sinkConfig('bystander', schema))));
      const bFailed = b.nextFailure();
      sendEpoch(dies, 1, [1n], 1n);
      const [de, be] = await Promise.all([d.nextFailure(), bFailed]);
      expect([de.code, be.code]).toEqual(['ACTOR_FAILED', 'ACTOR_FAILED']);
      expect(be.message).toContain('sink actor of bystander');
      expect(threads.threadCount).toBe(0);

      const l = await started(later, initOf('later', await openTable(catalog, 'analytics', sinkConfig('later', schema))));
      const ack = l.nextAck();
      sendEpoch(later, 1, [5n, 6n], 2n);
      expect((await ack).rows).toBe(2);
      expect(threads.threadCount).toBe(1);
      expect([d.failures.length, b.failures.length, l.failures.length]).toEqual([1, 1, 0]);
    } finally {
      process.env.STREAMBERG_FAULTS = before.faults;
      process.env.STREAMBERG_FAULT_DIR = before.dir;
      if (before.faults === undefined) delete process.env.STREAMBERG_FAULTS;
      if (before.dir === undefined) delete process.env.STREAMBERG_FAULT_DIR;
      for (const s of [dies, bystander, later]) await s.close();
      await threads.close();
    }
  });
});
