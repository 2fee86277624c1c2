// Scale-out: one W1 pipeline (the seed's bid-events shape, `bid_events_raw`) read by 1, 2 and 3
// runtime processes sharing its partitions through the consumer group (`runtime.scale_out`),
// each at `--parallelism 1`. Per round: the time from the first process's start until the table's
// position holds every partition's end offset, records/s over that time, the CPU-seconds of all
// processes together per million records (so the cost of coordination shows), the sum of their
// peak RSS, and the commit retries (conflicts between the processes' commits). Then, once caught
// up, failover: one process is killed with SIGKILL, one record is written to every partition, and
// the time until the table holds all of them again — the group's session timeout (the local
// broker's KIP-848 session is 10 s; Kafka's default 45 s) plus the claim and a checkpoint.
//
//   npm run build && node dist/benchmarks/scale-out.js [--records 1000000] [--partitions 12]
//     [--processes 1,2,3] [--runs 3] [--checkpoint-interval 5s]
//
// Needs the broker (npm run kafka:start) and kcat, as benchmarks/runtime-w1.ts. Rounds
// interleave the process counts; the topic is kept and reused by later runs.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Partitioners } from 'kafkajs';
import { loadConfig } from '../src/config/load.js';
import { createCatalog } from '../src/iceberg/catalogs.js';
import { EPOCH_KEY, committedPosition, decodeOffsets, offsetsKey } from '../src/iceberg/snapshot-offsets.js';
import { createKafka } from '../src/kafka/client.js';
import { endOffsets, ensureTopic } from '../src/kafka/topics.js';
import { PROJECT_ROOT } from '../src/project-root.js';
import { sampleRecord } from '../src/tools/sample-events.js';
import { parseProcStat } from './harness/proc-tree.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    partitions: { type: 'string', default: '12' },
    processes: { type: 'string', default: '1,2,3' },
    runs: { type: 'string', default: '3' },
    'checkpoint-interval': { type: 'string', default: '5s' },
  },
});
const records = Number(values.records);
const partitions = Number(values.partitions);
const counts = values.processes!.split(',').map(Number);
const runs = Number(values.runs);
const root = PROJECT_ROOT;
const cli = path.join(root, 'dist/src/cli.js');
const bootstrap = process.env.KAFKA_BOOTSTRAP_SERVERS ?? `127.0.0.1:${process.env.KAFKA_PORT ?? 9092}`;
const topic = `bench-so-keyed-${records}-${partitions}`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'streamberg-scale-out-'));

/** The bid pipeline alone on the benchmark topic, scale-out on, its group and member from the environment. */
function writeConfig(): string {
  const configDir = path.join(dir, 'config');
  mkdirSync(configDir);
  const shipped = readFileSync(path.join(root, 'config/topics.yaml'), 'utf8');
  const yaml = shipped
    .replace('runtime:\n', 'runtime:\n  scale_out: { enabled: true, member: "${MEMBER}" }\n')
    .replace('  bid-events:\n', `  ${topic}:\n`)
    .replace(/( {2}user-events:\n {4}enabled: )true/, '$1false')
    .replace('"flink-s3tables-json-v1"', '"${GROUP}"');
  writeFileSync(path.join(configDir, 'topics.yaml'), yaml);
  writeFileSync(path.join(configDir, 'transformations.yaml'), readFileSync(path.join(root, 'config/transformations.yaml')));
  return configDir;
}

const configDir = writeConfig();
const config = loadConfig({ configDir, env: { KAFKA_BOOTSTRAP_SERVERS: bootstrap, MEMBER: 'bench', GROUP: 'bench' } }).config;
const pipeline = config.pipelines.find((p) => p.topic === topic)!;

async function prepareTopic(): Promise<Map<number, bigint>> {
  const admin = createKafka(config.kafka).admin();
  await admin.connect();
  try {
    await ensureTopic(admin, topic, partitions);
    let ends = await endOffsets(admin, topic);
    if ([...ends.values()].every((o) => o === 0n)) {
      process.stdout.write(`producing ${records} records into ${topic} with kcat...\n`);
      const file = path.join(dir, 'values');
      const lines: string[] = [];
      // Keyed by index: the key's hash spreads records evenly (without keys, kcat's sticky
      // partitioner puts whole batches, and a small topic nearly all, into one partition).
      for (let i = 0; i < records; i++) lines.push(`${i}\t${sampleRecord(pipeline.sourceSchema, i, { seed: 42, malformedRatio: 0 }).value}`);
      writeFileSync(file, lines.join('\n') + '\n');
      execFileSync('kcat', ['-P', '-b', bootstrap, '-t', topic, '-K', '\t', '-X', 'linger.ms=50', '-X', 'batch.num.messages=10000', '-l', file], { stdio: 'inherit', timeout: 600_000 });
      ends = await endOffsets(admin, topic);
    }
    return ends;
  } finally {
    await admin.disconnect();
  }
}

/** One record more in every partition; the new end offsets. */
async function onePerPartition(): Promise<Map<number, bigint>> {
  const kafka = createKafka(config.kafka);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const messages = Array.from({ length: partitions }, (_, p) => ({ partition: p, value: sampleRecord(pipeline.sourceSchema, p, { seed: 7, malformedRatio: 0 }).value }));
    await producer.send({ topic, messages });
  } finally {
    await producer.disconnect();
  }
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await endOffsets(admin, topic);
  } finally {
    await admin.disconnect();
  }
}

interface Proc {
  child: ChildProcess;
  member: string;
  /** The port of its /metrics, from its start-up log line. */
  metricsPort: Promise<number>;
  /** Last utime + stime and peak RSS read from /proc while it ran. */
  cpuSeconds: number;
  peakRssBytes: number;
}

function sample(p: Proc): void {
  if (p.child.pid === undefined || p.child.exitCode !== null) return;
  try {
    const s = parseProcStat(readFileSync(`/proc/${p.child.pid}/stat`, 'utf8'));
    p.cpuSeconds = s.cpuSeconds;
    p.peakRssBytes = Math.max(p.peakRssBytes, s.rssBytes);
  } catch {
    // It exited between the check and the read.
  }
}

function start(member: string, group: string, warehouse: string): Proc {
  const child = spawn(process.execPath, [cli, '--config', configDir, '--parallelism', '1', '--checkpoint-interval', values['checkpoint-interval']!], {
    env: { ...process.env, KAFKA_BOOTSTRAP_SERVERS: bootstrap, WAREHOUSE_DIR: warehouse, MEMBER: member, GROUP: group, STREAMBERG_METRICS_EPHEMERAL: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // The log (stderr) is read for the metrics port only.
  const metricsPort = new Promise<number>((resolve) => {
    let seen = '';
    child.stderr!.on('data', (b: Buffer) => {
      seen += b.toString();
      const m = /metrics on http:\/\/[^:]+:(\d+)\/metrics/.exec(seen);
      if (m) resolve(Number(m[1]));
      if (seen.length > 1 << 20) seen = seen.slice(-4096);
    });
  });
  return { child, member, metricsPort, cpuSeconds: 0, peakRssBytes: 0 };
}

/** Polls the table until its position holds `ends` for every partition; the seconds it took. */
async function until(warehouse: string, group: string, ends: Map<number, bigint>, procs: Proc[], timeoutMs: number): Promise<{ seconds: number; commits: number }> {
  const catalog = await createCatalog(loadConfig({ configDir, env: { KAFKA_BOOTSTRAP_SERVERS: bootstrap, MEMBER: 'bench', GROUP: group, WAREHOUSE_DIR: warehouse } }).config.catalog);
  const started = performance.now();
  try {
    for (;;) {
      for (const p of procs) sample(p);
      if (performance.now() - started > timeoutMs) throw new Error(`not caught up within ${timeoutMs / 1000} s`);
      const table = await catalog.loadTable({ namespace: config.catalog.namespace, name: pipeline.sink.tableName }).catch(() => undefined);
      const position = table && committedPosition(table.metadata, offsetsKey(group), EPOCH_KEY);
      if (position) {
        const at = decodeOffsets(topic, position.offsets);
        if ([...ends].every(([p, end]) => (at.get(p) ?? -1n) >= end)) {
          return { seconds: (performance.now() - started) / 1000, commits: table.metadata.snapshots.filter((s) => s.summary['added-data-files'] !== '0').length };
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await catalog.close();
  }
}

async function stopAll(procs: Proc[]): Promise<void> {
  for (const p of procs) sample(p);
  await Promise.all(
    procs.map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
          p.child.once('exit', () => resolve());
          p.child.kill('SIGTERM');
          setTimeout(() => p.child.kill('SIGKILL'), 30_000).unref();
        }),
    ),
  );
}

/** Commit retries (conflicts) and commits with their mean duration, over every process, from /metrics. */
async function commitFigures(procs: Proc[]): Promise<{ retries: number; commits: number; meanCommitMs: number }> {
  let retries = 0;
  let commits = 0;
  let seconds = 0;
  for (const p of procs) {
    const port = await Promise.race([p.metricsPort, new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000))]);
    if (port === undefined) continue;
    const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()).catch(() => '');
    const sum = (name: string) => text.split('\n').filter((l) => l.startsWith(name)).reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
    retries += sum('streamberg_commit_retries_total{');
    commits += sum('streamberg_commit_duration_seconds_count{');
    seconds += sum('streamberg_commit_duration_seconds_sum{');
  }
  return { retries, commits, meanCommitMs: commits > 0 ? (seconds / commits) * 1000 : 0 };
}

interface Round {
  processes: number;
  seconds: number;
  recordsPerSecond: number;
  cpuSecondsPerMillion: number;
  peakRssMbSum: number;
  dataCommits: number;
  /** Commits retried after a conflict, per commit, over every process. */
  retriesPerCommit: number;
  meanCommitMs: number;
  failoverSeconds: number | null;
  load: number;
}

async function round(n: number, i: number, ends: Map<number, bigint>): Promise<Round> {
  const warehouse = path.join(dir, `wh-${n}-${i}`);
  const group = `bench-so-${n}-${i}-${Date.now().toString(36)}`;
  const procs = Array.from({ length: n }, (_, k) => start(`p${k}`, group, warehouse));
  try {
    const { seconds, commits } = await until(warehouse, group, ends, procs, 900_000);
    for (const p of procs) sample(p);
    const cpu = procs.reduce((s, p) => s + p.cpuSeconds, 0);
    const rss = procs.reduce((s, p) => s + p.peakRssBytes, 0);
    const commitsSeen = await commitFigures(procs);
    let failoverSeconds: number | null = null;
    if (n > 1) {
      // Failover: the last process dies; the others must take its partitions and commit them.
      const victim = procs.at(-1)!;
      victim.child.kill('SIGKILL');
      const more = await onePerPartition();
      failoverSeconds = (await until(warehouse, group, more, procs.slice(0, -1), 300_000)).seconds;
    }
    return {
      processes: n,
      seconds,
      recordsPerSecond: records / seconds,
      cpuSecondsPerMillion: cpu / (records / 1e6),
      peakRssMbSum: rss / 2 ** 20,
      dataCommits: commits,
      retriesPerCommit: commitsSeen.commits > 0 ? commitsSeen.retries / commitsSeen.commits : 0,
      meanCommitMs: commitsSeen.meanCommitMs,
      failoverSeconds,
      load: os.loadavg()[0]!,
    };
  } finally {
    await stopAll(procs);
  }
}

const ends = await prepareTopic();
const total = [...ends.values()].reduce((a, b) => a + b, 0n);
if (total < BigInt(records)) throw new Error(`${topic} holds ${total} records, expected at least ${records}: delete it and run again`);
const results: Round[] = [];
for (let i = 0; i < runs; i++) {
  for (const n of counts) {
    const r = await round(n, i, ends);
    results.push(r);
    process.stdout.write(
      `run ${i + 1}/${runs} processes=${n}: ${r.seconds.toFixed(1)} s, ${Math.round(r.recordsPerSecond)} records/s, ${r.cpuSecondsPerMillion.toFixed(1)} CPU-s per M (all processes), ` +
        `peak RSS ${r.peakRssMbSum.toFixed(0)} MB (sum), ${r.dataCommits} data commits, ${r.retriesPerCommit.toFixed(2)} conflict retries per commit, commit ${r.meanCommitMs.toFixed(0)} ms mean${r.failoverSeconds === null ? '' : `, failover ${r.failoverSeconds.toFixed(1)} s`}, load ${r.load.toFixed(2)}\n`,
    );
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
process.stdout.write(`\nScale-out, W1 shape: ${records} records, ${partitions} partitions, each process --parallelism 1; median of ${runs}:\n`);
for (const n of counts) {
  const rs = results.filter((r) => r.processes === n);
  const fo = rs.map((r) => r.failoverSeconds).filter((x): x is number => x !== null);
  process.stdout.write(
    `  ${n} process${n === 1 ? '' : 'es'}: ${Math.round(median(rs.map((r) => r.recordsPerSecond)))} records/s, ${median(rs.map((r) => r.cpuSecondsPerMillion)).toFixed(1)} CPU-s per M, ` +
      `peak RSS ${Math.round(median(rs.map((r) => r.peakRssMbSum)))} MB (sum), ${median(rs.map((r) => r.retriesPerCommit)).toFixed(2)} conflict retries per commit, commit ${Math.round(median(rs.map((r) => r.meanCommitMs)))} ms${fo.length > 0 ? `, kill -9 → partitions committed elsewhere in ${median(fo).toFixed(1)} s` : ''}\n`,
  );
}
const out = path.join(root, 'benchmarks/results');
mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, 'scale-out.json'), JSON.stringify({ records, partitions, runs: results, cpus: os.cpus().length, loadavg: os.loadavg(), node: process.version }, null, 2));
