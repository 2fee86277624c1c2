// Rewriting manifests on a real SQLite-catalog table, read back by pyiceberg: one manifest per
// commit becomes manifests of the target size, the same rows and files, a `replace` snapshot
// that adds and removes no data file; a rival append landing while the rewrite commits is kept
// (the rewrite is rebuilt on the new head); a second run and a dry run change nothing.

import { readdirSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlCatalog } from '../../src/iceberg/catalog-sql.js';
import type { Catalog, TableIdentifier } from '../../src/iceberg/catalog.js';
import { commitAppend } from '../../src/iceberg/commit.js';
import { localPath } from '../../src/iceberg/file-io.js';
import { decodeManifestList } from '../../src/iceberg/manifest.js';
import { rewriteManifests } from '../../src/iceberg/manifest-rewrite.js';
import { mainSnapshot } from '../../src/iceberg/metadata.js';
import { openTable } from '../../src/iceberg/table.js';
import { newDataFileWriter } from '../../src/iceberg/data-file-writer.js';
import { arrowSchemaOf } from '../../src/schema/type-mapping.js';
import { batchOf, fields, sinkConfig, sqlCatalogConfig } from '../helpers/iceberg-fixtures.js';
import { PY_SQL_CATALOG, scanSql } from '../helpers/pyiceberg.js';
import { ensurePythonEnv, runPython } from '../helpers/python.js';

const schema = fields({ id: 'BIGINT NOT NULL', name: 'STRING' });
// Merging on commit off, so every commit leaves one more manifest, as a table other writers
// commit to (or one written before merging was on) does.
const NO_MERGE = { 'commit.manifest-merge.enabled': 'false' };

describe('manifest rewrite on a SQLite-catalog table', { timeout: 180_000 }, () => {
  const { config, dir } = sqlCatalogConfig('rewrite');
  let catalog: SqlCatalog;

  beforeAll(() => {
    ensurePythonEnv();
    catalog = new SqlCatalog(config);
  }, 900_000);
  afterAll(async () => {
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function append(ident: TableIdentifier, ids: number[], on: Catalog = catalog): Promise<void> {
    const table = await on.loadTable(ident);
    const writer = newDataFileWriter(table, on.io, arrowSchemaOf(schema));
    await writer.write(batchOf(schema, ids.map((id) => ({ id: BigInt(id), name: `n${id}` }))));
    await commitAppend(on, ident, await writer.close(), { 'kafka.offsets.g1': `{"t":{"0":${ids.at(-1)! + 1}}}` });
  }
  const manifestsOf = async (ident: TableIdentifier): Promise<string[]> => {
    const head = mainSnapshot((await catalog.loadTable(ident)).metadata)!;
    return (await decodeManifestList(await catalog.io.read(head['manifest-list']))).map((m) => m.manifest_path);
  };
  const pyManifests = (table: string): Promise<{ manifests: number; files: number }> =>
    runPython(
      PY_SQL_CATALOG +
        't = catalog.load_table(ARGS["table"])\nm = t.inspect.manifests()\nprint(json.dumps({"manifests": m.num_rows, "files": t.inspect.files().num_rows}))',
      { catalog: config, table },
    );

  it('rewrites one manifest per commit into one, with the same rows and files, as a replace snapshot', async () => {
    const { ident } = await openTable(catalog, config.namespace, sinkConfig('many_manifests', schema, [], NO_MERGE));
    for (let i = 0; i < 12; i++) await append(ident, [2 * i + 1, 2 * i + 2]);
    const before = await scanSql(config, `${config.namespace}.many_manifests`, { orderBy: 'id' });
    const old = await manifestsOf(ident);
    expect(old).toHaveLength(12);

    const dry = await rewriteManifests(catalog, ident, { dryRun: true });
    expect(dry.replaced.sort()).toEqual([...old].sort());
    expect(dry.created).toBe(1);
    expect(await manifestsOf(ident)).toEqual(old);

    const r = await rewriteManifests(catalog, ident);
    expect(r.replaced.sort()).toEqual([...old].sort());
    expect(r.created).toBe(1);
    const head = mainSnapshot(r.table.metadata)!;
    expect(head['snapshot-id']).toBe(r.snapshotId);
    expect(head.summary).toMatchObject({ operation: 'replace', 'manifests-created': '1', 'manifests-replaced': '12', 'entries-processed': '12', 'total-data-files': '12', 'total-records': '24' });
    expect(head.summary['added-data-files']).toBeUndefined();
    expect(head.summary['deleted-data-files']).toBeUndefined();

    const after = await scanSql(config, `${config.namespace}.many_manifests`, { orderBy: 'id' });
    expect(after.rows).toEqual(before.rows);
    expect(after.files).toBe(12);
    expect(await pyManifests(`${config.namespace}.many_manifests`)).toEqual({ manifests: 1, files: 12 });

    // Nothing left to do: a second run commits nothing.
    const again = await rewriteManifests(catalog, ident);
    expect(again.created).toBe(0);
    expect(again.snapshotId).toBeUndefined();
    expect(mainSnapshot(again.table.metadata)!['snapshot-id']).toBe(r.snapshotId);
  });

  it('keeps an append that lands while it commits: the rewrite is built again on the new head', async () => {
    const { ident } = await openTable(catalog, config.namespace, sinkConfig('rival_append', schema, [], NO_MERGE));
    for (let i = 0; i < 6; i++) await append(ident, [i]);
    // The same catalog, except that the first commit is raced by a rival append just before it.
    let raced = false;
    const racing = new Proxy(catalog as Catalog, {
      get(target, prop) {
        if (prop === 'commit') {
          return async (...args: Parameters<Catalog['commit']>) => {
            if (!raced) {
              raced = true;
              await append(ident, [100, 101]);
            }
            return target.commit(...args);
          };
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });

    const r = await rewriteManifests(racing, ident);

    expect(raced).toBe(true);
    expect(r.created).toBe(1);
    expect(r.replaced).toHaveLength(7);
    const after = await scanSql(config, `${config.namespace}.rival_append`, { orderBy: 'id' });
    expect(after.rows.map((x) => x['id'])).toEqual([0, 1, 2, 3, 4, 5, 100, 101]);
    expect(await pyManifests(`${config.namespace}.rival_append`)).toEqual({ manifests: 1, files: 7 });
    // The first attempt's manifests were never committed: deleted, not left for orphan removal.
    const metadataDir = localPath(`${r.table.metadata.location}/metadata`);
    expect(readdirSync(metadataDir).filter((f) => f.startsWith(`${r.snapshotId}-r1-`))).toEqual([]);
    expect(readdirSync(metadataDir).filter((f) => f.startsWith(`${r.snapshotId}-r2-`))).toHaveLength(1);
  });
});
