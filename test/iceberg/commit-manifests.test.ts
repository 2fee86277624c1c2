// Bounded commit metadata: manifests merged on commit as Iceberg's Java writer does, no manifest
// for a commit without data files, old metadata files removed by the table's properties. The
// table is read back by pyiceberg, which must see every row once and the sequence numbers each
// file was added with.

import { readdirSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlCatalog } from '../../src/iceberg/catalog-sql.js';
import { commitAppend } from '../../src/iceberg/commit.js';
import { localPath } from '../../src/iceberg/file-io.js';
import { decodeManifestList } from '../../src/iceberg/manifest.js';
import { mainSnapshot } from '../../src/iceberg/metadata.js';
import type { LoadedTable } from '../../src/iceberg/catalog.js';
import { openTable } from '../../src/iceberg/table.js';
import { newDataFileWriter } from '../../src/iceberg/data-file-writer.js';
import { arrowSchemaOf } from '../../src/schema/type-mapping.js';
import { batchOf, fields, sinkConfig, sqlCatalogConfig } from '../helpers/iceberg-fixtures.js';
import { PY_SQL_CATALOG } from '../helpers/pyiceberg.js';
import { ensurePythonEnv, runPython } from '../helpers/python.js';

const schema = fields({ id: 'BIGINT NOT NULL', name: 'STRING' });

interface PyEntries {
  ids: number[];
  manifests: number;
  entries: Array<{ status: number; snapshot_id: string; sequence_number: number; file_sequence_number: number; record_count: number }>;
}

describe('commit metadata stays bounded', { timeout: 300_000 }, () => {
  const { config, dir } = sqlCatalogConfig('bounded');
  let catalog: SqlCatalog;

  beforeAll(() => {
    ensurePythonEnv();
    catalog = new SqlCatalog(config);
  }, 900_000);
  afterAll(async () => {
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function appendRows(table: LoadedTable, ids: number[]): Promise<{ snapshotId: bigint; sequenceNumber: number }> {
    const writer = newDataFileWriter(table, catalog.io, arrowSchemaOf(schema));
    await writer.write(batchOf(schema, ids.map((id) => ({ id: BigInt(id), name: `n${id}` }))));
    const { snapshot } = await commitAppend(catalog, table.ident, await writer.close(), {});
    return { snapshotId: snapshot['snapshot-id'], sequenceNumber: snapshot['sequence-number'] };
  }

  async function currentManifests(name: string): Promise<number> {
    const t = await catalog.loadTable({ namespace: config.namespace, name });
    return (await decodeManifestList(await catalog.io.read(mainSnapshot(t.metadata)!['manifest-list']))).length;
  }

  function pyEntries(name: string): Promise<PyEntries> {
    return runPython<PyEntries>(
      PY_SQL_CATALOG +
        `
t = catalog.load_table(ARGS["table"])
ids = sorted(t.scan().to_arrow().column("id").to_pylist())
snap = t.current_snapshot()
manifests = snap.manifests(t.io)
entries = []
for m in manifests:
    for e in m.fetch_manifest_entry(t.io, discard_deleted=False):
        entries.append({"status": int(e.status), "snapshot_id": str(e.snapshot_id), "sequence_number": e.sequence_number,
            "file_sequence_number": e.file_sequence_number, "record_count": e.data_file.record_count})
print(json.dumps({"ids": ids, "manifests": len(manifests), "entries": entries}))
`,
      { catalog: config, table: `${config.namespace}.${name}` },
    );
  }

  it('adds no manifest for a commit without data files', async () => {
    const table = await openTable(catalog, config.namespace, sinkConfig('offsets_only', schema));
    await appendRows(table, [1, 2]);
    for (let i = 0; i < 3; i++) await commitAppend(catalog, table.ident, [], { 'kafka.offsets.g': `{"t":{"0":${i}}}` });
    expect(await currentManifests('offsets_only')).toBe(1);
    const py = await pyEntries('offsets_only');
    expect(py.ids).toEqual([1, 2]);
    expect(py.manifests).toBe(1);
  });

  it('after 200 commits lists fewer manifests than the merge threshold; every file keeps its snapshot and sequence number', async () => {
    const table = await openTable(catalog, config.namespace, sinkConfig('merged', schema));
    expect(table.metadata.properties['write.metadata.previous-versions-max']).toBe('20');
    const added = new Map<string, number>();
    for (let i = 0; i < 200; i++) {
      const { snapshotId, sequenceNumber } = await appendRows(table, [i]);
      added.set(snapshotId.toString(), sequenceNumber);
    }
    const manifests = await currentManifests('merged');
    expect(manifests).toBeLessThan(100);

    const py = await pyEntries('merged');
    expect(py.ids).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(py.manifests).toBe(manifests);
    expect(py.entries).toHaveLength(200);
    // Commit 100 merged the first 100 manifests, commit 199 that one and the 99 after it; commit
    // 200's manifest stands beside. Merged entries are EXISTING (0) with the snapshot and
    // sequence numbers they were added with; a merging commit's own file stays ADDED (1).
    expect(manifests).toBe(2);
    const order = [...added.keys()];
    expect(py.entries.filter((e) => e.status === 1).map((e) => e.snapshot_id).sort()).toEqual(order.slice(-2).sort());
    expect(py.entries.filter((e) => e.status === 0)).toHaveLength(198);
    for (const e of py.entries) {
      expect(added.get(e.snapshot_id), e.snapshot_id).toBeDefined();
      expect(e.sequence_number).toBe(added.get(e.snapshot_id));
      expect(e.file_sequence_number).toBe(added.get(e.snapshot_id));
    }

    // The current metadata file and at most write.metadata.previous-versions-max before it.
    const metadataDir = localPath(`${table.metadata.location}/metadata`);
    const metadataFiles = readdirSync(metadataDir).filter((f) => f.endsWith('.metadata.json'));
    expect(metadataFiles.length).toBeLessThanOrEqual(21);
    const now = await catalog.loadTable(table.ident);
    expect(now.metadata['metadata-log']).toHaveLength(20);
    for (const e of now.metadata['metadata-log']) expect(metadataFiles).toContain(e['metadata-file'].split('/').pop());
  });

  it("merges manifests another writer (pyiceberg) wrote, keeping that writer's snapshot ids and sequence numbers", async () => {
    const table = await openTable(catalog, config.namespace, sinkConfig('foreign', schema, [], { 'commit.manifest.min-count-to-merge': '4' }));
    await appendRows(table, [1]);
    const py = await runPython<Record<string, number>>(
      PY_SQL_CATALOG +
        `
import pyarrow as pa
t = catalog.load_table(ARGS["table"])
for i in (2, 3):
    t.append(pa.Table.from_pylist([{"id": i, "name": "py%d" % i}], schema=t.schema().as_arrow()))
    t = catalog.load_table(ARGS["table"])
print(json.dumps({str(s.snapshot_id): s.sequence_number for s in t.metadata.snapshots}))
`,
      { catalog: config, table: `${config.namespace}.foreign` },
    );
    expect(await currentManifests('foreign')).toBe(3);
    const ours = await appendRows(await catalog.loadTable(table.ident), [4]);
    // Four manifests reached the minimum count: one merged manifest holds all four files.
    expect(await currentManifests('foreign')).toBe(1);
    const sequence = new Map(Object.entries(py));
    sequence.set(ours.snapshotId.toString(), ours.sequenceNumber);
    const read = await pyEntries('foreign');
    expect(read.ids).toEqual([1, 2, 3, 4]);
    expect(read.entries).toHaveLength(4);
    for (const e of read.entries) {
      expect(e.status).toBe(e.snapshot_id === ours.snapshotId.toString() ? 1 : 0);
      expect(e.sequence_number).toBe(sequence.get(e.snapshot_id));
      expect(e.file_sequence_number).toBe(sequence.get(e.snapshot_id));
    }
  });

  it('a merged manifest of a partitioned table bounds all its partitions: filtered scans still find every row', async () => {
    const byName = [{ source: 'name', transform: { kind: 'identity' as const }, text: 'name' }];
    const table = await openTable(catalog, config.namespace, sinkConfig('merged_parts', schema, byName, { 'commit.manifest.min-count-to-merge': '3' }));
    for (const id of [1, 2, 3]) await appendRows(await catalog.loadTable(table.ident), [id]);
    expect(await currentManifests('merged_parts')).toBe(1);
    const out = await runPython<{ bounds: string[]; found: Record<string, number[]> }>(
      PY_SQL_CATALOG +
        `
t = catalog.load_table(ARGS["table"])
p = t.current_snapshot().manifests(t.io)[0].partitions[0]
found = {n: sorted(t.scan(row_filter="name == '%s'" % n).to_arrow().column("id").to_pylist()) for n in ("n1", "n2", "n3")}
print(json.dumps({"bounds": [p.lower_bound.decode(), p.upper_bound.decode()], "found": found}))
`,
      { catalog: config, table: `${config.namespace}.merged_parts` },
    );
    expect(out.bounds).toEqual(['n1', 'n3']);
    expect(out.found).toEqual({ n1: [1], n2: [2], n3: [3] });
  });

  it('keeps every metadata file when the table says not to delete them', async () => {
    const table = await openTable(catalog, config.namespace, sinkConfig('keep_all', schema, [], { 'write.metadata.delete-after-commit.enabled': 'false' }));
    for (let i = 0; i < 25; i++) await commitAppend(catalog, table.ident, [], { 'kafka.offsets.g': `{"t":{"0":${i}}}` });
    const metadataFiles = readdirSync(localPath(`${table.metadata.location}/metadata`)).filter((f) => f.endsWith('.metadata.json'));
    expect(metadataFiles).toHaveLength(26);
  });
});
