// Snapshot expiry and orphan removal on a real SQLite-catalog table, with pyiceberg as the
// other writer (a delete that rewrites manifests) and as the reader that must see the same rows
// before and after.

import { existsSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlCatalog } from '../../src/iceberg/catalog-sql.js';
import type { TableIdentifier } from '../../src/iceberg/catalog.js';
import { commitAppend, latestSnapshotWithSummaryKey } from '../../src/iceberg/commit.js';
import { expireSnapshots, manifestEntryPaths } from '../../src/iceberg/expire.js';
import { decodeManifestList } from '../../src/iceberg/manifest.js';
import { localPath } from '../../src/iceberg/file-io.js';
import { maintainTable } from '../../src/iceberg/maintenance.js';
import { referencedFiles } from '../../src/iceberg/orphans.js';
import { openTable } from '../../src/iceberg/table.js';
import { newDataFileWriter } from '../../src/iceberg/data-file-writer.js';
import { arrowSchemaOf } from '../../src/schema/type-mapping.js';
import { batchOf, fields, sinkConfig, sqlCatalogConfig } from '../helpers/iceberg-fixtures.js';
import { PY_SQL_CATALOG, scanSql } from '../helpers/pyiceberg.js';
import { ensurePythonEnv, runPython } from '../helpers/python.js';

const DAY = 86_400_000;
const schema = fields({ id: 'BIGINT NOT NULL', name: 'STRING' });
const KEY = 'kafka.offsets.g1';

describe('snapshot expiry and orphan removal on a SQLite-catalog table', { timeout: 180_000 }, () => {
  const { config, dir } = sqlCatalogConfig('expire');
  let catalog: SqlCatalog;

  beforeAll(() => {
    ensurePythonEnv();
    catalog = new SqlCatalog(config);
  }, 900_000);
  afterAll(async () => {
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One commit of one data file per group of ids; returns their paths. */
  async function appendFiles(ident: TableIdentifier, groups: number[][], offset: number): Promise<string[]> {
    const table = await catalog.loadTable(ident);
    const files = [];
    for (const ids of groups) {
      const writer = newDataFileWriter(table, catalog.io, arrowSchemaOf(schema));
      await writer.write(batchOf(schema, ids.map((id) => ({ id: BigInt(id), name: `n${id}` }))));
      files.push(...(await writer.close()));
    }
    await commitAppend(catalog, ident, files, { [KEY]: `{"t":{"0":${offset}}}`, 'streamberg.epoch': String(offset) });
    return files.map((f) => f.filePath);
  }
  const append = async (ident: TableIdentifier, ids: number[], offset: number): Promise<string> => (await appendFiles(ident, [ids], offset))[0]!;

  const pyDelete = (table: string, filter: string): Promise<unknown> =>
    runPython(PY_SQL_CATALOG + 't = catalog.load_table(ARGS["table"])\nt.delete(delete_filter=ARGS["filter"])\nprint(json.dumps({}))', { catalog: config, table, filter });
  const pyAppend = (table: string, ids: number[]): Promise<unknown> =>
    runPython(
      PY_SQL_CATALOG +
        'import pyarrow as pa\nt = catalog.load_table(ARGS["table"])\nt.append(pa.Table.from_pylist([{"id": i, "name": "py%d" % i} for i in ARGS["ids"]], schema=t.schema().as_arrow()))\nprint(json.dumps({}))',
      { catalog: config, table, ids },
    );
  const ids = async (name: string): Promise<number[]> => (await scanSql(config, `${config.namespace}.${name}`, { orderBy: 'id' })).rows.map((r) => Number(r['id']));

  /** Files a reader of some snapshot left in the metadata opens (DELETED entries are not opened) that are gone. */
  async function missingLiveFiles(ident: TableIdentifier): Promise<string[]> {
    const { metadata, metadataLocation } = await catalog.loadTable(ident);
    const live = new Set([metadataLocation]);
    for (const s of metadata.snapshots) {
      live.add(s['manifest-list']);
      for (const m of await decodeManifestList(await catalog.io.read(s['manifest-list']))) {
        live.add(m.manifest_path);
        for (const p of await manifestEntryPaths(catalog.io, m.manifest_path, true)) live.add(p);
      }
    }
    return [...live].filter((uri) => !existsSync(localPath(uri)));
  }

  it('deletes the files only expired snapshots reached, keeps every live one, and the rows stay the same', async () => {
    const table = await openTable(catalog, config.namespace, sinkConfig('expiring', schema));
    const ident = table.ident;
    // Two files in one manifest; another writer then deletes the first file's rows, rewriting that
    // manifest: the first file DELETED, the second EXISTING in a new one. Expiry must tell them apart.
    const pair = await appendFiles(ident, [[1, 2, 3], [4, 5, 6]], 6);
    const first = pair[0]!;
    const second = pair[1]!;
    await pyDelete(`${config.namespace}.expiring`, 'id <= 3');
    const third = await append(ident, [7, 8, 9], 9);
    const before = await catalog.loadTable(ident);
    const oldLists = before.metadata.snapshots.slice(0, -1).map((s) => s['manifest-list']);
    expect(await ids('expiring')).toEqual([4, 5, 6, 7, 8, 9]);

    const r = await expireSnapshots(catalog, ident, { now: Date.now() + 6 * DAY });

    expect(r.expiredSnapshots.length).toBe(before.metadata.snapshots.length - 1);
    expect(r.table.metadata.snapshots).toHaveLength(1);
    expect(r.files.dataFiles).toEqual([first]);
    expect(existsSync(localPath(first))).toBe(false);
    for (const list of oldLists) expect(existsSync(localPath(list))).toBe(false);
    for (const live of [second, third]) expect(existsSync(localPath(live))).toBe(true);
    expect(await missingLiveFiles(ident)).toEqual([]);
    expect(await ids('expiring')).toEqual([4, 5, 6, 7, 8, 9]);
    const py = await scanSql(config, `${config.namespace}.expiring`);
    expect(py.snapshots).toBe(1);
  });

  it("keeps the pipeline's newest offsets snapshot and everything above it when another writer committed after it", async () => {
    const table = await openTable(catalog, config.namespace, sinkConfig('guarded', schema));
    const ident = table.ident;
    await append(ident, [1], 1);
    await append(ident, [2], 2);
    await pyAppend(`${config.namespace}.guarded`, [100]);
    await pyAppend(`${config.namespace}.guarded`, [101]);

    const r = await expireSnapshots(catalog, ident, { now: Date.now() + 6 * DAY });

    // Only the first checkpoint goes: the second carries the newest offsets, the two above it lead there.
    expect(r.expiredSnapshots).toHaveLength(1);
    const last = latestSnapshotWithSummaryKey(r.table.metadata, KEY);
    expect(last?.summary[KEY]).toBe('{"t":{"0":2}}');
    expect(await ids('guarded')).toEqual([1, 2, 100, 101]);
    expect(await missingLiveFiles(ident)).toEqual([]);
  });

  it('a dry run lists what would go and changes nothing', async () => {
    const table = await openTable(catalog, config.namespace, sinkConfig('dry', schema));
    const ident = table.ident;
    const first = await append(ident, [1], 1);
    await pyDelete(`${config.namespace}.dry`, 'id = 1');
    await append(ident, [2], 2);
    const before = await catalog.loadTable(ident);

    const r = await expireSnapshots(catalog, ident, { now: Date.now() + 6 * DAY, dryRun: true });

    expect(r.files.dataFiles).toEqual([first]);
    expect(existsSync(localPath(first))).toBe(true);
    const after = await catalog.loadTable(ident);
    expect(after.metadataLocation).toBe(before.metadataLocation);
  });

  it('removes an old unreferenced file, and keeps a young one and every referenced one', async () => {
    const table = await openTable(catalog, config.namespace, sinkConfig('orphaned', schema));
    const ident = table.ident;
    await append(ident, [1, 2], 2);
    await append(ident, [3], 3);
    const location = localPath(table.metadata.location);
    const old = `${location}/data/crashed-epoch.parquet`;
    const oldManifest = `${location}/metadata/lost-attempt-m1.avro`;
    const young = `${location}/data/being-written.parquet`;
    for (const f of [old, oldManifest, young]) writeFileSync(f, 'not referenced');
    const fourDaysAgo = (Date.now() - 4 * DAY) / 1000;
    utimesSync(old, fourDaysAgo, fourDaysAgo);
    utimesSync(oldManifest, fourDaysAgo, fourDaysAgo);
    const referenced = await referencedFiles(catalog, await catalog.loadTable(ident));

    const r = await maintainTable(catalog, ident, { dryRun: false, expire: false, orphanMinAgeMs: 3 * DAY });

    expect(r.orphans && 'files' in r.orphans ? r.orphans.files.map((f) => localPath(f.uri)).sort() : r.orphans).toEqual([old, oldManifest].sort());
    expect(existsSync(old)).toBe(false);
    expect(existsSync(oldManifest)).toBe(false);
    expect(existsSync(young)).toBe(true);
    for (const uri of referenced) expect(existsSync(localPath(uri)), uri).toBe(true);
    expect(await ids('orphaned')).toEqual([1, 2, 3]);
  });
});
