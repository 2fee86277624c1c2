// Kafka source: choosing the client. Each candidate consumer reads the whole of workload W1
// (benchmarks/kafka-source/w1.ts) from the earliest offset to the end offsets seen at start, in
// a child process of its own, so its wall time, CPU-seconds and peak RSS are its own. Candidates
// run interleaved (every candidate once per codec per round, the order rotated each round) so a
// noisy neighbour spreads over all of them; figures are medians of the rounds with min–max.
//
//   npx tsc -p tsconfig.json && node dist/benchmarks/kafka-source.js \
//     [--codecs none,snappy,lz4,zstd] [--runs 3] [--records 2000000] [--partitions 8]
//     [--candidates kafkajs,platformatic,...] [--bootstrap 127.0.0.1:$KAFKA_PORT] [--deadline 300]
//
// Needs the broker (KAFKA_PORT=... bash scripts/kafka.sh start), kcat, Java 17 and Maven.
// Prints a table and writes benchmarks/results/kafka-source-<timestamp>.json.

import { readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../src/project-root.js';
import { CODECS, type Candidate, type CandidateInput, type Codec } from './kafka-source/candidate.js';
import { measure } from './kafka-source/measure.js';
import { ensureW1, type W1Topic } from './kafka-source/w1.js';
import { kafkaVersion } from './kafka-source/candidates/kafka-java.js';

const USAGE = `Usage: node dist/benchmarks/kafka-source.js [options]
  --codecs LIST       compression codecs of the W1 topics, of ${CODECS.join(',')} (default none,snappy,lz4,zstd)
  --runs N            rounds; every candidate reads every topic once per round (default 3)
  --records N         records in W1 (default 2000000)
  --partitions N      partitions of each W1 topic (default 8)
  --candidates LIST   candidates to run (default: every file in kafka-source/candidates/)
  --bootstrap H:P     broker (default 127.0.0.1:$KAFKA_PORT, else 127.0.0.1:9092)
  --deadline S        seconds after which a run is killed and counted as failed (default 300)
`;

interface RunFigures {
  round: number;
  candidate: string;
  codec: Codec;
  ok: boolean;
  error?: string;
  loadAverage1m: number;
  records?: number;
  valueBytes?: number | null;
  wallSeconds?: number;
  wallFromFirstRecordSeconds?: number | null;
  recordsPerSecond?: number;
  recordsPerSecondFromFirstRecord?: number | null;
  valueMBPerSecond?: number;
  cpuSeconds?: number;
  cpuSecondsPerMillionRecords?: number;
  peakRssMb?: number;
  details?: Record<string, unknown>;
}

interface Spread {
  median: number;
  min: number;
  max: number;
}

function spread(xs: number[]): Spread | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  // The lower middle for an even count: a failed run must not make the median look better.
  return { median: s[Math.floor((s.length - 1) / 2)]!, min: s[0]!, max: s.at(-1)! };
}

async function loadCandidates(): Promise<Candidate[]> {
  const dir = new URL('./kafka-source/candidates/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.js')).sort();
  const out: Candidate[] = [];
  for (const f of files) {
    const mod = (await import(new URL(f, dir).href)) as { candidate?: Candidate };
    if (mod.candidate) out.push(mod.candidate);
  }
  return out;
}

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      codecs: { type: 'string', default: 'none,snappy,lz4,zstd' },
      runs: { type: 'string', default: '3' },
      records: { type: 'string', default: '2000000' },
      partitions: { type: 'string', default: '8' },
      candidates: { type: 'string' },
      bootstrap: { type: 'string', default: `127.0.0.1:${process.env.KAFKA_PORT ?? '9092'}` },
      deadline: { type: 'string', default: '300' },
      help: { type: 'boolean', default: false },
    },
  });
  if (v.help) {
    process.stdout.write(USAGE);
    return;
  }
  const codecs = v.codecs.split(',').map((c) => c.trim()) as Codec[];
  for (const c of codecs) if (!CODECS.includes(c)) fail(`--codecs: found "${c}"; expected some of ${CODECS.join(',')}`);
  const runs = Number(v.runs);
  const records = Number(v.records);
  const partitions = Number(v.partitions);
  const deadlineMs = Number(v.deadline) * 1000;
  for (const [name, n] of [['--runs', runs], ['--records', records], ['--partitions', partitions], ['--deadline', deadlineMs]] as const) {
    if (!Number.isInteger(n) || n < 1) fail(`${name}: expected a whole number ≥ 1`);
  }

  const all = await loadCandidates();
  const wanted = v.candidates?.split(',').map((s) => s.trim()) ?? all.map((c) => c.name);
  for (const w of wanted) if (!all.some((c) => c.name === w)) fail(`--candidates: found "${w}"; expected some of ${all.map((c) => c.name).join(',')}`);
  const candidates = all.filter((c) => wanted.includes(c.name));
  const unavailable = new Map<string, string>();
  for (const c of candidates) {
    const why = c.unavailable();
    if (why !== null) unavailable.set(c.name, why);
  }
  const runnable = candidates.filter((c) => !unavailable.has(c.name));

  const topics = new Map<Codec, W1Topic>();
  for (const codec of codecs) topics.set(codec, await ensureW1({ bootstrap: v.bootstrap, records, partitions }, codec));

  const loadAtStart = os.loadavg();
  const results: RunFigures[] = [];
  const total = runs * codecs.reduce((n, c) => n + runnable.filter((k) => k.codecs.includes(c)).length, 0);
  for (let round = 0; round < runs; round++) {
    for (const codec of codecs) {
      const w1 = topics.get(codec)!;
      // Rotated each round, so no candidate always runs right after the same neighbour.
      const order = runnable.map((_, i) => runnable[(i + round) % runnable.length]!).filter((c) => c.codecs.includes(codec));
      for (const c of order) {
        const input: CandidateInput = { bootstrap: v.bootstrap, topic: w1.topic, codec, starts: w1.starts, ends: w1.ends, records: w1.records, deadlineMs };
        const load = os.loadavg()[0]!;
        const base = { round: round + 1, candidate: c.name, codec, loadAverage1m: load };
        let fig: RunFigures;
        try {
          const m = await measure(c.launch(input), deadlineMs + 10_000);
          const r = m.report;
          // The whole topic, no more and no less: a short read would flatter the candidate.
          if (r.records !== w1.records) {
            throw new CountMismatch(`${c.name} read ${r.records} records of ${w1.topic}; it holds ${w1.records}`);
          }
          if (r.valueBytes !== null && r.valueBytes !== w1.valueBytes) {
            throw new CountMismatch(`${c.name} read ${r.valueBytes} value bytes of ${w1.topic}; it holds ${w1.valueBytes}`);
          }
          // ConsumerPerformance times itself with the wall clock, which stepped by seconds here more
          // than once: a read longer than the child's whole (monotonic) life is no figure.
          const fromFirst = r.readSeconds === null || r.readSeconds > m.wallSeconds ? null : Math.max(0.001, r.readSeconds);
          fig = {
            ...base,
            ok: true,
            records: r.records,
            valueBytes: r.valueBytes,
            wallSeconds: m.wallSeconds,
            wallFromFirstRecordSeconds: fromFirst,
            recordsPerSecond: r.records / m.wallSeconds,
            recordsPerSecondFromFirstRecord: fromFirst === null ? null : r.records / fromFirst,
            valueMBPerSecond: w1.valueBytes / (1024 * 1024) / m.wallSeconds,
            cpuSeconds: m.cpuSeconds,
            cpuSecondsPerMillionRecords: m.cpuSeconds / (r.records / 1e6),
            peakRssMb: m.peakRssMb,
            ...(r.details ? { details: r.details } : {}),
          };
        } catch (err) {
          if (err instanceof CountMismatch) throw err;
          fig = { ...base, ok: false, error: (err as Error).message };
        }
        results.push(fig);
        const line = fig.ok
          ? `${Math.round(fig.recordsPerSecond!).toLocaleString('en')} records/s, ${fig.wallSeconds!.toFixed(1)} s, ${fig.cpuSecondsPerMillionRecords!.toFixed(1)} CPU-s/M, ${fig.peakRssMb!.toFixed(0)} MB`
          : `FAILED: ${fig.error!.split('\n')[0]}`;
        process.stderr.write(`[${results.length}/${total}] round ${round + 1} ${codec} ${c.name}: ${line} (load ${load.toFixed(2)})\n`);
      }
    }
  }
  const loadAtEnd = os.loadavg();

  type Row = { candidate: string; codec: Codec; status: string; runs: number; [k: string]: unknown };
  const rows: Row[] = [];
  for (const c of candidates) {
    for (const codec of codecs) {
      if (unavailable.has(c.name)) {
        rows.push({ candidate: c.name, codec, status: `unavailable: ${unavailable.get(c.name)}`, runs: 0 });
        continue;
      }
      if (!c.codecs.includes(codec)) {
        rows.push({ candidate: c.name, codec, status: 'unsupported codec', runs: 0 });
        continue;
      }
      const rs = results.filter((r) => r.candidate === c.name && r.codec === codec);
      const ok = rs.filter((r) => r.ok);
      const pick = (f: (r: RunFigures) => number | null | undefined) => spread(ok.map(f).filter((x): x is number => typeof x === 'number'));
      rows.push({
        candidate: c.name,
        codec,
        status: ok.length === rs.length ? 'ok' : `${rs.length - ok.length} of ${rs.length} runs failed`,
        runs: ok.length,
        recordsPerSecond: pick((r) => r.recordsPerSecond),
        recordsPerSecondFromFirstRecord: pick((r) => r.recordsPerSecondFromFirstRecord),
        valueMBPerSecond: pick((r) => r.valueMBPerSecond),
        wallSeconds: pick((r) => r.wallSeconds),
        wallFromFirstRecordSeconds: pick((r) => r.wallFromFirstRecordSeconds),
        cpuSeconds: pick((r) => r.cpuSeconds),
        cpuSecondsPerMillionRecords: pick((r) => r.cpuSecondsPerMillionRecords),
        peakRssMb: pick((r) => r.peakRssMb),
      });
    }
  }

  const fmt = (s: unknown, digits: number, scale = 1) => {
    const x = s as Spread | null | undefined;
    if (!x) return '—';
    const f = (n: number) => (n / scale).toFixed(digits);
    return `${f(x.median)} (${f(x.min)}–${f(x.max)})`;
  };
  const header = ['candidate', 'codec', 'k records/s', 'k rec/s from 1st', 'MB/s', 'wall s', 'CPU-s / M', 'peak RSS MB'];
  const measured = rows.filter((r) => r.runs > 0);
  const table = measured.map((r) => [
          r.candidate,
          r.codec,
          fmt(r.recordsPerSecond, 0, 1000),
          fmt(r.recordsPerSecondFromFirstRecord, 0, 1000),
          fmt(r.valueMBPerSecond, 1),
          fmt(r.wallSeconds, 1),
          fmt(r.cpuSecondsPerMillionRecords, 1),
    fmt(r.peakRssMb, 0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
  const printRow = (cells: string[]) => process.stdout.write(`${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
  const w1Any = topics.values().next().value;
  process.stdout.write(
    `\nW1: ${records.toLocaleString('en')} records (${w1Any ? (w1Any.valueBytes / records).toFixed(0) : '?'} B values) in ${partitions} partitions; ` +
      `median (min–max) of ${runs} rounds; load average ${loadAtStart[0]!.toFixed(2)} at start, ${loadAtEnd[0]!.toFixed(2)} at end on ${os.cpus().length} cores\n`,
  );
  printRow(header);
  for (const t of table) printRow(t);
  // Not run: no figures to align, only the reason.
  for (const r of rows) if (r.status !== 'ok') process.stdout.write(`${r.candidate} ${r.codec}: ${r.status}\n`);

  const outDir = path.join(PROJECT_ROOT, 'benchmarks/results');
  mkdirSync(outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outFile = path.join(outDir, `kafka-source-${stamp}.json`);
  writeFileSync(
    outFile,
    JSON.stringify(
      {
        workload: { name: 'W1', records, partitions, codecs, topics: [...topics.values()] },
        machine: { cores: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryMb: Math.round(os.totalmem() / 2 ** 20), loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadAtEnd },
        versions: { node: process.version, kafka: kafkaVersion(), candidates: Object.fromEntries(candidates.map((c) => [c.name, unavailable.has(c.name) ? null : c.version()])) },
        configuration: { runs, deadlineSeconds: deadlineMs / 1000, bootstrap: v.bootstrap },
        unavailable: Object.fromEntries(unavailable),
        summary: rows,
        runs: results,
      },
      null,
      2,
    ),
  );
  process.stdout.write(`\nwrote ${path.relative(PROJECT_ROOT, outFile)}\n`);
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

class CountMismatch extends Error {}

main().catch((err: unknown) => {
  process.stderr.write(`kafka-source failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
