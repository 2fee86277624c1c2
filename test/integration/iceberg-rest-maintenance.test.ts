// Table maintenance through Apache Iceberg's reference REST server (Java's catalog applies the
// commits): expiry's removed snapshots travel as `remove-snapshots` updates with `main`
// asserted; compaction's `replace` snapshot as `add-snapshot`. pyiceberg reads the same rows
// through the server afterwards.

import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestCatalogConfig } from '../../src/config/types.js';
import type { Catalog } from '../../src/iceberg/catalog.js';
import { createCatalog } from '../../src/iceberg/catalogs.js';
import { commitAppend, latestSnapshotWithSummaryKey } from '../../src/iceberg/commit.js';
import { compactTable } from '../../src/iceberg/compact.js';
import { expireSnapshots } from '../../src/iceberg/expire.js';
import { mainSnapshot } from '../../src/iceberg/metadata.js';
import { localPath } from '../../src/iceberg/file-io.js';
import { openTable } from '../../src/iceberg/table.js';
import { newDataFileWriter } from '../../src/iceberg/data-file-writer.js';
import { arrowSchemaOf } from '../../src/schema/type-mapping.js';
import { ensureBuilt } from '../helpers/build.js';
import { startIcebergRest, type IcebergRestServer } from '../helpers/iceberg-rest.js';
import { batchOf, fields, sinkConfig } from '../helpers/iceberg-fixtures.js';
import { PY_ROWS } from '../helpers/pyiceberg.js';
import { ensurePythonEnv, runPython } from '../helpers/python.js';

const schema = fields({ id: 'BIGINT NOT NULL' });

describe('table maintenance through the REST catalog', { timeout: 180_000 }, () => {
  let server: IcebergRestServer;
  let config: RestCatalogConfig;
  let catalog: Catalog;

  beforeAll(async () => {
    ensureBuilt();
    ensurePythonEnv();
    server = await startIcebergRest();
    config = { type: 'rest', name: 'rest', uri: server.uri, namespace: 'expire_ns', auth: { kind: 'none' }, headers: {}, properties: {} };
    catalog = await createCatalog(config);
  }, 900_000);
  afterAll(async () => {
    await catalog?.close();
    server?.stop();
  });

  it('the server removes the expired snapshots; their manifest lists are deleted; rows and offsets stay', async () => {
    const table = await openTable(catalog, config.namespace, sinkConfig('expiring', schema));
    for (const id of [1, 2, 3]) {
      const t = await catalog.loadTable(table.ident);
      const writer = newDataFileWriter(t, catalog.io, arrowSchemaOf(schema));
      await writer.write(batchOf(schema, [{ id: BigInt(id) }]));
      await commitAppend(catalog, table.ident, await writer.close(), { 'kafka.offsets.g': `{"t":{"0":${id}}}` });
    }
    const before = await catalog.loadTable(table.ident);
    const lists = before.metadata.snapshots.map((s) => s['manifest-list']);

    const r = await expireSnapshots(catalog, table.ident, { now: Date.now() + 6 * 86_400_000 });

    expect(r.expiredSnapshots).toHaveLength(2);
    const after = await catalog.loadTable(table.ident);
    expect(after.metadata.snapshots.map((s) => s['snapshot-id'])).toEqual([before.metadata.snapshots[2]!['snapshot-id']]);
    expect(latestSnapshotWithSummaryKey(after.metadata, 'kafka.offsets.g')?.summary['kafka.offsets.g']).toBe('{"t":{"0":3}}');
    expect(lists.map((l) => existsSync(localPath(l)))).toEqual([false, false, true]);
    const py = await runPython<{ ids: number[]; snapshots: number }>(
      PY_ROWS +
        `
from pyiceberg.catalog.rest import RestCatalog
t = RestCatalog("rest", uri=ARGS["uri"]).load_table(ARGS["table"])
print(json.dumps({"ids": sorted(r["id"] for r in t.scan().to_arrow().to_pylist()), "snapshots": len(t.metadata.snapshots)}))
`,
      { uri: server.uri, table: `${config.namespace}.expiring` },
    );
    expect(py).toEqual({ ids: [1, 2, 3], snapshots: 1 });
  });

  it("compaction's replace snapshot is accepted by the server and read back with the same rows", async () => {
    const table = await openTable(catalog, config.namespace, sinkConfig('compacting', schema));
    for (const id of [1, 2, 3, 4, 5]) {
      const t = await catalog.loadTable(table.ident);
      const writer = newDataFileWriter(t, catalog.io, arrowSchemaOf(schema));
      await writer.write(batchOf(schema, [{ id: BigInt(id) }]));
      await commitAppend(catalog, table.ident, await writer.close(), { 'kafka.offsets.g': `{"t":{"0":${id}}}` });
    }
    const r = await compactTable(catalog, table.ident, { minInputFiles: 5 });
    expect(r.replacedFiles).toHaveLength(5);
    const after = await catalog.loadTable(table.ident);
    expect(mainSnapshot(after.metadata)?.summary.operation).toBe('replace');
    const py = await runPython<{ ids: number[]; files: number }>(
      `
from pyiceberg.catalog.rest import RestCatalog
t = RestCatalog("rest", uri=ARGS["uri"]).load_table(ARGS["table"])
scan = t.scan()
print(json.dumps({"ids": sorted(r["id"] for r in scan.to_arrow().to_pylist()), "files": len(list(scan.plan_files()))}))
`,
      { uri: server.uri, table: `${config.namespace}.compacting` },
    );
    expect(py).toEqual({ ids: [1, 2, 3, 4, 5], files: 1 });
  });
});
