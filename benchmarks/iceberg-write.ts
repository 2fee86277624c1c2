// Benchmark: encode and commit 1 M rows of the shipped `parsed_events` sink schema
// (event_name STRING, user_id BIGINT, city_id BIGINT, platform STRING, session_id STRING,
// event_time TIMESTAMP(3), ingestion_time TIMESTAMP(3)) to an Iceberg table in a local SQLite
// catalog, per Parquet codec. Prints figures and writes them as JSON to
// benchmarks/results/iceberg-write.json.
//
//   npm run build && node dist/benchmarks/iceberg-write.js [rows] [runs] [codecs, e.g. snappy,zstd]

import * as arrow from 'apache-arrow';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseSqlType } from '../src/schema/sql-types.js';
import type { FieldConfig } from '../src/config/types.js';
import { SqlCatalog } from '../src/iceberg/catalog-sql.js';
import { commitAppend } from '../src/iceberg/commit.js';
import { openTable } from '../src/iceberg/table.js';
import { newDataFileWriter, type ParquetCodec } from '../src/iceberg/data-file-writer.js';
import { arrowSchemaOf } from '../src/schema/type-mapping.js';
import { PROJECT_ROOT } from '../src/project-root.js';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const RUNS = Number(process.argv[3] ?? 3);
const BATCH = 10_000;
const CODECS = (process.argv[4] ?? 'snappy,zstd,gzip,lz4,uncompressed').split(',') as ParquetCodec[];

const schema: FieldConfig[] = [
  ['event_name', 'STRING'],
  ['user_id', 'BIGINT'],
  ['city_id', 'BIGINT'],
  ['platform', 'STRING'],
  ['session_id', 'STRING'],
  ['event_time', 'TIMESTAMP(3)'],
  ['ingestion_time', 'TIMESTAMP(3)'],
].map(([name, typeText]) => ({ name: name!, typeText: typeText!, type: parseSqlType(typeText!) }));

/** Batches built as the transform workers build them: typed arrays wrapped with makeData. */
function makeBatches(): arrow.RecordBatch[] {
  const arrowSchema = arrowSchemaOf(schema);
  const enc = new TextEncoder();
  const names = ['bid_placed', 'bid_won', 'bid_lost', 'auction_view', 'bid_retracted'].map((x) => enc.encode(x));
  const platforms = ['ios', 'android', 'web', 'mobile', 'desktop'].map((x) => enc.encode(x));
  const out: arrow.RecordBatch[] = [];
  let seed = 42;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  const t0 = BigInt(Date.parse('2025-01-01T00:00:00Z')) * 1000n;
  /** A UTF-8 column from n picks: value bytes back to back plus Int32 offsets. */
  const strings = (n: number, pick: (i: number) => Uint8Array) => {
    const picks = Array.from({ length: n }, (_, i) => pick(i));
    const offs = new Int32Array(n + 1);
    picks.forEach((v, i) => (offs[i + 1] = offs[i]! + v.length));
    const bytes = new Uint8Array(offs[n]!);
    picks.forEach((v, i) => bytes.set(v, offs[i]!));
    return { valueOffsets: offs, data: bytes };
  };
  for (let start = 0; start < ROWS; start += BATCH) {
    const n = Math.min(BATCH, ROWS - start);
    const users = new BigInt64Array(n);
    const cities = new BigInt64Array(n);
    const evt = new BigInt64Array(n);
    const ing = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      users[i] = BigInt(rnd() % 100_000);
      cities[i] = BigInt(1 + (rnd() % 500));
      evt[i] = t0 + BigInt(start + i) * 37_000n;
      ing[i] = evt[i]! + BigInt(rnd() % 2_000_000);
    }
    const f = arrowSchema.fields;
    const data = (i: number, parts: object) => arrow.makeData({ type: f[i]!.type, length: n, nullCount: 0, ...parts } as never);
    const children = [
      data(0, strings(n, () => names[rnd() % names.length]!)),
      data(1, { data: users }),
      data(2, { data: cities }),
      data(3, strings(n, () => platforms[rnd() % platforms.length]!)),
      data(4, strings(n, () => enc.encode(`s-${(rnd() % 0xffffff).toString(16).padStart(6, '0')}`))),
      data(5, { data: evt }),
      data(6, { data: ing }),
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
  const root = PROJECT_ROOT;
  const outDir = join(root, 'benchmarks', 'results');
  mkdirSync(outDir, { recursive: true });
  const out = { benchmark: 'iceberg-write', rows: ROWS, inputArrowBytes: inputBytes, node: process.version, date: new Date().toISOString(), results };
  writeFileSync(join(outDir, 'iceberg-write.json'), JSON.stringify(out, null, 2) + '\n');
}

await main();
