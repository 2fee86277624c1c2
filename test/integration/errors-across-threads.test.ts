// A foreign error thrown inside each kind of thread — transform worker, sink actor, source
// (Kafka consumer) thread — reaches the main thread with its message, its code and the code
// that decides the retry. Before errors.ts was made total, every one of these arrived as
// "Maximum call stack size exceeded". No broker is needed: the source case connects to a
// closed port.

import * as arrow from 'apache-arrow';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaConfig } from '../../src/config/types.js';
import { StreamError } from '../../src/errors.js';
import { createCatalog } from '../../src/iceberg/catalogs.js';
import { type Catalog } from '../../src/iceberg/catalog.js';
import { localPath } from '../../src/iceberg/file-io.js';
import { openTable } from '../../src/iceberg/table.js';
import { createKafka } from '../../src/kafka/client.js';
import { ThreadedTopicSource } from '../../src/runtime/threads/source-thread.js';
import type { SinkCommand } from '../../src/runtime/threads/sink-messages.js';
import { ThreadedSink } from '../../src/runtime/threads/sink-thread.js';
import type { SinkActorInit } from '../../src/runtime/sink-actor.js';
import { TransformPool } from '../../src/runtime/threads/transform-pool.js';
import { buildRecordBatch } from '../helpers/record-batch-builder.js';
import { ensureBuilt } from '../helpers/build.js';
import { batchOf, fields, sinkConfig, sqlCatalogConfig } from '../helpers/iceberg-fixtures.js';
import { pipeline } from '../transform/helpers.js';

beforeAll(() => ensureBuilt());

/** The error and its causes, outermost first. */
function chainOf(e: StreamError): StreamError[] {
  const out: StreamError[] = [];
  for (let c: unknown = e; c instanceof StreamError && out.length < 20; c = c.cause) out.push(c);
  return out;
}

/**
 * A project whose compiled transformer module throws a file-system error, in the constructor or
 * in getTransformationSql. It is plain JavaScript under a dist folder of its own, as
 * `npm run build` would leave it.
 */
function throwingTransformerProject(): { projectRoot: string; distRoot: string } {
  const projectRoot = mkdtempSync(path.join(os.tmpdir(), 'streamberg-thrower-'));
  const distRoot = path.join(projectRoot, 'dist');
  mkdirSync(path.join(projectRoot, 'transformations'));
  mkdirSync(path.join(distRoot, 'transformations'), { recursive: true });
  writeFileSync(path.join(projectRoot, 'transformations/thrower.ts'), 'export {};\n');
  writeFileSync(path.join(distRoot, 'package.json'), '{"type":"module"}\n');
  writeFileSync(
    path.join(distRoot, 'transformations/thrower.js'),
    [
      'const denied = (what) => Object.assign(new Error(`EACCES: permission denied, open \'${what}\'`), { code: "EACCES", errno: -13, syscall: "open", path: what });',
      'export class SqlThrower { getTransformationSql() { throw denied("/etc/streamberg/query.sql"); } }',
      'export class CtorThrower { constructor() { throw denied("/etc/streamberg/lookup.csv"); } }',
    ].join('\n'),
  );
  return { projectRoot, distRoot };
}

describe('a foreign error inside a thread arrives on the main thread intact', () => {
  let pool: TransformPool | undefined;
  afterAll(async () => pool?.close());

  it('transform worker (piscina): message, code and cause chain', async () => {
    const resolve = throwingTransformerProject();
    const config = pipeline({ topic: 't', source: { a: 'STRING' }, sink: { a: 'STRING' } });
    const entry = (className: string) => ({ name: className, className, module: 'transformations.thrower', modulePath: path.join(resolve.projectRoot, 'transformations/thrower.ts'), description: '' });
    pool = new TransformPool(
      new Map([
        ['sql', { pipeline: config, entry: entry('SqlThrower'), resolve }],
        ['ctor', { pipeline: config, entry: entry('CtorThrower'), resolve }],
      ]),
      1,
    );
    const bytes = buildRecordBatch({ baseOffset: 0n, records: [{ value: '{"a":"x"}' }] });
    const chunk = { topic: 't', partition: 0, bytes, fromOffset: 0n, nextOffset: 1n, recordCount: 1, compressedBytes: 0, weight: bytes.byteLength, abortedTransactions: null };

    const direct = await pool.run({ pipelineId: 'sql', chunk, endOffset: undefined, nowMs: 0 }).then(() => null, (e: unknown) => e);
    expect(direct).toBeInstanceOf(StreamError);
    const d = direct as StreamError;
    expect(d.message).toBe("EACCES: permission denied, open '/etc/streamberg/query.sql'");
    expect([d.code, d.foreignCode, d.foreignName, d.details.syscall, d.retryable]).toEqual(['STORAGE_FAILED', 'EACCES', 'Error', 'open', true]);

    const wrapped = await pool.run({ pipelineId: 'ctor', chunk, endOffset: undefined, nowMs: 0 }).then(() => null, (e: unknown) => e);
    const w = wrapped as StreamError;
    expect([w.code, w.retryable]).toEqual(['TRANSFORMER_LOAD_FAILED', false]);
    expect(w.message).toContain("constructing CtorThrower failed: EACCES: permission denied, open '/etc/streamberg/lookup.csv'");
    const root = chainOf(w).at(-1)!;
    expect([root.message, root.foreignCode]).toEqual(["EACCES: permission denied, open '/etc/streamberg/lookup.csv'", 'EACCES']);
  });

  it('sink actor: a warehouse it cannot write to', async () => {
    const { config } = sqlCatalogConfig();
    const catalog: Catalog = await createCatalog(config);
    try {
      const schema = fields({ id: 'BIGINT' });
      const table = await openTable(catalog, 'analytics', sinkConfig('unwritable', schema));
      // A regular file where the data folder should be: mkdir under it fails, even for root.
      const dataDir = path.join(localPath(table.metadata.location), 'data');
      writeFileSync(dataDir, 'not a folder');
      const init: SinkActorInit = { pipelineId: 'p', catalog: config, table, deadLetterTable: null, partitions: [0], firstEpoch: 1, deadLetterFloor: [], maxBufferedBytes: 1 << 20 };
      // On a sink thread as the runtime places it (a thread of its own when no set is shared).
      const sink = new ThreadedSink();
      try {
        const failed = new Promise<StreamError>((resolve) => {
          void sink.start(init, { onConsumed: () => {}, onAck: () => {}, onFailure: resolve }).catch(() => {});
        });
        const rows = arrow.tableToIPC(new arrow.Table(batchOf(schema, [{ id: 1n }, { id: 2n }])), 'stream');
        sink.send({ kind: 'data', partition: 0, rows, deadLetters: null, bytes: rows.byteLength } satisfies SinkCommand);
        sink.send({ kind: 'barrier', epoch: 1, partition: 0, nextOffset: 2n } satisfies SinkCommand);
        const e = await failed;
        expect([e.code, e.domain, e.retryable]).toEqual(['STORAGE_FAILED', 'external', true]);
        const root = chainOf(e).at(-1)!;
        expect(['ENOTDIR', 'EEXIST']).toContain(root.foreignCode);
        expect(root.message).toContain(dataDir);
      } finally {
        await sink.close();
      }
    } finally {
      await catalog.close();
    }
  });

  it('source thread: a broker that refuses connections is a retryable Kafka outage, not an internal error', async () => {
    const kafkaConfig: KafkaConfig = { bootstrapServers: ['127.0.0.1:1'], clientId: 'errors-test', security: { protocol: 'PLAINTEXT' } };
    const source = new ThreadedTopicSource(createKafka(kafkaConfig), kafkaConfig, 'nowhere', 'errors-test-group', {
      isolationLevel: 'read_committed',
      maxChunkRecords: 100,
      maxBytesInFlight: 1 << 20,
      log: () => {},
    });
    let reported: StreamError | undefined;
    try {
      const rejected = await source
        .run(new Map([[0, 0n]]), { onChunk: () => {}, onPosition: () => {}, onError: (e) => (reported = e) })
        .then(() => null, (e: unknown) => e);
      expect(rejected).toBeInstanceOf(StreamError);
      const e = rejected as StreamError;
      expect(reported).toBe(e);
      expect([e.code, e.domain, e.retryable]).toEqual(['KAFKA_UNAVAILABLE', 'external', true]);
      expect(e.message).not.toContain('Maximum call stack');
      const links = chainOf(e);
      expect(links.some((l) => l.foreignName?.startsWith('KafkaJS'))).toBe(true);
      expect(links.map((l) => l.message).join('\n')).toContain('ECONNREFUSED');
      expect(links.some((l) => l.foreignCode === 'ECONNREFUSED')).toBe(true);
    } finally {
      await source.close();
    }
  }, 120_000);
});
