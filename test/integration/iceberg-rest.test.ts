// The REST catalog against Apache Iceberg's reference REST server (its RESTCatalogAdapter over a
// JdbcCatalog), with pyiceberg reading through the same server: create, append, schema
// evolution, a commit racing pyiceberg (409, rebuilt and retried), a commit whose answer is lost
// (a 502 after the server applied it: found in the ancestry, not applied twice), and the
// table-uuid requirement.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestCatalogConfig } from '../../src/config/types.js';
import { isStreamError } from '../../src/errors.js';
import type { Catalog } from '../../src/iceberg/catalog.js';
import { createCatalog } from '../../src/iceberg/catalogs.js';
import { RestCatalog } from '../../src/iceberg/catalog-rest.js';
import { commitAppend } from '../../src/iceberg/commit.js';
import { openTable } from '../../src/iceberg/table.js';
import { newDataFileWriter } from '../../src/iceberg/data-file-writer.js';
import { arrowSchemaOf } from '../../src/schema/type-mapping.js';
import { ROOT, ensureBuilt } from '../helpers/build.js';
import { startIcebergRest, type IcebergRestServer } from '../helpers/iceberg-rest.js';
import { SHIPPED_TOPICS, tempProject } from '../helpers/project.js';
import { batchOf, fields, sinkConfig } from '../helpers/iceberg-fixtures.js';
import { PY_ROWS } from '../helpers/pyiceberg.js';
import { ensurePythonEnv, runPython } from '../helpers/python.js';

const PY_REST = `
from pyiceberg.catalog.rest import RestCatalog
catalog = RestCatalog("rest", uri=ARGS["uri"])
`;

interface Scan {
  rows: Array<Record<string, unknown>>;
  schema: string;
  snapshots: number;
}

function scan(uri: string, table: string): Promise<Scan> {
  return runPython<Scan>(
    PY_ROWS +
      PY_REST +
      `
t = catalog.load_table(ARGS["table"])
print(json.dumps({"rows": rows_of(t.scan().to_arrow(), "id"), "schema": str(t.schema()), "snapshots": len(t.metadata.snapshots)}))
`,
    { uri, table },
  );
}

describe('REST catalog against Iceberg’s reference server', { timeout: 180_000 }, () => {
  let server: IcebergRestServer;
  let config: RestCatalogConfig;
  let catalog: Catalog;

  beforeAll(async () => {
    ensureBuilt();
    ensurePythonEnv();
    server = await startIcebergRest();
    config = { type: 'rest', name: 'rest', uri: server.uri, namespace: 'rest_ns', auth: { kind: 'none' }, headers: {}, properties: {} };
    catalog = await createCatalog(config);
  }, 900_000);
  afterAll(async () => {
    await catalog?.close();
    server?.stop();
  });

  it('creates the namespace and table, appends, evolves the schema; pyiceberg reads it all through the server', async () => {
    const v1 = fields({ id: 'BIGINT NOT NULL', name: 'STRING' });
    const t1 = await openTable(catalog, config.namespace, sinkConfig('people', v1, [], { 'write.parquet.compression-codec': 'zstd' }));
    // The server wrote the metadata, under the warehouse it chose.
    expect(t1.metadataLocation).toContain(server.warehouse);
    expect(t1.metadata.properties['write.parquet.compression-codec']).toBe('zstd');
    const w1 = newDataFileWriter(t1, catalog.io, arrowSchemaOf(v1));
    await w1.write(batchOf(v1, [{ id: 1n, name: 'ann' }]));
    const first = await commitAppend(catalog, t1.ident, await w1.close(), { 'kafka.offsets.g': '{"t":{"0":1}}' });

    const v2 = fields({ id: 'BIGINT NOT NULL', name: 'STRING', score: 'DOUBLE' });
    const t2 = await openTable(catalog, config.namespace, sinkConfig('people', v2));
    expect(t2.metadata.schemas).toHaveLength(2);
    const w2 = newDataFileWriter(t2, catalog.io, arrowSchemaOf(v2));
    await w2.write(batchOf(v2, [{ id: 2n, name: 'bob', score: 0.5 }]));
    const second = await commitAppend(catalog, t2.ident, await w2.close(), {});
    expect(second.snapshot['parent-snapshot-id']).toBe(first.snapshot['snapshot-id']);

    const out = await scan(server.uri, `${config.namespace}.people`);
    expect(out.schema).toContain('3: score: optional double');
    expect(out.snapshots).toBe(2);
    expect(out.rows).toEqual([
      { id: 1, name: 'ann', score: null },
      { id: 2, name: 'bob', score: { float: '0.5' } },
    ]);
    // The summary (our offsets) came back as we sent it.
    const loaded = await catalog.loadTable(t1.ident);
    expect(loaded.metadata.snapshots.find((s) => s['snapshot-id'] === first.snapshot['snapshot-id'])?.summary['kafka.offsets.g']).toBe('{"t":{"0":1}}');
  });

  it('a commit that loses the race to pyiceberg gets a 409 (COMMIT_CONFLICT) and lands on top of pyiceberg’s snapshot', async () => {
    const cols = fields({ id: 'BIGINT NOT NULL', writer: 'STRING' });
    const table = await openTable(catalog, config.namespace, sinkConfig('raced', cols));
    const pyAppend = (): Promise<unknown> =>
      runPython(
        PY_REST +
          `
import pyarrow as pa
schema = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("writer", pa.string())])
catalog.load_table(ARGS["table"]).append(pa.Table.from_pydict({"id": [100, 101], "writer": ["py", "py"]}, schema=schema))
print(json.dumps({}))
`,
        { uri: server.uri, table: `${config.namespace}.raced` },
      );
    const outcomes: string[] = [];
    // pyiceberg commits between our load and our commit, the first two times.
    const racing: Catalog = Object.create(catalog, {
      commit: {
        value: async (base: Parameters<Catalog['commit']>[0], next: Parameters<Catalog['commit']>[1]) => {
          if (outcomes.length < 2) await pyAppend();
          try {
            const r = await catalog.commit(base, next);
            outcomes.push('ok');
            return r;
          } catch (err) {
            outcomes.push(isStreamError(err) ? err.code : String(err));
            throw err;
          }
        },
      },
    });
    const w = newDataFileWriter(table, catalog.io, arrowSchemaOf(cols));
    await w.write(batchOf(cols, [{ id: 1n, writer: 'ts' }, { id: 2n, writer: 'ts' }]));
    const { snapshot } = await commitAppend(racing, table.ident, await w.close(), { writer: 'ts' }, { initialBackoffMs: 1 });
    expect(outcomes).toEqual(['COMMIT_CONFLICT', 'COMMIT_CONFLICT', 'ok']);
    expect(snapshot.summary['total-records']).toBe('6');
    const out = await scan(server.uri, `${config.namespace}.raced`);
    expect(out.rows.map((r) => r['id'])).toEqual([1, 2, 100, 100, 101, 101]);
  });

  it('a commit the server applied but whose answer was lost (502) is found in the ancestry, not applied twice', async () => {
    const cols = fields({ id: 'BIGINT NOT NULL' });
    // The server is real; only the answer to the first commit is replaced by a gateway error.
    let lost = 0;
    const lossy: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const url = String(input instanceof Request ? input.url : input);
      if (init?.method === 'POST' && /\/tables\/lossy$/.test(url) && lost === 0) {
        lost++;
        return new Response('{"error":{"message":"bad gateway","type":"BadGateway","code":502}}', { status: 502 });
      }
      return res;
    };
    const lossyCatalog = await RestCatalog.connect(config, lossy);
    const table = await openTable(lossyCatalog, config.namespace, sinkConfig('lossy', cols));
    const w = newDataFileWriter(table, lossyCatalog.io, arrowSchemaOf(cols));
    await w.write(batchOf(cols, [{ id: 7n }, { id: 8n }]));
    const retries: string[] = [];
    const { snapshot } = await commitAppend(lossyCatalog, table.ident, await w.close(), {}, { initialBackoffMs: 1, onRetry: (e) => retries.push(e.code) });
    expect(lost).toBe(1);
    // The reload that follows every unclear answer finds the commit: no second attempt is made.
    expect(retries).toEqual([]);
    const loaded = await catalog.loadTable(table.ident);
    expect(loaded.metadata.snapshots.map((s) => s['snapshot-id'])).toEqual([snapshot['snapshot-id']]);
    const out = await scan(server.uri, `${config.namespace}.lossy`);
    expect(out.rows.map((r) => r['id'])).toEqual([7, 8]);
  });

  it("sets and removes table properties in the append's own commit (set-properties), as a writer's position needs", async () => {
    const cols = fields({ id: 'BIGINT NOT NULL' });
    const table = await openTable(catalog, config.namespace, sinkConfig('positioned', cols, [], { 'streamberg.kafka.reset.g': 'earliest-offset' }));
    const w = newDataFileWriter(table, catalog.io, arrowSchemaOf(cols));
    await w.write(batchOf(cols, [{ id: 1n }]));
    const position = '{"epoch":1,"offsets":{"t":{"0":1}}}';
    await commitAppend(catalog, table.ident, await w.close(), {}, {
      setProperties: { 'streamberg.kafka.offsets.g': position },
      removeProperties: ['streamberg.kafka.reset.g'],
    });
    const seen = await runPython<{ props: Record<string, string>; snapshots: number }>(
      PY_REST + `
t = catalog.load_table(ARGS["table"])
print(json.dumps({"props": dict(t.properties), "snapshots": len(t.metadata.snapshots)}))
`,
      { uri: server.uri, table: `${config.namespace}.positioned` },
    );
    expect(seen.snapshots).toBe(1);
    expect(seen.props['streamberg.kafka.offsets.g']).toBe(position);
    expect(seen.props['streamberg.kafka.reset.g']).toBeUndefined();
  });

  it('--check says whether the REST catalog answers GET /v1/config', () => {
    const check = (uri: string) => {
      const topics = SHIPPED_TOPICS.replace(/catalog:\n(?:  .*\n)+/, `catalog:\n  type: "rest"\n  uri: "${uri}"\n  token: "\${CATALOG_TOKEN}"\n`);
      const r = spawnSync(process.execPath, [path.join(ROOT, 'dist/src/cli.js'), '--check', '--config', tempProject({ topics })], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', CATALOG_TOKEN: 'tok-never-printed' },
        timeout: 60_000,
      });
      return { code: r.status, out: r.stdout + r.stderr };
    };
    const up = check(server.uri);
    expect(up.code, up.out).toBe(0);
    expect(up.out).toContain(`catalog: rest "rest" (${server.uri}, auth bearer token), namespace analytics`);
    expect(up.out).toContain(`REST catalog ${server.uri}: GET /v1/config answered`);
    const down = check('http://127.0.0.1:1');
    expect(down.code, down.out).toBe(1);
    expect(down.out).toMatch(/REST catalog http:\/\/127\.0\.0\.1:1: REST catalog GET \/v1\/config: no answer/);
    expect(up.out + down.out).not.toContain('tok-never-printed');
  });

  it('a missing table is TABLE_NOT_FOUND; a commit built on a table since re-created fails assert-table-uuid (409)', async () => {
    const missing = await catalog.loadTable({ namespace: config.namespace, name: 'nope' }).catch((e: unknown) => e);
    expect(isStreamError(missing) && missing.code).toBe('TABLE_NOT_FOUND');
    // A stale table uuid (as if the table were dropped and re-created) fails assert-table-uuid.
    const cols = fields({ id: 'BIGINT NOT NULL' });
    const t = await openTable(catalog, config.namespace, sinkConfig('stale', cols));
    const stale = { ...t, metadata: { ...t.metadata, 'table-uuid': '00000000-0000-0000-0000-000000000000' } };
    const err = await catalog.commit(stale, { ...stale.metadata, properties: { ...stale.metadata.properties, a: 'b' } }).catch((e: unknown) => e);
    expect(isStreamError(err) && err.code).toBe('COMMIT_CONFLICT');
    expect(String((err as Error).message)).toMatch(/UUID does not match/);
  });
});
