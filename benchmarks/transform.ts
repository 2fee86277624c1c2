// Transform throughput on one thread (one transform worker): JSON decode + transformation +
// Arrow output for each shipped transformer, the compiled SQL against hand-written TypeScript doing
// the same work. Prints a table and writes benchmarks/results/transform.json.
//
//   npm run build && node dist/benchmarks/transform.js [--records 200000] [--batch 10000] [--runs 5]

import * as arrow from 'apache-arrow';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseSqlType } from '../src/schema/sql-types.js';
import type { FieldConfig, PipelineConfig, TransformationEntry } from '../src/config/types.js';
import { buildColumn, recordBatchOf } from '../src/transform/columns.js';
import { createJsonDecoder } from '../src/transform/decode/json-decoder.js';
import { buildTransform, transformFor, type CompiledTransform } from '../src/transform/batch-transform.js';
import { packRawBatch, type RawBatch } from '../src/kafka/raw-batch.js';
import { runtimeLayout } from '../src/transform/registry.js';
import { BaseTransformer, type Row, type TransformContext } from '../src/transform/transformer.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const RECORDS = arg('records', 200_000);
const BATCH = arg('batch', 10_000);
const RUNS = arg('runs', 5);
const { projectRoot } = runtimeLayout();

const fields = (spec: Record<string, string>): FieldConfig[] => Object.entries(spec).map(([name, typeText]) => ({ name, type: parseSqlType(typeText), typeText }));

function pipelineOf(topic: string, source: Record<string, string>, sink: Record<string, string>, table: string): PipelineConfig {
  return {
    topic, enabled: true, groupId: 'bench', scanMode: 'earliest-offset', format: 'json',
    sourceSchema: fields(source),
    sink: { tableNameRaw: table, tableName: table, schema: fields(sink), partitionBy: [], properties: {} },
    transformation: table, onError: 'dlq', deadLetter: { kind: 'table', tableName: `${table}_dlq` }, maxRecordBytes: 1 << 20,
    isolationLevel: 'read_committed',
  };
}

function entryOf(name: string, className: string): TransformationEntry {
  return { name, className, module: `transformations.${name}`, modulePath: path.join(projectRoot, 'transformations', `${name}.ts`), description: name };
}

const BID = pipelineOf('bid-events',
  { event_name: 'STRING', user_id: 'BIGINT', city_id: 'BIGINT', platform: 'STRING', session_id: 'STRING', timestamp_ms: 'BIGINT' },
  { event_name: 'STRING', user_id: 'BIGINT', city_id: 'BIGINT', platform: 'STRING', session_id: 'STRING', event_time: 'TIMESTAMP(3)', ingestion_time: 'TIMESTAMP(3)' },
  'parsed_events');
const USER = pipelineOf('user-events',
  { event_type: 'STRING', user_id: 'BIGINT', page_url: 'STRING', device_type: 'STRING', session_id: 'STRING', timestamp_ms: 'BIGINT' },
  { event_type: 'STRING', user_id: 'BIGINT', page_url: 'STRING', device_type: 'STRING', session_id: 'STRING', is_mobile: 'BOOLEAN', event_time: 'TIMESTAMP(3)', ingestion_time: 'TIMESTAMP(3)' },
  'user_events_enriched');
const FILTER = pipelineOf('new-topic', { field1: 'STRING', field2: 'BIGINT' }, { field1: 'STRING', processed_time: 'TIMESTAMP(3)' }, 'new_table');

const PLATFORMS = ['ios', 'android', 'web', 'Mobile', 'desktop'];

function batches(make: (i: number) => object): RawBatch[] {
  const out: RawBatch[] = [];
  for (let start = 0; start < RECORDS; start += BATCH) {
    const recs = [];
    for (let i = start; i < Math.min(RECORDS, start + BATCH); i++) recs.push({ offset: i, timestamp: 1706975400000 + i, value: JSON.stringify(make(i)) });
    out.push(packRawBatch('bench', 0, recs));
  }
  return out;
}

const bidData = batches((i) => ({ event_name: i % 3 === 0 ? 'bid' : 'view', user_id: 100000 + i, city_id: i % 50, platform: PLATFORMS[i % 5], session_id: `sess-${i % 9973}`, timestamp_ms: 1706975400000 + i }));
const userData = batches((i) => ({ event_type: 'page_view', user_id: 100000 + i, page_url: `/p/${i % 1000}`, device_type: PLATFORMS[i % 5], session_id: `sess-${i % 9973}`, timestamp_ms: 1706975400000 + i }));
const filterData = batches((i) => ({ field1: `f-${i}`, field2: i % 200 }));

// Hand-written TypeScript equivalents of the shipped SQL, through the same public contracts.
class BidRows extends BaseTransformer {
  map(row: Row, ctx: TransformContext): Row {
    return {
      event_name: row.event_name, user_id: row.user_id, city_id: row.city_id, platform: row.platform, session_id: row.session_id,
      event_time: row.timestamp_ms, ingestion_time: ctx.nowMs,
    };
  }
}

class BidColumnar extends BaseTransformer {
  transform(batch: arrow.RecordBatch, ctx: TransformContext): arrow.RecordBatch {
    const n = batch.numRows;
    const ms = batch.getChild('timestamp_ms')!.data[0]!;
    const src = ms.values as BigInt64Array;
    const eventTime = new BigInt64Array(n);
    for (let i = 0; i < n; i++) eventTime[i] = src[i]! * 1000n;
    const now = new BigInt64Array(n).fill(BigInt(ctx.nowMs) * 1000n);
    const ts = new arrow.TimestampMicrosecond(null);
    const pass = (name: string) => batch.getChild(name)!.data[0]!;
    return new arrow.RecordBatch({
      event_name: pass('event_name'), user_id: pass('user_id'), city_id: pass('city_id'), platform: pass('platform'), session_id: pass('session_id'),
      event_time: arrow.makeData({ type: ts, length: n, nullCount: ms.nullCount, nullBitmap: ms.nullBitmap, data: eventTime }),
      ingestion_time: arrow.makeData({ type: ts, length: n, data: now }),
    });
  }
}

const MOBILE = new Set(['ios', 'android', 'mobile']);
class UserRows extends BaseTransformer {
  map(row: Row, ctx: TransformContext): Row {
    const d = row.device_type as string | null;
    return {
      event_type: row.event_type, user_id: row.user_id, page_url: row.page_url, device_type: d, session_id: row.session_id,
      is_mobile: d !== null && MOBILE.has(d.toLowerCase()), event_time: row.timestamp_ms, ingestion_time: ctx.nowMs,
    };
  }
}

class FilterRows extends BaseTransformer {
  filter(row: Row): boolean {
    return row.field2 !== null && (row.field2 as number) > 100;
  }
  map(row: Row, ctx: TransformContext): Row {
    return { field1: row.field1, processed_time: ctx.nowMs };
  }
}

/** The floor: decode and build Arrow for the source columns, no transformation. */
function decodeOnly(p: PipelineConfig): CompiledTransform {
  const decoder = createJsonDecoder(p.sourceSchema, { maxRecordBytes: p.maxRecordBytes });
  return {
    kind: 'columnar',
    sinkSchema: new arrow.Schema([]),
    run(raw) {
      const d = decoder.decode(raw);
      const cols = p.sourceSchema.map((f, k) => buildColumn(d.columns[k]!, f.type, null, d.count));
      const s = new arrow.Schema(p.sourceSchema.map((f, k) => new arrow.Field(f.name, cols[k]!.type, true)));
      const rows = recordBatchOf(s, d.count, cols);
      return { rows, deadLetters: null, stats: { records: raw.count, rows: d.count, filtered: 0, tombstones: 0, deadLetters: { RECORD_DECODE_FAILED: 0, RECORD_TOO_LARGE: 0, EXPRESSION_FAILED: 0 } } };
    },
  };
}

interface Scenario {
  pipeline: string;
  variant: string;
  transform: CompiledTransform;
  data: RawBatch[];
}

function measure(s: Scenario): { medianRecordsPerSec: number; runs: number[]; rowsOut: number } {
  const nowMs = Date.now();
  for (const b of s.data.slice(0, 3)) s.transform.run(b, nowMs); // warm-up
  const runs: number[] = [];
  let rowsOut = 0;
  for (let r = 0; r < RUNS; r++) {
    rowsOut = 0;
    const t0 = process.hrtime.bigint();
    for (const b of s.data) rowsOut += s.transform.run(b, nowMs).rows.numRows;
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    runs.push(Math.round(RECORDS / sec));
  }
  const sorted = [...runs].sort((a, b) => a - b);
  return { medianRecordsPerSec: sorted[Math.floor(sorted.length / 2)]!, runs, rowsOut };
}

async function main(): Promise<void> {
  const scenarios: Scenario[] = [
    { pipeline: 'bid_events_raw', variant: 'decode only', transform: decodeOnly(BID), data: bidData },
    { pipeline: 'bid_events_raw', variant: 'SQL (compiled)', transform: await buildTransform({ pipeline: BID, entry: entryOf('bid_events_raw', 'BidEventsRawTransformer') }), data: bidData },
    { pipeline: 'bid_events_raw', variant: 'TS map()', transform: transformFor(BID, new BidRows(BID), 'rows', null), data: bidData },
    { pipeline: 'bid_events_raw', variant: 'TS transform()', transform: transformFor(BID, new BidColumnar(BID), 'columnar', null), data: bidData },
    { pipeline: 'user_events_enriched', variant: 'SQL (compiled)', transform: await buildTransform({ pipeline: USER, entry: entryOf('user_events_enriched', 'UserEventsEnrichedTransformer') }), data: userData },
    { pipeline: 'user_events_enriched', variant: 'TS map()', transform: transformFor(USER, new UserRows(USER), 'rows', null), data: userData },
    { pipeline: 'new_transformation', variant: 'SQL (compiled)', transform: await buildTransform({ pipeline: FILTER, entry: entryOf('new_transformation', 'NewTransformer') }), data: filterData },
    { pipeline: 'new_transformation', variant: 'TS filter()+map()', transform: transformFor(FILTER, new FilterRows(FILTER), 'rows', null), data: filterData },
  ];
  const results = [];
  console.log(`transform throughput, one thread: ${RECORDS} records in batches of ${BATCH}, median of ${RUNS} runs`);
  for (const s of scenarios) {
    const r = measure(s);
    results.push({ pipeline: s.pipeline, variant: s.variant, ...r });
    console.log(`${s.pipeline.padEnd(22)} ${s.variant.padEnd(18)} ${(r.medianRecordsPerSec / 1e6).toFixed(3).padStart(7)} M records/s   (rows out ${r.rowsOut}; runs ${r.runs.map((x) => (x / 1e6).toFixed(2)).join(' ')})`);
  }
  const dir = path.join(projectRoot, 'benchmarks/results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'transform.json');
  writeFileSync(file, JSON.stringify({ benchmark: 'transform', node: process.version, records: RECORDS, batch: BATCH, runs: RUNS, at: new Date().toISOString(), results }, null, 2));
  console.log(`wrote ${file}`);
}

await main();
