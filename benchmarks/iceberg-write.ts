// Benchmark: encode and commit 1 M rows of the seed's `parsed_events` sink schema
// (event_name STRING, user_id BIGINT, event_time TIMESTAMP(3), ingestion_time TIMESTAMP(3))
// to an Iceberg table in a local SQLite catalog, per Parquet codec. Prints figures and writes
// them as JSON to benchmarks/results/iceberg-write.json.
//
//   npx vite-node benchmarks/iceberg-write.ts [rows] [runs]

import * as arrow from 'apache-arrow';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseSqlType } from '../src/config/sql-types.js';
import type { FieldConfig } from '../src/config/types.js';
import { SqlCatalog } from '../src/iceberg/catalog-sql.js';
import { commitAppend } from '../src/iceberg/commit.js';
import type { ParquetCodec } from '../src/iceberg/data-file-writer.js';
import { newDataFileWriter, openTable } from '../src/iceberg/table.js';
import { arrowSchemaOf } from '../src/schema/type-mapping.js';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const RUNS = Number(process.argv[3] ?? 3);
const BATCH = 10_000;
const CODECS: ParquetCodec[] = ['snappy', 'zstd', 'gzip', 'lz4', 'uncompressed'];

const schema: FieldConfig[] = [
  ['event_name', 'STRING'],
  ['user_id', 'BIGINT'],
  ['event_time', 'TIMESTAMP(3)'],
  ['ingestion_time', 'TIMESTAMP(3)'],
].map(([name, typeText]) => ({ name: name!, typeText: typeText!, type: parseSqlType(typeText!) }));

/** Batches built as the transform workers build them: typed arrays wrapped with makeData. */
function makeBatches(): arrow.RecordBatch[] {
  const arrowSchema = arrowSchemaOf(schema);
  const names = ['page_view', 'click', 'bid_request', 'bid_won', 'impression', 'add_to_cart', 'purchase', 'signup'].map((s) => new TextEncoder().encode(s));
  const out: arrow.RecordBatch[] = [];
  let seed = 42;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  const t0 = BigInt(Date.parse('2025-01-01T00:00:00Z')) * 1000n;
  for (let start = 0; start < ROWS; start += BATCH) {
    const n = Math.min(BATCH, ROWS - start);
    const offs = new Int32Array(n + 1);
    const picks = Array.from({ length: n }, () => names[rnd() % names.length]!);
    picks.forEach((p, i) => (offs[i + 1] = offs[i]! + p.length));
    const bytes = new Uint8Array(offs[n]!);
    picks.forEach((p, i) => bytes.set(p, offs[i]!));
    const users = new BigInt64Array(n);
    const evt = new BigInt64Array(n);
    const ing = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      users[i] = BigInt(rnd() % 5_000_000);
      evt[i] = t0 + BigInt(start + i) * 1000n;
      ing[i] = evt[i]! + BigInt(rnd() % 2_000_000);
    }
    const [f0, f1, f2, f3] = arrowSchema.fields as [arrow.Field, arrow.Field, arrow.Field, arrow.Field];
    const children = [
      arrow.makeData({ type: f0.type, length: n, nullCount: 0, valueOffsets: offs, data: bytes } as never),
      arrow.makeData({ type: f1.type, length: n, nullCount: 0, data: users } as never),
      arrow.makeData({ type: f2.type, length: n, nullCount: 0, data: evt } as never),
      arrow.makeData({ type: f3.type, length: n, nullCount: 0, data: ing } as never),
    ];
    out.push(new arrow.RecordBatch(arrowSchema, arrow.makeData({ type: new arrow.Struct(arrowSchema.fields), length: n, nullCount: 0, children })));
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function runOnce(codec: ParquetCodec, batches: arrow.RecordBatch[]): Promise<{ encodeMs: number; commitMs: number; fileBytes: number; files: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-iceberg-'));
  const catalog = new SqlCatalog({
    type: 'sql',
    name: 'bench',
    uri: `sqlite:///${join(dir, 'c.db')}`,
    sqlitePath: join(dir, 'c.db'),
    warehouse: pathToFileURL(join(dir, 'wh')).href,
    namespace: 'analytics',
  });
  try {
    const table = await openTable(catalog, 'analytics', {
      tableNameRaw: 'parsed_events',
      tableName: 'parsed_events',
      schema,
      partitionBy: [],
      properties: { 'write.parquet.compression-codec': codec },
    });
    const t0 = performance.now();
    const writer = newDataFileWriter(table, catalog.io, batches[0]!.schema);
    for (const b of batches) await writer.write(b);
    const files = await writer.close();
    const t1 = performance.now();
    await commitAppend(catalog, table.ident, files, { 'kafka.offsets.bench': '{"t":{"0":1}}' });
    const t2 = performance.now();
    return { encodeMs: t1 - t0, commitMs: t2 - t1, fileBytes: files.reduce((n, f) => n + f.fileSizeInBytes, 0), files: files.length };
  } finally {
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const batches = makeBatches();
  const inputBytes = batches.reduce((n, b) => n + b.data.children.reduce((m, c) => m + (c.values?.byteLength ?? 0) + (c.valueOffsets?.byteLength ?? 0), 0), 0);
  // One discarded run so that the first codec is not charged for JIT and WebAssembly warm-up.
  await runOnce('snappy', batches);
  const results = [];
  for (const codec of CODECS) {
    const runs = [];
    for (let r = 0; r < RUNS; r++) runs.push(await runOnce(codec, batches));
    const total = median(runs.map((x) => x.encodeMs + x.commitMs));
    const encode = median(runs.map((x) => x.encodeMs));
    const result = {
      codec,
      rows: ROWS,
      runs: RUNS,
      medianEncodeMs: Math.round(encode),
      medianCommitMs: Math.round(median(runs.map((x) => x.commitMs))),
      rowsPerSec: Math.round(ROWS / (total / 1000)),
      arrowMBPerSec: Number((inputBytes / 1e6 / (total / 1000)).toFixed(1)),
      parquetMBPerSec: Number((median(runs.map((x) => x.fileBytes)) / 1e6 / (total / 1000)).toFixed(1)),
      fileBytes: median(runs.map((x) => x.fileBytes)),
      files: runs[0]!.files,
    };
    results.push(result);
    console.log(
      `${codec.padEnd(13)} ${String(result.rowsPerSec).padStart(9)} rows/s  ${String(result.arrowMBPerSec).padStart(6)} MB/s in (Arrow)  ` +
        `${String(result.parquetMBPerSec).padStart(6)} MB/s out  ${(result.fileBytes / 1e6).toFixed(1)} MB in ${result.files} file(s)  ` +
        `encode ${result.medianEncodeMs} ms, commit ${result.medianCommitMs} ms (median of ${RUNS})`,
    );
  }
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const outDir = join(root, 'benchmarks', 'results');
  mkdirSync(outDir, { recursive: true });
  const out = { benchmark: 'iceberg-write', rows: ROWS, inputArrowBytes: inputBytes, node: process.version, date: new Date().toISOString(), results };
  writeFileSync(join(outDir, 'iceberg-write.json'), JSON.stringify(out, null, 2) + '\n');
}

await main();
