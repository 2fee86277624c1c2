// Record-batch decode throughput on one thread: Kafka v2 batches of ~135-byte JSON values, per
// codec, through decodeRecordBatches in fetch-sized pieces (as a worker receives them). Prints a
// table and writes benchmarks/results/record-batch-decode.json.
//
//   npm run build && node dist/benchmarks/record-batch-decode.js [--records 200000] [--batch 500] [--fetch-bytes 1048576] [--runs 5]
//
// The batches come from a minimal encoder here (test helpers are not compiled into dist): no
// headers, no transactions, snappy in the Java client's snappy-java framing.

import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { CODEC_GZIP, CODEC_LZ4, CODEC_NONE, CODEC_SNAPPY, CODEC_ZSTD } from '../src/kafka/codecs.js';
import { crc32c, crc32cImplementation } from '../src/kafka/crc32c.js';
import { decodeRecordBatches } from '../src/kafka/record-batch.js';
import { runtimeLayout } from '../src/transform/registry.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const RECORDS = arg('records', 200_000);
const BATCH = arg('batch', 500);
const FETCH_BYTES = arg('fetch-bytes', 1 << 20);
const RUNS = arg('runs', 5);
const { projectRoot } = runtimeLayout();

const require = createRequire(import.meta.url);
const snappy = require('snappy') as { compressSync(input: Uint8Array): Buffer };
const lz4 = require('lz4js') as { compress(src: Uint8Array): Uint8Array };

const enc = new TextEncoder();

function varint(out: number[], v: number): void {
  let z = v >= 0 ? v * 2 : -v * 2 - 1;
  while (z >= 0x80) {
    out.push((z % 0x80) | 0x80);
    z = Math.floor(z / 0x80);
  }
  out.push(z);
}

function value(i: number): Uint8Array {
  const v = JSON.stringify({
    event_id: `e-${i.toString(36).padStart(8, '0')}`,
    user_id: (i * 7919) % 100_000,
    kind: ['click', 'view', 'purchase', 'scroll'][i % 4],
    amount: Math.round((i % 1000) * 1.37 * 100) / 100,
    ts: 1_700_000_000_000 + i * 11,
  });
  return enc.encode(v.padEnd(135, ' '));
}

function xerial(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1])];
  for (let at = 0; at < data.length; at += 32 * 1024) {
    const block = snappy.compressSync(data.subarray(at, at + 32 * 1024));
    const len = new Uint8Array(4);
    new DataView(len.buffer).setInt32(0, block.length);
    parts.push(len, block);
  }
  return Buffer.concat(parts);
}

const COMPRESS: Record<number, (b: Uint8Array) => Uint8Array> = {
  [CODEC_NONE]: (b) => b,
  [CODEC_GZIP]: (b) => gzipSync(b),
  [CODEC_SNAPPY]: xerial,
  [CODEC_LZ4]: (b) => lz4.compress(b),
  [CODEC_ZSTD]: (b) => zstdCompressSync(b),
};

function batch(codec: number, baseOffset: number, count: number): { bytes: Uint8Array; valueBytes: number } {
  const recs: number[] = [];
  let valueBytes = 0;
  for (let d = 0; d < count; d++) {
    const key = enc.encode(`user-${((baseOffset + d) * 7919) % 100_000}`);
    const v = value(baseOffset + d);
    valueBytes += v.length;
    const body: number[] = [0];
    varint(body, d * 3);
    varint(body, d);
    varint(body, key.length);
    body.push(...key);
    varint(body, v.length);
    body.push(...v);
    varint(body, 0);
    varint(recs, body.length);
    recs.push(...body);
  }
  const payload = COMPRESS[codec]!(Uint8Array.from(recs));
  const out = new Uint8Array(61 + payload.length);
  const view = new DataView(out.buffer);
  view.setBigInt64(0, BigInt(baseOffset));
  view.setInt32(8, out.length - 12);
  view.setInt8(16, 2);
  view.setInt16(21, codec);
  view.setInt32(23, count - 1);
  view.setBigInt64(27, 1_700_000_000_000n);
  view.setBigInt64(35, 1_700_000_000_000n + BigInt((count - 1) * 3));
  view.setBigInt64(43, -1n);
  view.setInt16(51, -1);
  view.setInt32(53, -1);
  view.setInt32(57, count);
  out.set(payload, 61);
  view.setUint32(17, crc32c(out.subarray(21)));
  return { bytes: out, valueBytes };
}

/** The records as fetch responses would carry them: whole batches packed up to FETCH_BYTES. */
function fetches(codec: number): { pieces: { bytes: Uint8Array; from: bigint }[]; wireBytes: number; valueBytes: number } {
  const pieces: { bytes: Uint8Array; from: bigint }[] = [];
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let pendingFrom = 0;
  let wireBytes = 0;
  let valueBytes = 0;
  const flush = () => {
    if (pending.length > 0) pieces.push({ bytes: Buffer.concat(pending), from: BigInt(pendingFrom) });
    pending = [];
    pendingBytes = 0;
  };
  for (let base = 0; base < RECORDS; base += BATCH) {
    const b = batch(codec, base, Math.min(BATCH, RECORDS - base));
    if (pendingBytes + b.bytes.length > FETCH_BYTES) flush();
    if (pending.length === 0) pendingFrom = base;
    pending.push(b.bytes);
    pendingBytes += b.bytes.length;
    wireBytes += b.bytes.length;
    valueBytes += b.valueBytes;
  }
  flush();
  return { pieces, wireBytes, valueBytes };
}

interface Result {
  codec: string;
  recordsPerSecond: number;
  valueMBPerSecond: number;
  wireMBPerSecond: number;
  cpuSecondsPerMillion: number;
  wireBytes: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function measure(name: string, codec: number): Result {
  const { pieces, wireBytes, valueBytes } = fetches(codec);
  const decodeAll = () => {
    let n = 0;
    for (const p of pieces) n += decodeRecordBatches(p.bytes, { topic: 'bench', partition: 0, fromOffset: p.from, abortedTransactions: null }).raw.count;
    if (n !== RECORDS) throw new Error(`${name}: decoded ${n} records, expected ${RECORDS}`);
  };
  decodeAll();
  decodeAll();
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    decodeAll();
    walls.push((performance.now() - t0) / 1000);
    const cpu = process.cpuUsage(cpu0);
    cpus.push((cpu.user + cpu.system) / 1e6);
  }
  const wall = median(walls);
  return {
    codec: name,
    recordsPerSecond: RECORDS / wall,
    valueMBPerSecond: valueBytes / wall / 1e6,
    wireMBPerSecond: wireBytes / wall / 1e6,
    cpuSecondsPerMillion: (median(cpus) / RECORDS) * 1e6,
    wireBytes,
  };
}

const codecs: [string, number][] = [
  ['none', CODEC_NONE],
  ['gzip', CODEC_GZIP],
  ['snappy', CODEC_SNAPPY],
  ['lz4', CODEC_LZ4],
  ['zstd', CODEC_ZSTD],
];
const results = codecs.map(([name, id]) => measure(name, id));

console.log(`record-batch decode, one thread: ${RECORDS} records of ~135-byte JSON, batches of ${BATCH}, fetches of ${FETCH_BYTES} bytes, median of ${RUNS} (crc32c: ${crc32cImplementation})`);
console.log('codec    records/s    value MB/s   wire MB/s   CPU-s per 1M   wire bytes');
for (const r of results) {
  console.log(
    `${r.codec.padEnd(8)} ${Math.round(r.recordsPerSecond).toLocaleString('en').padStart(10)} ${r.valueMBPerSecond.toFixed(0).padStart(12)} ${r.wireMBPerSecond.toFixed(0).padStart(11)} ${r.cpuSecondsPerMillion.toFixed(3).padStart(14)} ${r.wireBytes.toLocaleString('en').padStart(12)}`,
  );
}
const dir = path.join(projectRoot, 'benchmarks/results');
mkdirSync(dir, { recursive: true });
const file = path.join(dir, 'record-batch-decode.json');
writeFileSync(
  file,
  JSON.stringify({ benchmark: 'record-batch-decode', node: process.version, crc32c: crc32cImplementation, records: RECORDS, batch: BATCH, fetchBytes: FETCH_BYTES, runs: RUNS, at: new Date().toISOString(), results }, null, 2),
);
console.log(`wrote ${path.relative(projectRoot, file)}`);
