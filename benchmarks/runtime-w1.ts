// W1 end to end: the `bid-events → parsed_events` pipeline over a backlog of 2,000,000 records of
// the seed's bid-events shape (~135 B of JSON each) in 8 partitions, `--bounded`, at each
// requested parallelism, several runs interleaved. Per run: records/s and MB/s of Kafka payload
// (wall time from process start to exit), CPU-seconds (user + system) and CPU-seconds per million
// records, peak RSS of the whole process (every thread); the CPU of each of its threads, grouped
// by role (harness/thread-cpu.ts: main, source, sink, transform, helpers); and where its memory
// was at the peak (harness/memory-map.ts: WebAssembly, glibc arenas, other anonymous memory).
//
//   npm run build && node dist/benchmarks/runtime-w1.js [--records 2000000] [--partitions 8]
//     [--codec none|gzip|snappy|lz4|zstd] [--parallelism 1,2] [--runs 3] [--compare DIR]
//     [--set runtime.memory_budget=128mb ...] [--set sink.properties.write.parquet.row-group-limit=65536] [--memory-probe]
//
// Needs the broker (npm run kafka:start), kcat (the topic is written by it, fast and in any
// codec) and GNU time at /usr/bin/time. `--compare DIR` also runs another checkout's build
// (DIR/dist/src/cli.js) on the same topic in the same rounds, e.g. the previous release, so the
// two are measured under the same load. The topic is kept and reused by later runs. `--set`
// adds a key to the config's `runtime:` section. `--memory-probe` loads
// harness/thread-memory-probe.js into every thread of the runtime and prints each thread's peak
// V8 heap and WebAssembly memory (it costs the runtime a timer per thread). The runtime inherits
// this process's environment: MALLOC_ARENA_MAX and the like reach it (and replace the CLI's own
// mmap threshold, src/malloc-tuning.ts); STREAMBERG_MALLOC_TUNING=off measures glibc's defaults.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseDocument } from 'yaml';
import { loadConfig } from '../src/config/load.js';
import { createKafka } from '../src/kafka/client.js';
import { endOffsets, ensureTopic } from '../src/kafka/topics.js';
import { PROJECT_ROOT } from '../src/project-root.js';
import { sampleRecord } from '../src/tools/sample-events.js';
import { PeakMemory, formatBreakdown, type MemoryBreakdown } from './harness/memory-map.js';
import { measureProcess } from './harness/proc-tree.js';
import { THREAD_SAMPLE_MS, cpuByRole, formatRoleTable, watchThreads, type RoleCpu } from './harness/thread-cpu.js';
import type { ThreadMemory } from './harness/thread-memory-probe.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '2000000' },
    partitions: { type: 'string', default: '8' },
    codec: { type: 'string', default: 'none' },
    parallelism: { type: 'string', default: '1,2' },
    runs: { type: 'string', default: '3' },
    compare: { type: 'string' },
    set: { type: 'string', multiple: true, default: [] },
    'memory-probe': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  const self = readFileSync(new URL(import.meta.url), 'utf8');
  process.stdout.write(self.slice(0, self.indexOf('\nimport ')).replace(/^\/\/ ?/gm, '') + '\n');
  process.exit(0);
}
for (const kv of values.set!) {
  if (!/^(runtime\.[a-z_]+(\.[a-z_]+)?|sink\.properties\.[\w.-]+)=\S+$/.test(kv)) {
    process.stderr.write(`--set: found "${kv}"; expected runtime.<key>=<value>, runtime.<section>.<key>=<value> or sink.properties.<table property>=<value>, e.g. runtime.memory_budget=128mb\n`);
    process.exit(2);
  }
}

/** topics.yaml with the --set settings: runtime keys, or the benchmark table's properties. */
function withSettings(yaml: string, topicName: string, settings: readonly string[]): string {
  if (settings.length === 0) return yaml;
  const doc = parseDocument(yaml);
  for (const kv of settings) {
    const [key, value] = [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)];
    const parts = key.split('.');
    // A table property's name has dots of its own (write.parquet.row-group-limit).
    doc.setIn(parts[0] === 'runtime' ? parts : ['topics', topicName, 'sink', 'properties', parts.slice(2).join('.')], value);
  }
  return doc.toString();
}
const records = Number(values.records);
const partitions = Number(values.partitions);
const codec = values.codec!;
const parallelisms = values.parallelism!.split(',').map(Number);
const runs = Number(values.runs);
const root = PROJECT_ROOT;
const bootstrap = process.env.KAFKA_BOOTSTRAP_SERVERS ?? `127.0.0.1:${process.env.KAFKA_PORT ?? 9092}`;
const topic = `bench-w1-${codec}-${records}-${partitions}`;

// A config with the bid pipeline alone, reading the benchmark topic.
const dir = mkdtempSync(path.join(os.tmpdir(), 'streamberg-w1-'));
mkdirSync(path.join(dir, 'config'));
const shipped = readFileSync(path.join(root, 'config/topics.yaml'), 'utf8');
const topicsYaml = withSettings(
  shipped
    .replace('  bid-events:\n', `  ${topic}:\n`)
    .replace(/( {2}user-events:\n {4}enabled: )true/, '$1false')
    .replace('"flink-s3tables-json-v1"', `"bench-${Date.now().toString(36)}"`),
  topic,
  values.set!,
);
writeFileSync(path.join(dir, 'config/topics.yaml'), topicsYaml);
writeFileSync(path.join(dir, 'config/transformations.yaml'), readFileSync(path.join(root, 'config/transformations.yaml')));
const configDir = path.join(dir, 'config');
const config = loadConfig({ configDir, env: { KAFKA_BOOTSTRAP_SERVERS: bootstrap } }).config;

async function prepareTopic(): Promise<number> {
  const kafka = createKafka(config.kafka);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopic(admin, topic, partitions);
    let have = [...(await endOffsets(admin, topic)).values()].reduce((a, b) => a + b, 0n);
    if (have === 0n) {
      process.stdout.write(`producing ${records} records into ${topic} with kcat (-z ${codec})...\n`);
      const schema = config.pipelines.find((p) => p.topic === topic)!.sourceSchema;
      const file = path.join(dir, 'values');
      const lines: string[] = [];
      for (let i = 0; i < records; i++) lines.push(sampleRecord(schema, i, { seed: 42, malformedRatio: 0 }).value);
      writeFileSync(file, lines.join('\n') + '\n');
      execFileSync('kcat', ['-P', '-b', bootstrap, '-t', topic, '-z', codec, '-X', 'linger.ms=50', '-X', 'batch.num.messages=10000', '-l', file], { stdio: 'inherit', timeout: 600_000 });
      have = [...(await endOffsets(admin, topic)).values()].reduce((a, b) => a + b, 0n);
    }
    if (have !== BigInt(records)) throw new Error(`${topic} holds ${have} records, expected ${records}: delete it and run again`);
    return Number(have);
  } finally {
    await admin.disconnect();
  }
}

interface Run {
  build: string;
  parallelism: number;
  seconds: number;
  cpuSeconds: number;
  recordsPerSecond: number;
  payloadMbPerSecond: number;
  cpuSecondsPerMillion: number;
  peakRssMb: number;
  /** Parquet data files the run wrote (compacted ones included): what a smaller budget costs. */
  dataFiles: number;
  loadAverage: number[];
  /** CPU of the runtime's threads by role (polled every THREAD_SAMPLE_MS, last reading per thread). */
  threads: RoleCpu[];
  threadsTable: string;
  /** Resident memory by kind when RSS was highest. */
  memoryAtPeak: MemoryBreakdown | null;
  /** With --memory-probe: each thread's peak V8 heap and WebAssembly memory. */
  threadMemory: ThreadMemory[] | null;
}

const loadAverage = (): number[] => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
const PROBE = path.join(root, 'dist/benchmarks/harness/thread-memory-probe.js');

async function once(build: string, cli: string, parallelism: number, i: number, payloadBytes: number): Promise<Run> {
  const warehouse = path.join(dir, `wh-${build}-${parallelism}-${i}`);
  const probeDir = path.join(dir, `probe-${build}-${parallelism}-${i}`);
  const env: NodeJS.ProcessEnv = { ...process.env, KAFKA_BOOTSTRAP_SERVERS: bootstrap, WAREHOUSE_DIR: warehouse, LOG_LEVEL: 'warn' };
  if (values['memory-probe']) {
    mkdirSync(probeDir);
    env.BENCH_MEMORY_PROBE_DIR = probeDir;
    env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --require ${PROBE}`.trim();
  }
  let threads: { stop(): ReturnType<ReturnType<typeof watchThreads>['stop']> } | undefined;
  let memory: PeakMemory | undefined;
  let memoryTimer: NodeJS.Timeout | undefined;
  const m = await measureProcess(process.execPath, [cli, '--config', configDir, '--bounded', '--parallelism', String(parallelism), '--checkpoint-interval', '10s', '--metrics-port', '0'], {
    env,
    deadlineMs: 900_000,
    onStart(control) {
      threads = watchThreads(control.programPid);
      memoryTimer = setInterval(() => {
        const pid = control.programPid();
        if (pid === undefined) return;
        memory ??= new PeakMemory(pid);
        memory.sample();
      }, THREAD_SAMPLE_MS);
    },
  });
  clearInterval(memoryTimer);
  const sampled = threads?.stop() ?? [];
  if (m.exitCode !== 0) throw new Error(`${build} run failed (${m.exitCode}): ${m.stderrTail.slice(-3000)}`);
  // The process's own total (GNU time counts every thread it had); the thread table says how much of it the polls saw.
  const cpuSeconds = m.cpuSecondsWaited;
  const roles = cpuByRole(sampled, records);
  let threadMemory: ThreadMemory[] | null = null;
  if (values['memory-probe']) {
    threadMemory = readdirSync(probeDir).map((f) => JSON.parse(readFileSync(path.join(probeDir, f), 'utf8')) as ThreadMemory);
    rmSync(probeDir, { recursive: true, force: true });
  }
  const dataFiles = readdirSync(warehouse, { recursive: true }).filter((f) => String(f).endsWith('.parquet')).length;
  rmSync(warehouse, { recursive: true, force: true });
  return {
    build,
    parallelism,
    seconds: m.wallSeconds,
    cpuSeconds,
    recordsPerSecond: records / m.wallSeconds,
    payloadMbPerSecond: payloadBytes / m.wallSeconds / 1e6,
    cpuSecondsPerMillion: cpuSeconds / (records / 1e6),
    peakRssMb: m.peakRssMb,
    dataFiles,
    loadAverage: loadAverage(),
    threads: roles,
    threadsTable: formatRoleTable(roles, cpuSeconds),
    memoryAtPeak: memory?.atPeak ?? null,
    threadMemory,
  };
}

function formatThreadMemory(list: readonly ThreadMemory[]): string {
  const rows = [...list].sort((a, b) => b.heapPhysicalMb + b.wasmMb - (a.heapPhysicalMb + a.wasmMb));
  return [
    '  | thread | V8 heap MB (peak) | of it live | external MB | wasm MB |',
    '  | --- | --- | --- | --- | --- |',
    ...rows.map((t) => `  | ${t.tid} ${t.name} | ${t.heapPhysicalMb.toFixed(0)} | ${t.heapUsedMb.toFixed(0)} | ${t.externalMb.toFixed(0)} | ${t.wasmMb.toFixed(0)} |`),
  ].join('\n');
}

const have = await prepareTopic();
const schema = config.pipelines.find((p) => p.topic === topic)!.sourceSchema;
let payloadBytes = 0;
for (let i = 0; i < have; i++) payloadBytes += Buffer.byteLength(sampleRecord(schema, i, { seed: 42, malformedRatio: 0 }).value);

const builds: Array<[string, string]> = [['this', path.join(root, 'dist/src/cli.js')]];
if (values.compare) builds.push([`compare:${path.basename(values.compare)}`, path.join(path.resolve(values.compare), 'dist/src/cli.js')]);
const results: Run[] = [];
for (let i = 0; i < runs; i++) {
  for (const p of parallelisms) {
    for (const [build, cli] of builds) {
      const run = await once(build, cli, p, i, payloadBytes);
      results.push(run);
      process.stdout.write(
        `run ${i + 1}/${runs} ${build} p=${p}: ${run.seconds.toFixed(2)} s, ${Math.round(run.recordsPerSecond)} records/s, ${run.payloadMbPerSecond.toFixed(1)} MB/s, ` +
          `${run.cpuSeconds.toFixed(1)} CPU-s (${run.cpuSecondsPerMillion.toFixed(1)} per M), peak RSS ${run.peakRssMb.toFixed(0)} MB, ${run.dataFiles} data files, load ${run.loadAverage.join(' ')}\n` +
          `${run.threadsTable}\n${run.memoryAtPeak ? formatBreakdown(run.memoryAtPeak) + '\n' : ''}${run.threadMemory ? formatThreadMemory(run.threadMemory) + '\n' : ''}`,
      );
    }
  }
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const median = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)]!;
const spread = (xs: number[]) => `${sorted(xs)[0]!.toFixed(0)}–${sorted(xs).at(-1)!.toFixed(0)}`;
const summary = builds.flatMap(([build]) =>
  parallelisms.map((p) => {
    const rs = results.filter((r) => r.build === build && r.parallelism === p);
    return {
      build,
      parallelism: p,
      recordsPerSecond: Math.round(median(rs.map((r) => r.recordsPerSecond))),
      recordsPerSecondSpread: spread(rs.map((r) => r.recordsPerSecond)),
      payloadMbPerSecond: Number(median(rs.map((r) => r.payloadMbPerSecond)).toFixed(1)),
      seconds: Number(median(rs.map((r) => r.seconds)).toFixed(2)),
      cpuSecondsPerMillion: Number(median(rs.map((r) => r.cpuSecondsPerMillion)).toFixed(1)),
      peakRssMb: Math.round(median(rs.map((r) => r.peakRssMb))),
      peakRssMbSpread: spread(rs.map((r) => r.peakRssMb)),
    };
  }),
);
process.stdout.write(`\nW1: ${records} records, ${partitions} partitions, codec ${codec}${values.set!.length ? `, ${values.set!.join(' ')}` : ''}, ${(payloadBytes / 1e6).toFixed(0)} MB of JSON; wall time from process start to exit; median of ${runs} (spread):\n`);
for (const s of summary) {
  process.stdout.write(
    `  ${s.build.padEnd(20)} p=${s.parallelism}: ${s.recordsPerSecond} records/s (${s.recordsPerSecondSpread}), ${s.payloadMbPerSecond} MB/s, ${s.seconds} s, ` +
      `${s.cpuSecondsPerMillion} CPU-s per M, peak RSS ${s.peakRssMb} MB (${s.peakRssMbSpread})\n`,
  );
}
const out = path.join(root, 'benchmarks/results');
mkdirSync(out, { recursive: true });
writeFileSync(
  path.join(out, `runtime-w1-${codec}.json`),
  JSON.stringify({ records, partitions, codec, settings: values.set, payloadBytes, runs: results, summary, cpus: os.cpus().length, loadavg: os.loadavg(), node: process.version }, null, 2),
);
