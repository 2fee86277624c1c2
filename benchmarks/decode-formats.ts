// Decode throughput by source format on one thread: workload W1's records (the shipped
// `bid-events` topic's source_schema, the generator of benchmarks/kafka-source/w1.ts, seed 42)
// encoded as JSON, CSV, plain Avro and Confluent-framed Avro, each decoded into columns (the
// decoder alone) and run through the shipped bid_events_raw SQL transform (decode + transform +
// Arrow). Prints records/s and CPU-seconds per million records, and writes
// benchmarks/results/decode-formats.json.
//
// The Confluent case reads its writer schema from a cache filled before timing starts, as a
// transform worker's cache is after its first chunk: registry fetches are not in the figures.
//
// JSON goes through the byte reader unless STREAMBERG_JSON_BYTE_READER=off; the json row says
// what share of the records it read (the rest went through JSON.parse).
//
//   npm run build && node dist/benchmarks/decode-formats.js [--records 200000] [--batch 10000] [--runs 3] [--formats json,csv]

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config/load.js';
import type { PipelineConfig } from '../src/config/types.js';
import { avroSchemaOf, avroTypeOf } from '../src/schema/avro-schema.js';
import { createConfluentAvroDecoder } from '../src/transform/decode/avro-decoder.js';
import { DEFAULT_CSV_OPTIONS } from '../src/transform/decode/csv-decoder.js';
import { createDecoder, type RecordDecoder } from '../src/transform/decode/decoder.js';
import { buildTransform, type CompiledTransform } from '../src/transform/batch-transform.js';
import { packRawBatch, type RawBatch } from '../src/kafka/raw-batch.js';
import { runtimeLayout } from '../src/transform/registry.js';
import { SchemaCache } from '../src/transform/decode/schema-registry.js';
import { sampleRecord } from '../src/tools/sample-events.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const RECORDS = arg('records', 200_000);
const BATCH = arg('batch', 10_000);
const RUNS = arg('runs', 3);
const FORMATS = (process.argv.includes('--formats') ? process.argv[process.argv.indexOf('--formats') + 1]! : 'json,csv,avro,avro-confluent').split(',');
const SEED = 42;
const SCHEMA_ID = 1;
const { projectRoot } = runtimeLayout();

const loaded = loadConfig({ configDir: path.join(projectRoot, 'config') }).config;
const json = loaded.pipelines.find((p) => p.topic === 'bid-events')!;
const entry = loaded.transformations[json.transformation]!;
const avroSchema = avroSchemaOf(json.sourceSchema);
const avroType = avroTypeOf(avroSchema);

const csvText = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[,"\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

type Encoding = 'json' | 'csv' | 'avro' | 'avro-confluent';
const header = Buffer.from([0, 0, 0, 0, SCHEMA_ID]);

function encode(fields: Record<string, unknown>, text: string, as: Encoding): Uint8Array | string {
  switch (as) {
    case 'json':
      return text;
    case 'csv':
      return json.sourceSchema.map((f) => csvText(fields[f.name])).join(',');
    case 'avro':
    case 'avro-confluent': {
      const rec: Record<string, unknown> = {};
      for (const f of json.sourceSchema) {
        const v = fields[f.name];
        rec[f.name] = v === undefined ? null : f.type.kind === 'bigint' && v !== null ? BigInt(v as number) : v;
      }
      const body = avroType.toBuffer(rec);
      return as === 'avro' ? body : Buffer.concat([header, body]);
    }
  }
}

function batches(as: Encoding): { data: RawBatch[]; bytes: number } {
  const data: RawBatch[] = [];
  let bytes = 0;
  for (let start = 0; start < RECORDS; start += BATCH) {
    const recs = [];
    for (let i = start; i < Math.min(RECORDS, start + BATCH); i++) {
      const r = sampleRecord(json.sourceSchema, i, { seed: SEED, malformedRatio: 0 });
      const value = encode(r.fields!, r.value, as);
      bytes += typeof value === 'string' ? Buffer.byteLength(value) : value.length;
      recs.push({ offset: i, timestamp: 1706975400000 + i, key: r.key, value });
    }
    data.push(packRawBatch('bid-events', 0, recs));
  }
  return { data, bytes };
}

function pipelineAs(as: Encoding): PipelineConfig {
  switch (as) {
    case 'json':
      return json;
    case 'csv':
      return { ...json, format: 'csv', csv: DEFAULT_CSV_OPTIONS };
    case 'avro':
      return { ...json, format: 'avro', avro: { schema: null } };
    case 'avro-confluent':
      return { ...json, format: 'avro-confluent', avro: { schema: null, registry: { url: 'http://unused.invalid', subject: 'bid-events-value', timeoutMs: 1000 } } };
  }
}

interface Figures {
  recordsPerSec: number;
  cpuSecPerMillion: number;
  runs: number[];
}

function measure(run: (b: RawBatch) => number, data: RawBatch[]): Figures {
  for (const b of data.slice(0, 3)) run(b); // warm-up
  const runs: number[] = [];
  const cpus: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    let n = 0;
    for (const b of data) n += run(b);
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    if (n !== RECORDS) throw new Error(`decoded ${n} of ${RECORDS} records`);
    runs.push(Math.round(RECORDS / sec));
    cpus.push(((cpu.user + cpu.system) / 1e6) * (1e6 / RECORDS));
  }
  const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { recordsPerSec: mid(runs), cpuSecPerMillion: mid(cpus), runs };
}

async function main(): Promise<void> {
  const results = [];
  console.log(`decode by format, one thread: W1 (${RECORDS} bid-events records) in batches of ${BATCH}, median of ${RUNS} runs`);
  for (const as of (['json', 'csv', 'avro', 'avro-confluent'] as const).filter((f) => FORMATS.includes(f))) {
    const { data, bytes } = batches(as);
    const p = pipelineAs(as);
    let decoder: RecordDecoder;
    if (as === 'avro-confluent') {
      const cache = new SchemaCache(async () => ({ kind: 'found', schema: JSON.stringify(avroSchema) }));
      await cache.ensure([SCHEMA_ID]);
      decoder = createConfluentAvroDecoder(p.sourceSchema, p.avro!, { maxRecordBytes: p.maxRecordBytes }, cache);
    } else decoder = createDecoder(p);
    const transform: CompiledTransform = await buildTransform({ pipeline: p, entry });
    const decodeOnly = measure((b) => decoder.decode(b).count, data);
    // The SQL run of avro-confluent would need a registry; its decode-only figure against plain
    // Avro's shows what the framing costs.
    const sql = as === 'avro-confluent' ? null : measure((b) => transform.run(b).stats.records, data);
    const byteRead = as === 'json' ? data.reduce((sum, b) => sum + (decoder.decode(b).byteRead ?? 0), 0) / RECORDS : null;
    const row = { format: as, bytesPerRecord: +(bytes / RECORDS).toFixed(1), decode: decodeOnly, decodeAndSql: sql, byteRead };
    results.push(row);
    const show = (f: Figures | null) => (f === null ? '        —                ' : `${(f.recordsPerSec / 1e6).toFixed(3).padStart(7)} M rec/s ${f.cpuSecPerMillion.toFixed(2).padStart(6)} CPU-s/M`);
    console.log(`${as.padEnd(15)} ${String(row.bytesPerRecord).padStart(6)} B/rec   decode ${show(decodeOnly)}   decode+SQL ${show(sql)}${byteRead === null ? '' : `   byte reader: ${(byteRead * 100).toFixed(1)} %`}`);
  }
  const dir = path.join(projectRoot, 'benchmarks/results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'decode-formats.json');
  writeFileSync(file, JSON.stringify({ benchmark: 'decode-formats', node: process.version, records: RECORDS, batch: BATCH, runs: RUNS, at: new Date().toISOString(), results }, null, 2));
  console.log(`wrote ${file}`);
}

await main();
