// W1 end to end: the `bid-events → parsed_events` pipeline over a backlog of 2,000,000 records of
// the seed's bid-events shape (~135 B of JSON each) in 8 partitions, `--bounded`, at each
// requested parallelism, several runs interleaved. Per run: records/s and MB/s of Kafka payload
// (wall time from process start to exit), CPU-seconds (user + system) and CPU-seconds per million
// records, peak RSS of the whole process (every thread).
//
//   npm run build && node dist/benchmarks/runtime-w1.js [--records 2000000] [--partitions 8]
//     [--codec none|gzip|snappy|lz4|zstd] [--parallelism 1,2] [--runs 3] [--compare DIR]
//
// Needs the broker (npm run kafka:start), kcat (the topic is written by it, fast and in any
// codec) and GNU time at /usr/bin/time. `--compare DIR` also runs another checkout's build
// (DIR/dist/src/cli.js) on the same topic in the same rounds, e.g. the previous release, so the
// two are measured under the same load. The topic is kept and reused by later runs.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.js';
import { createKafka } from '../src/kafka/client.js';
import { endOffsets, ensureTopic } from '../src/kafka/topics.js';
import { PROJECT_ROOT } from '../src/project-root.js';
import { sampleRecord } from '../src/tools/sample-events.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '2000000' },
    partitions: { type: 'string', default: '8' },
    codec: { type: 'string', default: 'none' },
    parallelism: { type: 'string', default: '1,2' },
    runs: { type: 'string', default: '3' },
    compare: { type: 'string' },
  },
});
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
const topicsYaml = shipped
  .replace('  bid-events:\n', `  ${topic}:\n`)
  .replace(/( {2}user-events:\n {4}enabled: )true/, '$1false')
  .replace('"flink-s3tables-json-v1"', `"bench-${Date.now().toString(36)}"`);
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
}

function once(build: string, cli: string, parallelism: number, i: number, payloadBytes: number): Run {
  const warehouse = path.join(dir, `wh-${build}-${parallelism}-${i}`);
  const started = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', process.execPath, cli, '--config', configDir, '--bounded', '--parallelism', String(parallelism), '--checkpoint-interval', '10s', '--metrics-port', '0'], {
    env: { ...process.env, KAFKA_BOOTSTRAP_SERVERS: bootstrap, WAREHOUSE_DIR: warehouse, LOG_LEVEL: 'warn' },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 900_000,
  });
  const seconds = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`${build} run failed (${r.status}): ${r.stderr.slice(-3000)}`);
  const [, user, sys, rssKb] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number) as [number, number, number, number];
  const cpuSeconds = user + sys;
  return {
    build,
    parallelism,
    seconds,
    cpuSeconds,
    recordsPerSecond: records / seconds,
    payloadMbPerSecond: payloadBytes / seconds / 1e6,
    cpuSecondsPerMillion: cpuSeconds / (records / 1e6),
    peakRssMb: rssKb / 1024,
  };
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
      const run = once(build, cli, p, i, payloadBytes);
      results.push(run);
      const load = os.loadavg()[0]!.toFixed(2);
      process.stdout.write(
        `run ${i + 1}/${runs} ${build} p=${p}: ${run.seconds.toFixed(2)} s, ${Math.round(run.recordsPerSecond)} records/s, ${run.payloadMbPerSecond.toFixed(1)} MB/s, ` +
          `${run.cpuSeconds.toFixed(1)} CPU-s (${run.cpuSecondsPerMillion.toFixed(1)} per M), peak RSS ${run.peakRssMb.toFixed(0)} MB, load ${load}\n`,
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
process.stdout.write(`\nW1: ${records} records, ${partitions} partitions, codec ${codec}, ${(payloadBytes / 1e6).toFixed(0)} MB of JSON; wall time from process start to exit; median of ${runs} (spread):\n`);
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
  JSON.stringify({ records, partitions, codec, payloadBytes, runs: results, summary, cpus: os.cpus().length, loadavg: os.loadavg(), node: process.version }, null, 2),
);
