// Compaction's file rewriting on its own thread, on a real SQLite-catalog table read back by
// pyiceberg: the same rows, and the main thread's event loop keeps turning while a file is
// decoded (a 1 ms timer fires between the thread's "decoding" and "decoded" reports), where on
// the main thread it cannot fire at all. Counts, not timings. Needs dist/ (npm run build).

import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlCatalog } from '../../../src/iceberg/catalog-sql.js';
import type { TableIdentifier } from '../../../src/iceberg/catalog.js';
import { commitAppend } from '../../../src/iceberg/commit.js';
import { compactTable } from '../../../src/iceberg/compact.js';
import { rewriteFiles, type FileRewriter, type RewriteProgress } from '../../../src/iceberg/file-rewrite.js';
import { openTable } from '../../../src/iceberg/table.js';
import { newDataFileWriter } from '../../../src/iceberg/data-file-writer.js';
import { isStreamError } from '../../../src/errors.js';
import { ThreadedRewriter } from '../../../src/runtime/threads/rewrite-thread.js';
import { arrowSchemaOf } from '../../../src/schema/type-mapping.js';
import { batchOf, fields, sinkConfig, sqlCatalogConfig } from '../../helpers/iceberg-fixtures.js';
import { PY_SQL_CATALOG } from '../../helpers/pyiceberg.js';
import { ensurePythonEnv, runPython } from '../../helpers/python.js';

const schema = fields({ id: 'BIGINT NOT NULL', name: 'STRING' });
const FILES = 3;
const ROWS = 100_000;

describe('compaction rewriting on a thread of its own', { timeout: 300_000 }, () => {
  const { config, dir } = sqlCatalogConfig('rewrite_thread');
  let catalog: SqlCatalog;
  let rewriter: ThreadedRewriter;

  beforeAll(() => {
    ensurePythonEnv();
    catalog = new SqlCatalog(config);
    rewriter = new ThreadedRewriter(config);
  }, 900_000);
  afterAll(async () => {
    await rewriter.close();
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function tableOfLargeFiles(name: string): Promise<TableIdentifier> {
    const { ident } = await openTable(catalog, config.namespace, sinkConfig(name, schema));
    for (let f = 0; f < FILES; f++) {
      const table = await catalog.loadTable(ident);
      const writer = newDataFileWriter(table, catalog.io, arrowSchemaOf(schema));
      const rows = Array.from({ length: ROWS }, (_, i) => ({ id: BigInt(f * ROWS + i), name: `name-${f}-${i}-${'x'.repeat(i % 40)}` }));
      await writer.write(batchOf(schema, rows));
      await commitAppend(catalog, ident, await writer.close(), {});
    }
    return ident;
  }

  /** Compacts with `rewrite`, counting a 1 ms timer's ticks between each file's decoding and decoded reports. */
  async function compactCounting(ident: TableIdentifier, rewrite: (onProgress: (p: RewriteProgress) => void) => FileRewriter): Promise<{ files: number; ticksWhileDecoding: number; decoded: number }> {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    let at = 0;
    let ticksWhileDecoding = 0;
    let decoded = 0;
    const onProgress = (p: RewriteProgress): void => {
      if (p.kind === 'decoding') at = ticks;
      else {
        ticksWhileDecoding += ticks - at;
        decoded++;
      }
    };
    try {
      const r = await compactTable(catalog, ident, { minInputFiles: 2, rewriter: rewrite(onProgress) });
      return { files: r.replacedFiles.length, ticksWhileDecoding, decoded };
    } finally {
      clearInterval(timer);
    }
  }

  const pyCount = (table: string): Promise<{ rows: number; distinct: number; files: number }> =>
    runPython(
      PY_SQL_CATALOG +
        't = catalog.load_table(ARGS["table"])\nscan = t.scan()\ntbl = scan.to_arrow()\nprint(json.dumps({"rows": tbl.num_rows, "distinct": len(set(tbl.column("id").to_pylist())), "files": len(list(scan.plan_files()))}))',
      { catalog: config, table },
    );

  it('on the main thread, the event loop stands still while a file is decoded', async () => {
    const ident = await tableOfLargeFiles('on_main');
    const r = await compactCounting(ident, (onProgress) => (table, group) => rewriteFiles(catalog.io, table, group, onProgress));
    expect(r).toEqual({ files: FILES, ticksWhileDecoding: 0, decoded: FILES });
  });

  it('on its own thread, the main thread keeps turning through the decoding, and the rows are the same', async () => {
    const ident = await tableOfLargeFiles('on_thread');
    const r = await compactCounting(ident, (onProgress) => (table, group) => rewriter.rewrite(table, group, onProgress));
    expect(r.files).toBe(FILES);
    expect(r.decoded).toBe(FILES);
    expect(r.ticksWhileDecoding).toBeGreaterThan(0);
    expect(await pyCount(`${config.namespace}.on_thread`)).toEqual({ rows: FILES * ROWS, distinct: FILES * ROWS, files: 1 });
  });

  it('reports a failed rewrite as a StreamError across the thread, and the thread takes the next one', async () => {
    const ident = await tableOfLargeFiles('missing_file');
    const table = await catalog.loadTable(ident);
    const missing = { path: `${table.metadata.location}/data/missing.parquet`, size: 10, records: 1, partitionKey: '[]' };
    const err = await rewriter.rewrite(table, [missing]).catch((e: unknown) => e);
    expect(isStreamError(err)).toBe(true);
    expect((err as Error).message).toContain('missing.parquet');
    const r = await compactCounting(ident, () => rewriter.rewrite);
    expect(r.files).toBe(FILES);
  });
});
