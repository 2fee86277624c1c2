// S3 Tables through moto: table created through the API, commits through
// UpdateTableMetadataLocation with the version token, files in the table's S3 location, and
// pyiceberg reading the committed metadata file back from moto's S3.

import { CreateTableBucketCommand, S3TablesClient } from '@aws-sdk/client-s3tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogConfig } from '../../src/config/types.js';
import { isStreamError } from '../../src/errors.js';
import type { Catalog } from '../../src/iceberg/catalog.js';
import { S3TablesCatalog } from '../../src/iceberg/catalog-s3tables.js';
import { commitAppend } from '../../src/iceberg/commit.js';
import { findOrphanDataFiles } from '../../src/iceberg/orphans.js';
import { openTable } from '../../src/iceberg/table.js';
import { newDataFileWriter } from '../../src/iceberg/data-file-writer.js';
import { arrowSchemaOf } from '../../src/schema/type-mapping.js';
import { batchOf, fields, micros, sinkConfig } from '../helpers/iceberg-fixtures.js';
import { startMoto, useFakeAwsCredentials, type MotoServer } from '../helpers/moto.js';
import { PY_ROWS } from '../helpers/pyiceberg.js';
import { ensurePythonEnv, runPython } from '../helpers/python.js';

const schema = fields({ id: 'BIGINT NOT NULL', event_time: 'TIMESTAMP_LTZ(3)', country: 'STRING', amount: 'DECIMAL(12, 3)' });
const partitionBy = [{ source: 'event_time', transform: { kind: 'day' as const }, text: 'day(event_time)' }];

function rows(from: number, n: number): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, i) => ({
    id: BigInt(from + i),
    event_time: micros(`2025-0${1 + ((from + i) % 2)}-15T12:00:00Z`),
    country: ['DE', 'FR', null][(from + i) % 3],
    amount: BigInt((from + i) * 1001),
  }));
}

describe('S3 Tables catalog on moto + pyiceberg', { timeout: 120_000 }, () => {
  let moto: MotoServer;
  let config: Extract<CatalogConfig, { type: 's3tables' }>;
  let catalog: S3TablesCatalog;

  beforeAll(async () => {
    ensurePythonEnv();
    useFakeAwsCredentials();
    moto = await startMoto();
    const admin = new S3TablesClient({ region: 'us-east-1', endpoint: moto.endpoint });
    const bucket = await admin.send(new CreateTableBucketCommand({ name: 'streamberg-test' }));
    admin.destroy();
    config = { type: 's3tables', name: 's3tables', warehouse: bucket.arn!, region: 'us-east-1', namespace: 'sales', endpoint: moto.endpoint, s3Endpoint: moto.endpoint };
    catalog = new S3TablesCatalog(config);
  }, 900_000);
  afterAll(async () => {
    await catalog?.close();
    await moto?.stop();
  });

  async function pyRead(): Promise<{ rows: Array<Record<string, unknown>>; snapshots: number; spec: string; summary: Record<string, string> }> {
    return runPython(
      PY_ROWS +
        `
import boto3
from pyiceberg.table import StaticTable
s3t = boto3.client("s3tables", endpoint_url=ARGS["endpoint"], region_name="us-east-1")
loc = s3t.get_table_metadata_location(tableBucketARN=ARGS["arn"], namespace="sales", name="orders")["metadataLocation"]
t = StaticTable.from_metadata(loc, properties={"s3.endpoint": ARGS["endpoint"], "s3.access-key-id": "testing",
    "s3.secret-access-key": "testing", "s3.region": "us-east-1"})
tbl = t.scan().to_arrow()
print(json.dumps({"rows": rows_of(tbl, "id"), "snapshots": len(t.metadata.snapshots), "spec": str(t.spec()),
    "summary": dict(t.current_snapshot().summary.additional_properties)}))
`,
      { endpoint: moto.endpoint, arn: config.warehouse },
      { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_SESSION_TOKEN: 'testing' },
    );
  }

  it('creates the table through the API and commits appends that pyiceberg reads from S3', async () => {
    const table = await openTable(catalog, config.namespace, sinkConfig('orders', schema, partitionBy));
    expect(table.metadataLocation.startsWith(table.metadata.location + '/metadata/')).toBe(true);
    expect(table.metadata.location).toMatch(/^s3:\/\/[^/]+--table-s3$/);

    for (const [epoch, from] of [[1, 0], [2, 50]] as const) {
      const writer = newDataFileWriter(table, catalog.io, arrowSchemaOf(schema));
      await writer.write(batchOf(schema, rows(from, 50)));
      await commitAppend(catalog, table.ident, await writer.close(), { 'kafka.offsets.g': String(from + 50), epoch: String(epoch) });
    }
    const out = await pyRead();
    expect(out.snapshots).toBe(2);
    expect(out.spec).toContain('event_time_day: day(2)');
    expect(out.summary['kafka.offsets.g']).toBe('100');
    expect(out.rows).toHaveLength(100);
    expect(out.rows[7]).toEqual({ id: 7, event_time: { datetime: '2025-02-15T12:00:00+00:00' }, country: 'FR', amount: { decimal: '7.007' } });
    expect(out.rows.map((r) => r['id'])).toEqual(Array.from({ length: 100 }, (_, i) => i));
  }, 120_000);

  it('a stale version token is a retryable COMMIT_CONFLICT, and commitAppend rebases over it', async () => {
    const ident = { namespace: 'sales', name: 'orders' };
    const stale = await catalog.loadTable(ident);
    // Another writer lands first.
    const w1 = newDataFileWriter(stale, catalog.io, arrowSchemaOf(schema));
    await w1.write(batchOf(schema, rows(100, 10)));
    await commitAppend(catalog, ident, await w1.close(), {});
    let err: unknown;
    try {
      await catalog.commit(stale, stale.metadata);
    } catch (e) {
      err = e;
    }
    expect(isStreamError(err) && err.code).toBe('COMMIT_CONFLICT');
    expect(isStreamError(err) && err.retryable).toBe(true);

    // A writer that loses the race once: its first commit attempt finds the table moved on.
    let raced = false;
    let lostList: string | undefined;
    const racing: Catalog = Object.create(catalog, {
      commit: {
        value: async (base: Parameters<Catalog['commit']>[0], next: Parameters<Catalog['commit']>[1]) => {
          if (!raced) {
            raced = true;
            lostList = next.snapshots.at(-1)!['manifest-list'];
            const w = newDataFileWriter(base, catalog.io, arrowSchemaOf(schema));
            await w.write(batchOf(schema, rows(110, 10)));
            await commitAppend(catalog, ident, await w.close(), { writer: 'other' });
          }
          return catalog.commit(base, next);
        },
      },
    });
    const w2 = newDataFileWriter(stale, catalog.io, arrowSchemaOf(schema));
    await w2.write(batchOf(schema, rows(120, 10)));
    const { snapshot } = await commitAppend(racing, ident, await w2.close(), (base) => ({ writer: 'me', 'base-snapshots': String(base.snapshots.length) }), {
      initialBackoffMs: 1,
    });
    expect(raced).toBe(true);
    expect(snapshot.summary['writer']).toBe('me');
    // The summary was computed again for the attempt that landed, on top of the other writer's snapshot.
    expect(snapshot.summary['base-snapshots']).toBe('4');
    expect(snapshot.summary['total-records']).toBe('130');

    // The attempt that lost the race wrote a manifest list that nothing references. S3 Tables
    // storage refuses deletes (its own maintenance removes unreferenced files), so it stays.
    expect(lostList).toBeDefined();

    const out = await pyRead();
    expect(out.rows.map((r) => r['id'])).toEqual(Array.from({ length: 130 }, (_, i) => i));
    expect(out.snapshots).toBe(5);
  }, 120_000);

  it('a commit whose answer is lost and whose SDK retry meets ConflictException landed: nothing is deleted, nothing is added twice', async () => {
    const ident = { namespace: 'sales', name: 'orders' };
    const before = await pyRead();
    const table = await catalog.loadTable(ident);
    // Inside the SDK's retry loop: the first UpdateTableMetadataLocation reaches moto and is
    // applied, but its answer is lost (a timeout); the SDK retries it with the same, now stale,
    // version token and moto answers ConflictException. (Table-bucket storage refuses deletes,
    // so here the files would survive even a wrong delete; test/iceberg/commit-outcome.test.ts
    // proves the same path with a file system that deletes.)
    let sent = 0;
    catalog.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'UpdateTableMetadataLocationCommand') return next(args);
        sent++;
        const out = await next(args);
        if (sent === 1) throw Object.assign(new Error('answer lost'), { name: 'TimeoutError', $metadata: {} });
        return out;
      },
      { step: 'deserialize', name: 'loseFirstCommitAnswer' },
    );
    try {
      const w = newDataFileWriter(table, catalog.io, arrowSchemaOf(schema));
      await w.write(batchOf(schema, rows(130, 10)));
      const { table: committed, snapshot } = await commitAppend(catalog, ident, await w.close(), { writer: 'lost-answer' }, { initialBackoffMs: 1 });
      expect(sent).toBe(2);
      expect(committed.metadata.snapshots.filter((s) => s.summary['writer'] === 'lost-answer')).toHaveLength(1);
      // The metadata file and manifest list the lost answer belonged to are the table's own now.
      const now = await catalog.loadTable(ident);
      expect(now.metadata['current-snapshot-id']).toBe(snapshot['snapshot-id']);
      await expect(catalog.io.read(now.metadataLocation)).resolves.toBeDefined();
      await expect(catalog.io.read(snapshot['manifest-list'])).resolves.toBeDefined();
    } finally {
      catalog.client.middlewareStack.remove('loseFirstCommitAnswer');
    }
    const out = await pyRead();
    expect(out.snapshots).toBe(before.snapshots + 1);
    expect(out.rows.map((r) => r['id'])).toEqual(Array.from({ length: 140 }, (_, i) => i));
  }, 120_000);

  it("carries a property set with an append in the same metadata file (a writer's position)", async () => {
    const ident = { namespace: 'sales', name: 'orders' };
    const position = '{"epoch":5,"offsets":{"t":{"0":140}}}';
    const { table } = await commitAppend(catalog, ident, [], {}, { setProperties: { 'streamberg.kafka.offsets.g': position } });
    expect((await catalog.loadTable(ident)).metadataLocation).toBe(table.metadataLocation);
    const props = await runPython<Record<string, string>>(
      `
import boto3
from pyiceberg.table import StaticTable
s3t = boto3.client("s3tables", endpoint_url=ARGS["endpoint"], region_name="us-east-1")
loc = s3t.get_table_metadata_location(tableBucketARN=ARGS["arn"], namespace="sales", name="orders")["metadataLocation"]
t = StaticTable.from_metadata(loc, properties={"s3.endpoint": ARGS["endpoint"], "s3.access-key-id": "testing",
    "s3.secret-access-key": "testing", "s3.region": "us-east-1"})
print(json.dumps(dict(t.properties)))
`,
      { endpoint: moto.endpoint, arn: config.warehouse },
      { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_SESSION_TOKEN: 'testing' },
    );
    expect(props['streamberg.kafka.offsets.g']).toBe(position);
  }, 120_000);

  it('orphan listing is refused by S3 Tables storage (the service removes unreferenced files itself) with a coded error', async () => {
    const ident = { namespace: 'sales', name: 'orders' };
    let err: unknown;
    try {
      await findOrphanDataFiles(catalog, ident, { olderThanMs: 0 });
    } catch (e) {
      err = e;
    }
    expect(isStreamError(err) && err.code).toBe('STORAGE_FAILED');
  });

  it('two processes creating the same table at once end up with one table', async () => {
    const other = new S3TablesCatalog(config);
    try {
      const [a, b] = await Promise.all([
        openTable(catalog, config.namespace, sinkConfig('twice', schema)),
        openTable(other, config.namespace, sinkConfig('twice', schema)),
      ]);
      expect(a.metadataLocation).toBe(b.metadataLocation);
      expect(a.metadata['table-uuid']).toBe(b.metadata['table-uuid']);
      expect((await catalog.loadTable({ namespace: 'sales', name: 'twice' })).metadataLocation).toBe(a.metadataLocation);
    } finally {
      await other.close();
    }
  });
});
