// `npm run bench`: the runtime end to end beside what users run today, on the same data and
// broker in the same run. For each workload × codec:
//
//   - streamberg: the pipeline `--bounded` at each parallelism, several rounds (process start to
//     exit, from the first record, to the first commit, CPU, peak RSS; the table's rows read back);
//   - references: kcat and Kafka's Java consumer (ConsumerPerformance) reading the same topic,
//     the consume limit of the machine; with --with-flink, the PyFlink job the runtime replaces;
//   - with --stages, each stage alone on one thread: fetch + record-batch decode, JSON decode +
//     transform, Parquet encoding and file writes, the Iceberg commit;
//   - freshness with a running producer (record timestamp → the commit of its epoch).
//
// Rounds interleave the systems, so a noisy neighbour spreads over all of them. Writes
// benchmarks/results/bench-<timestamp>.json and PNG charts; see benchmarks/README.md.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { parseDocument } from 'yaml';
import { loadConfig } from '../src/config/load.js';
import { PROJECT_ROOT } from '../src/project-root.js';
import { sampleRecord } from '../src/tools/sample-events.js';
import { CODECS, type Codec } from './kafka-source/candidate.js';
import { measure as measureConsumer } from './kafka-source/measure.js';
import { ensureW1, type W1Topic } from './kafka-source/w1.js';
import { candidate as kcatCandidate } from './kafka-source/candidates/kcat.js';
import { candidate as javaCandidate, kafkaVersion } from './kafka-source/candidates/kafka-java.js';
import { candidate as fetchCandidate } from './kafka-source/candidates/streamberg-fetch.js';
import { writeCharts } from './harness/charts.js';
import { measureProcess, type Measured } from './harness/proc-tree.js';
import { formatSpread, percentile } from './harness/stats.js';
import { checkResults, ratios, summarize, type FreshnessFigures, type Results, type RunFigures, type SummaryRow } from './harness/summary.js';

const USAGE = `Usage: npm run bench -- [options]
  --workloads LIST          w1 (bid-events, bid_events_raw), w2 (user-events, user_events_enriched) (default w1)
  --records N               records per workload topic (default 2000000)
  --partitions N            partitions per topic (default 8)
  --codecs LIST             Kafka compression of the topics, of ${CODECS.join(',')} (default none,snappy)
  --parallelism LIST        streamberg --parallelism values (and Flink's) (default 1,2)
  --runs N                  rounds (default 3)
  --references LIST         kcat,kafka-java, or none (default kcat,kafka-java)
  --with-flink              also run the PyFlink 1.19 job (W1 only); installs it on first use
  --stages                  also run each stage alone (fetch, transform, Parquet, commit)
  --stage-records N         records for the transform and Parquet stages (default 500000)
  --freshness-seconds S     seconds of the running producer per parallelism, 0 for none (default 30)
  --freshness-rate N        records per second the producer writes (default 20000)
  --checkpoint-interval D   the runtime's and Flink's checkpoint interval (default 10s)
  --set KEY=VALUE           a configuration setting for the runtime's runs, repeatable: runtime.<key>
                            (batch_size, memory_budget, ...) or sink.properties.<table property>
  --charts-dir DIR          where the PNG charts go (default benchmarks/results)
  --no-charts               write no charts
  --bootstrap H:P           broker (default 127.0.0.1:$KAFKA_PORT)
  --metrics-port P          port the runtime's /metrics is polled on (default 59150)
  --deadline S              seconds after which a run is killed and counted as failed (default 900)
`;

const WORKLOADS: Record<string, { source: string; table: string; flink: boolean }> = {
  w1: { source: 'bid-events', table: 'parsed_events', flink: true },
  w2: { source: 'user-events', table: 'user_events_enriched', flink: false },
};

const ROOT = PROJECT_ROOT;
const CLI = path.join(ROOT, 'dist/src/cli.js');
const VENV_PYTHON = path.join(ROOT, '.venv/bin/python');
const TABLES_PY = path.join(ROOT, 'benchmarks/harness/tables.py');
const FLINK_DIR = path.join(ROOT, '.cache/flink');
const FLINK_JOB = path.join(ROOT, 'benchmarks/flink/bid_events_raw.py');

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}`);
  process.exit(2);
}

const { values: v } = parseArgs({
  options: {
    workloads: { type: 'string', default: 'w1' },
    records: { type: 'string', default: '2000000' },
    partitions: { type: 'string', default: '8' },
    codecs: { type: 'string', default: 'none,snappy' },
    parallelism: { type: 'string', default: '1,2' },
    runs: { type: 'string', default: '3' },
    references: { type: 'string', default: 'kcat,kafka-java' },
    'with-flink': { type: 'boolean', default: false },
    stages: { type: 'boolean', default: false },
    'stage-records': { type: 'string', default: '500000' },
    'freshness-seconds': { type: 'string', default: '30' },
    'freshness-rate': { type: 'string', default: '20000' },
    'checkpoint-interval': { type: 'string', default: '10s' },
    set: { type: 'string', multiple: true, default: [] },
    'charts-dir': { type: 'string', default: path.join(ROOT, 'benchmarks/results') },
    'no-charts': { type: 'boolean', default: false },
    bootstrap: { type: 'string', default: `127.0.0.1:${process.env.KAFKA_PORT ?? '9092'}` },
    'metrics-port': { type: 'string', default: '59150' },
    deadline: { type: 'string', default: '900' },
    help: { type: 'boolean', default: false },
  },
});
if (v.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
const whole = (name: string, s: string, min = 1) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < min) fail(`--${name}: found "${s}"; expected a whole number ≥ ${min}`);
  return n;
};
const workloads = list(v.workloads);
for (const w of workloads) if (!WORKLOADS[w]) fail(`--workloads: found "${w}"; expected some of ${Object.keys(WORKLOADS).join(',')}`);
const codecs = list(v.codecs) as Codec[];
for (const c of codecs) if (!CODECS.includes(c)) fail(`--codecs: found "${c}"; expected some of ${CODECS.join(',')}`);
const records = whole('records', v.records);
const partitions = whole('partitions', v.partitions);
const parallelisms = list(v.parallelism).map((p) => whole('parallelism', p));
const runs = whole('runs', v.runs);
const references = v.references === 'none' ? [] : list(v.references);
for (const r of references) if (r !== 'kcat' && r !== 'kafka-java') fail(`--references: found "${r}"; expected kcat, kafka-java or none`);
const stageRecords = whole('stage-records', v['stage-records']);
const freshnessSeconds = whole('freshness-seconds', v['freshness-seconds'], 0);
const freshnessRate = whole('freshness-rate', v['freshness-rate']);
const ciText = v['checkpoint-interval'];
const ciMatch = /^(\d+)(ms|s|min)$/.exec(ciText);
if (!ciMatch) fail(`--checkpoint-interval: found "${ciText}"; expected e.g. 500ms, 10s, 1min`);
const checkpointSeconds = Number(ciMatch[1]) / (ciMatch[2] === 'ms' ? 1000 : ciMatch[2] === 'min' ? 1 / 60 : 1);
const metricsPort = whole('metrics-port', v['metrics-port']);
const deadlineMs = whole('deadline', v.deadline) * 1000;
const bootstrap = v.bootstrap;
const settings = v.set.map((kv) => {
  const at = kv.indexOf('=');
  const key = at > 0 ? kv.slice(0, at) : '';
  if (!/^(runtime\.[a-z_.]+|sink\.properties\.[\w.-]+)$/.test(key)) fail(`--set: found "${kv}"; expected runtime.<key>=VALUE or sink.properties.<property>=VALUE`);
  const raw = kv.slice(at + 1);
  return { key, value: /^\d+$/.test(raw) ? Number(raw) : raw };
});
if (!existsSync(CLI)) fail(`${path.relative(ROOT, CLI)} is missing: run npm run build first`);
if (!existsSync(VENV_PYTHON)) fail('.venv is missing: bash scripts/setup.sh --test makes it (pyiceberg reads the tables back)');

const work = mkdtempSync(path.join(os.tmpdir(), 'streamberg-bench-'));
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const startedAt = new Date().toISOString();
const loadAtStart = os.loadavg();

// ---------------------------------------------------------------- progress

let done = 0;
let total = 0;
const t0 = performance.now();
function progress(text: string): void {
  const elapsed = (performance.now() - t0) / 1000;
  process.stderr.write(`[${done}/${total} ${Math.floor(elapsed / 60)}m${String(Math.floor(elapsed % 60)).padStart(2, '0')}s load ${os.loadavg()[0]!.toFixed(1)}] ${text}\n`);
}
const perM = (cpu: number, n: number) => (cpu / (n / 1e6)).toFixed(1);
const krs = (n: number, s: number) => `${Math.round(n / s / 1000)} k rec/s`;

// ---------------------------------------------------------------- configuration per topic

/** A config folder with the workload's pipeline alone, reading `topic`. */
function configFor(workload: string, topic: string): string {
  const { source } = WORKLOADS[workload]!;
  const dir = mkdtempSync(path.join(work, 'config-'));
  mkdirSync(path.join(dir, 'config'));
  const shipped = readFileSync(path.join(ROOT, 'config/topics.yaml'), 'utf8');
  let yaml = shipped.replace(`  ${source}:\n`, `  ${topic}:\n`);
  for (const other of Object.values(WORKLOADS).map((w) => w.source).filter((s) => s !== source)) {
    yaml = yaml.replace(new RegExp(`( {2}${other}:\\n {4}enabled: )true`), '$1false');
  }
  // A group of its own: offsets of earlier runs must not decide where this one starts.
  yaml = yaml.replace(/kafka_group_id: "[^"]+"/g, `kafka_group_id: "bench-${stamp}"`);
  if (!yaml.includes(`  ${topic}:\n`)) throw new Error(`config/topics.yaml has no "${source}" topic to benchmark`);
  if (settings.length > 0) {
    const doc = parseDocument(yaml);
    for (const { key, value } of settings) {
      const parts = key.split('.');
      // A table property's name has dots of its own (write.target-file-size-bytes).
      const at = parts[0] === 'runtime' ? parts : ['topics', topic, 'sink', 'properties', parts.slice(2).join('.')];
      doc.setIn(at, value);
    }
    yaml = doc.toString();
  }
  writeFileSync(path.join(dir, 'config/topics.yaml'), yaml);
  writeFileSync(path.join(dir, 'config/transformations.yaml'), readFileSync(path.join(ROOT, 'config/transformations.yaml')));
  return path.join(dir, 'config');
}

// ---------------------------------------------------------------- reading tables back

function python(args: string[]): unknown {
  const out = execFileSync(VENV_PYTHON, [TABLES_PY, ...args], { encoding: 'utf8', maxBuffer: 1 << 30, timeout: 600_000 });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

/** The newest metadata file of `table` under `warehouse` (any catalog's naming: 00003-… or v3.…). */
function latestMetadata(warehouse: string, table: string): string | null {
  const stack = [warehouse];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const full = path.join(dir, e.name);
      if (e.name === table && existsSync(path.join(full, 'metadata'))) {
        const files = readdirSync(path.join(full, 'metadata')).filter((f) => f.endsWith('.metadata.json'));
        const version = (f: string) => Number(/^v?(\d+)/.exec(f)?.[1] ?? -1);
        files.sort((a, b) => version(a) - version(b));
        return files.length ? path.join(full, 'metadata', files.at(-1)!) : null;
      }
      stack.push(full);
    }
  }
  return null;
}

// ---------------------------------------------------------------- metrics polling

async function scrape(): Promise<string | null> {
  try {
    const r = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(1000) });
    return r.ok ? await r.text() : null;
  } catch {
    return null;
  }
}

function metricSum(text: string, name: string, filter = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) && line.includes(filter)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

// ---------------------------------------------------------------- streamberg end to end

const loadNow = () => os.loadavg()[0]!;

function runtimeArgs(configDir: string, parallelism: number, bounded: boolean): string[] {
  return [CLI, '--config', configDir, ...(bounded ? ['--bounded'] : []), '--parallelism', String(parallelism), '--checkpoint-interval', ciText, '--metrics-port', String(metricsPort)];
}

async function runStreamberg(workload: string, w: W1Topic, configDir: string, parallelism: number, round: number): Promise<RunFigures> {
  const warehouse = mkdtempSync(path.join(work, 'wh-'));
  const base = { system: 'streamberg' as const, workload, codec: w.codec, parallelism, round, loadAverage1m: loadNow(), records: w.records, payloadBytes: w.valueBytes };
  let firstRecordAt: number | null = null;
  let polling = true;
  const poller = (async () => {
    // Until the first record is counted: a scrape costs the process little, and none after that.
    while (polling && firstRecordAt === null) {
      const text = await scrape();
      if (text !== null && metricSum(text, 'streamberg_records_in_total') > 0) firstRecordAt = performance.now();
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  let m: Measured;
  try {
    m = await measureProcess(process.execPath, runtimeArgs(configDir, parallelism, true), {
      env: { ...process.env, KAFKA_BOOTSTRAP_SERVERS: bootstrap, WAREHOUSE_DIR: warehouse, LOG_LEVEL: 'warn' },
      deadlineMs,
    });
  } finally {
    polling = false;
    await poller;
  }
  try {
    if (m.exitCode !== 0) return { ...base, ok: false, error: `exited with ${m.exitCode}${m.killed ? ' (deadline)' : ''}: ${m.stderrTail.slice(-2000)}` };
    const metadata = latestMetadata(warehouse, WORKLOADS[workload]!.table);
    if (!metadata) return { ...base, ok: false, error: `no table ${WORKLOADS[workload]!.table} under ${warehouse}` };
    const { rows } = python(['count', metadata]) as { rows: number };
    const { commits } = python(['commits', metadata]) as { commits: Array<{ committedAtMs: number; addedRecords: number }> };
    const firstData = commits.find((c) => c.addedRecords > 0);
    const fig: RunFigures = {
      ...base,
      ok: rows === w.records,
      wallSeconds: m.wallSeconds,
      processingSeconds: firstRecordAt === null ? null : (m.startedAt + m.wallSeconds * 1000 - firstRecordAt) / 1000,
      startupSeconds: firstRecordAt === null ? null : (firstRecordAt - m.startedAt) / 1000,
      firstCommitSeconds: firstData ? (firstData.committedAtMs - m.startedAtMs) / 1000 : null,
      cpuSeconds: m.cpuSeconds,
      peakRssMb: m.peakRssMb,
      rowsVerified: rows,
      details: { commits: commits.length, cpuSecondsWaited: m.cpuSecondsWaited, cpuSecondsSampled: m.cpuSecondsSampled },
    };
    if (!fig.ok) fig.error = `the table holds ${rows} rows; the topic ${w.records} records`;
    return fig;
  } finally {
    rmSync(warehouse, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- the PyFlink job

function ensureFlink(): void {
  // scripts/flink/setup.sh is idempotent and returns at once when installed.
  execFileSync('bash', [path.join(ROOT, 'scripts/flink/setup.sh')], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 1_800_000 });
}

function flinkVersions(): Record<string, string> {
  const jars = readdirSync(path.join(FLINK_DIR, 'jars')).concat(readdirSync(path.join(FLINK_DIR, 'hadoop')));
  return { pyflink: execFileSync(path.join(FLINK_DIR, 'venv/bin/python'), ['-c', 'import pyflink.version; print(pyflink.version.__version__)'], { encoding: 'utf8' }).trim(), flinkJars: jars.sort().join(', ') };
}

async function runFlink(workload: string, w: W1Topic, parallelism: number, round: number): Promise<RunFigures> {
  const warehouse = mkdtempSync(path.join(work, 'flink-wh-'));
  const base = { system: 'pyflink' as const, workload, codec: w.codec, parallelism, round, loadAverage1m: loadNow(), records: w.records, payloadBytes: w.valueBytes };
  const hadoop = readdirSync(path.join(FLINK_DIR, 'hadoop')).map((f) => path.join(FLINK_DIR, 'hadoop', f)).join(':');
  try {
    const m = await measureProcess(
      path.join(FLINK_DIR, 'venv/bin/python'),
      [FLINK_JOB, '--bootstrap', bootstrap, '--topic', w.topic, '--warehouse', warehouse, '--parallelism', String(parallelism), '--jars', path.join(FLINK_DIR, 'jars'), '--checkpoint-interval', ciText, '--group', `bench-flink-${stamp}-${round}-${parallelism}`],
      { env: { ...process.env, HADOOP_CLASSPATH: hadoop }, cwd: warehouse, deadlineMs },
    );
    if (m.exitCode !== 0) return { ...base, ok: false, error: `exited with ${m.exitCode}${m.killed ? ' (deadline)' : ''}: ${m.stderrTail.slice(-2000)}` };
    const marks = JSON.parse(m.stdoutTail.trim().split('\n').filter((l) => l.startsWith('{')).at(-1) ?? 'null') as { submitted: number; finished: number } | null;
    if (!marks) return { ...base, ok: false, error: `the job printed no timing line: ${m.stdoutTail.slice(-500)}` };
    const metadata = latestMetadata(warehouse, 'parsed_events');
    if (!metadata) return { ...base, ok: false, error: `no table parsed_events under ${warehouse}` };
    const { rows } = python(['count', metadata]) as { rows: number };
    const { commits } = python(['commits', metadata]) as { commits: Array<{ committedAtMs: number; addedRecords: number }> };
    const firstData = commits.find((c) => c.addedRecords > 0);
    return {
      ...base,
      ok: rows === w.records,
      ...(rows === w.records ? {} : { error: `the table holds ${rows} rows; the topic ${w.records} records` }),
      wallSeconds: m.wallSeconds,
      startupSeconds: (marks.submitted - m.startedAtMs) / 1000,
      processingSeconds: (marks.finished - marks.submitted) / 1000,
      firstCommitSeconds: firstData ? (firstData.committedAtMs - m.startedAtMs) / 1000 : null,
      cpuSeconds: m.cpuSeconds,
      peakRssMb: m.peakRssMb,
      rowsVerified: rows,
      details: { commits: commits.length, processes: m.processes, cpuSecondsWaited: m.cpuSecondsWaited, cpuSecondsSampled: m.cpuSecondsSampled },
    };
  } finally {
    rmSync(warehouse, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- consumers (references, source stage)

async function runConsumer(system: 'kcat' | 'kafka-java' | 'stage:source', workload: string, w: W1Topic, round: number): Promise<RunFigures> {
  const c = system === 'kcat' ? kcatCandidate : system === 'kafka-java' ? javaCandidate : fetchCandidate;
  const base = { system, workload, codec: w.codec, parallelism: null, round, loadAverage1m: loadNow(), records: w.records, payloadBytes: w.valueBytes };
  try {
    const m = await measureConsumer(c.launch({ bootstrap, topic: w.topic, codec: w.codec, starts: w.starts, ends: w.ends, records: w.records, deadlineMs }), deadlineMs + 10_000);
    if (m.report.records !== w.records) return { ...base, ok: false, error: `read ${m.report.records} of ${w.records} records` };
    const fromFirst = m.report.readSeconds !== null && m.report.readSeconds <= m.wallSeconds ? m.report.readSeconds : null;
    return {
      ...base,
      ok: true,
      wallSeconds: m.wallSeconds,
      processingSeconds: fromFirst,
      startupSeconds: fromFirst === null ? null : Math.max(0, m.wallSeconds - fromFirst),
      cpuSeconds: m.cpuSeconds,
      peakRssMb: m.peakRssMb,
      rowsVerified: null,
    };
  } catch (err) {
    return { ...base, ok: false, error: (err as Error).message.slice(0, 2000) };
  }
}

// ---------------------------------------------------------------- stages alone

/** JSON decode + transform (transform.ts) and Parquet + commit (iceberg-write.ts) on one thread. */
async function runStages(workload: string, w: W1Topic, round: number): Promise<RunFigures[]> {
  const out: RunFigures[] = [];
  const results = path.join(ROOT, 'benchmarks/results');
  const common = { workload, codec: w.codec, parallelism: 1, round, payloadBytes: Math.round((w.valueBytes / w.records) * stageRecords) };
  const t = await measureProcess(process.execPath, [path.join(ROOT, 'dist/benchmarks/transform.js'), '--records', String(stageRecords), '--runs', '3'], { deadlineMs });
  const pipeline = WORKLOADS[workload]!.table === 'parsed_events' ? 'bid_events_raw' : 'user_events_enriched';
  if (t.exitCode === 0) {
    const r = (JSON.parse(readFileSync(path.join(results, 'transform.json'), 'utf8')) as { results: Array<{ pipeline: string; variant: string; medianRecordsPerSec: number }> }).results.find((x) => x.pipeline === pipeline && x.variant === 'SQL (compiled)');
    out.push({ ...common, system: 'stage:transform', loadAverage1m: loadNow(), records: stageRecords, ok: r !== undefined, ...(r ? {} : { error: 'transform.json has no compiled SQL figure' }), wallSeconds: t.wallSeconds, processingSeconds: r ? stageRecords / r.medianRecordsPerSec : null, peakRssMb: t.peakRssMb, details: { processCpuSeconds: t.cpuSeconds, note: 'the process times every shipped transformation, so its CPU is not this stage\'s' } });
  } else {
    out.push({ ...common, system: 'stage:transform', loadAverage1m: loadNow(), records: stageRecords, ok: false, error: t.stderrTail.slice(-2000) });
  }
  if (workload === 'w1') {
    const p = await measureProcess(process.execPath, [path.join(ROOT, 'dist/benchmarks/iceberg-write.js'), String(stageRecords), '3', 'snappy'], { deadlineMs });
    if (p.exitCode === 0) {
      const r = (JSON.parse(readFileSync(path.join(results, 'iceberg-write.json'), 'utf8')) as { results: Array<{ codec: string; medianEncodeMs: number; medianCommitMs: number }> }).results.find((x) => x.codec === 'snappy');
      const ok = r !== undefined;
      const err = ok ? {} : { error: 'iceberg-write.json has no snappy figure' };
      out.push({ ...common, system: 'stage:parquet', loadAverage1m: loadNow(), records: stageRecords, ok, ...err, wallSeconds: p.wallSeconds, processingSeconds: r ? r.medianEncodeMs / 1000 : null, peakRssMb: p.peakRssMb, details: { processCpuSeconds: p.cpuSeconds, note: 'the process also runs a warm-up pass and the commits' } });
      // One commit per checkpoint whatever its size: its time per million records at this size.
      out.push({ ...common, system: 'stage:commit', loadAverage1m: loadNow(), records: stageRecords, ok, ...err, wallSeconds: p.wallSeconds, processingSeconds: r ? r.medianCommitMs / 1000 : null, details: { commitMs: r?.medianCommitMs } });
    } else {
      out.push({ ...common, system: 'stage:parquet', loadAverage1m: loadNow(), records: stageRecords, ok: false, error: p.stderrTail.slice(-2000) });
    }
  }
  return out;
}

// ---------------------------------------------------------------- freshness

async function createTopic(topic: string): Promise<void> {
  const kafka = new Kafka({ clientId: 'bench-freshness', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

async function deleteTopic(topic: string): Promise<void> {
  const kafka = new Kafka({ clientId: 'bench-freshness', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [topic] });
  } catch {
    // Left for the next broker clean-up; it holds a few MB.
  } finally {
    await admin.disconnect();
  }
}

/**
 * The runtime unbounded on a new topic, a producer writing `freshnessRate` records/s for
 * `freshnessSeconds`, each record's timestamp_ms set from the producer's clock as it is handed to
 * kcat. After the producer ends, the run goes on until every record is committed (checkpoints at
 * the configured interval), then stops. Freshness of a row: the commit time of the snapshot that
 * added it (Iceberg's timestamp-ms) minus its event_time (= timestamp_ms).
 */
async function runFreshness(workload: string, parallelism: number): Promise<FreshnessFigures | { error: string }> {
  const topic = `bench-fresh-${workload}-${stamp}-p${parallelism}`.toLowerCase();
  await createTopic(topic);
  const configDir = configFor(workload, topic);
  const warehouse = mkdtempSync(path.join(work, 'fresh-wh-'));
  const schema = loadConfig({ configDir: path.join(ROOT, 'config') }).config.pipelines.find((p) => p.topic === WORKLOADS[workload]!.source)!.sourceSchema;
  let produced = 0;
  let producerError: string | null = null;
  const run = measureProcess(process.execPath, runtimeArgs(configDir, parallelism, false), {
    env: { ...process.env, KAFKA_BOOTSTRAP_SERVERS: bootstrap, WAREHOUSE_DIR: warehouse, LOG_LEVEL: 'warn' },
    deadlineMs: deadlineMs + freshnessSeconds * 1000,
    onStart: (control) => {
      void (async () => {
        // Wait for the pipeline to run, so start-up is not counted as staleness.
        for (let i = 0; i < 600; i++) {
          const text = await scrape();
          if (text !== null && metricSum(text, 'streamberg_pipeline_state', 'state="running"') > 0) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        const kcat = spawn('kcat', ['-P', '-b', bootstrap, '-t', topic, '-K', '\t', '-X', 'linger.ms=5', '-X', 'enable.idempotence=true'], { stdio: ['pipe', 'ignore', 'pipe'] });
        kcat.stderr.setEncoding('utf8').on('data', (c: string) => (producerError = c.slice(-500)));
        const tick = 20;
        const perTick = Math.max(1, Math.round((freshnessRate * tick) / 1000));
        const startAt = performance.now();
        while (performance.now() - startAt < freshnessSeconds * 1000) {
          const lines: string[] = [];
          const now = Date.now();
          for (let k = 0; k < perTick; k++) {
            const r = sampleRecord(schema, produced++, { seed: 42, malformedRatio: 0 });
            const value = JSON.parse(r.value) as Record<string, unknown>;
            value.timestamp_ms = now;
            lines.push(`${r.key}\t${JSON.stringify(value)}\n`);
          }
          if (!kcat.stdin.write(lines.join(''))) await once(kcat.stdin, 'drain');
          // Paced against the start, so a slow tick is made up and the rate holds on average.
          const next = startAt + ((produced / perTick) * tick);
          await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
        }
        kcat.stdin.end();
        await once(kcat, 'close');
        // Until every record is committed, or three checkpoint intervals more.
        const until = performance.now() + 3 * checkpointSeconds * 1000 + 10_000;
        while (performance.now() < until) {
          const text = await scrape();
          if (text !== null && metricSum(text, 'streamberg_records_out_total') >= produced) break;
          await new Promise((r) => setTimeout(r, 200));
        }
        control.signal('SIGTERM');
      })().catch((err: unknown) => {
        producerError = String(err);
        control.signal('SIGTERM');
      });
    },
  });
  const m = await run;
  try {
    if (producerError && produced === 0) return { error: `producer: ${producerError}` };
    if (m.exitCode !== 0) return { error: `the runtime exited with ${m.exitCode}: ${m.stderrTail.slice(-1500)}` };
    const metadata = latestMetadata(warehouse, WORKLOADS[workload]!.table);
    if (!metadata) return { error: `no table under ${warehouse}` };
    const { lagsMs } = python(['freshness', metadata, 'event_time']) as { lagsMs: number[] };
    const { commits } = python(['commits', metadata]) as { commits: unknown[] };
    if (lagsMs.length === 0) return { error: 'no rows committed' };
    return {
      workload,
      codec: 'none',
      parallelism,
      checkpointIntervalSeconds: checkpointSeconds,
      producedRecords: produced,
      ratePerSecond: freshnessRate,
      seconds: freshnessSeconds,
      committedRows: lagsMs.length,
      p50Ms: percentile(lagsMs, 50),
      p99Ms: percentile(lagsMs, 99),
      maxMs: percentile(lagsMs, 100),
      commits: commits.length,
    };
  } finally {
    rmSync(warehouse, { recursive: true, force: true });
    await deleteTopic(topic);
  }
}

// ---------------------------------------------------------------- main

function versions(): Record<string, string | null> {
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
    } catch {
      return null;
    }
  };
  return { streamberg: git(['rev-parse', '--short', 'HEAD']), node: process.version, kafkaBroker: kafkaVersion(), kcat: kcatCandidate.unavailable() === null ? kcatCandidate.version() : null };
}

async function main(): Promise<void> {
  const withFlink = v['with-flink'] && workloads.some((w) => WORKLOADS[w]!.flink);
  if (withFlink) ensureFlink();
  for (const r of references) {
    const c = r === 'kcat' ? kcatCandidate : javaCandidate;
    const why = c.unavailable();
    if (why !== null) fail(`--references ${r}: ${why}`);
  }

  const topics: Array<{ workload: string; topic: W1Topic; configDir: string }> = [];
  for (const workload of workloads) {
    for (const codec of codecs) {
      const t = await ensureW1({ bootstrap, records, partitions, source: WORKLOADS[workload]!.source, topic: `bench-${workload}-${codec}-${records}-${partitions}` }, codec);
      topics.push({ workload, topic: t, configDir: configFor(workload, t.topic) });
    }
  }
  const flinkTopics = topics.filter((t) => WORKLOADS[t.workload]!.flink).length;
  total = runs * (topics.length * (parallelisms.length + references.length) + (withFlink ? flinkTopics * parallelisms.length : 0)) + (v.stages ? runs * workloads.length : 0) + (freshnessSeconds > 0 ? workloads.length * parallelisms.length : 0);
  progress(`${topics.length} topic(s), ${total} runs`);

  const all: RunFigures[] = [];
  const record = (r: RunFigures) => {
    all.push(r);
    done++;
    const tag = `${r.system}${r.parallelism !== null && !r.system.startsWith('stage:') ? ` p=${r.parallelism}` : ''} ${r.workload}/${r.codec} round ${r.round}`;
    if (!r.ok) progress(`${tag}: FAILED ${r.error?.split('\n')[0] ?? ''}`);
    else if (r.system.startsWith('stage:')) progress(`${tag}: ${r.processingSeconds ? krs(r.records, r.processingSeconds) : '—'} on one thread`);
    else {
      const extra = r.system === 'pyflink' ? `, start-up ${r.startupSeconds!.toFixed(1)} s, job alone ${krs(r.records, r.processingSeconds!)}` : r.processingSeconds ? `, ${krs(r.records, r.processingSeconds)} from 1st` : '';
      progress(`${tag}: ${krs(r.records, r.wallSeconds!)}${extra}, ${perM(r.cpuSeconds!, r.records)} CPU-s/M, ${Math.round(r.peakRssMb!)} MB${r.rowsVerified != null ? `, ${r.rowsVerified} rows verified` : ''}`);
    }
  };

  for (let round = 1; round <= runs; round++) {
    for (const { workload, topic, configDir } of topics) {
      // Rotated each round, so no system always runs right after the same neighbour.
      const jobs: Array<() => Promise<void>> = [];
      for (const p of parallelisms) jobs.push(async () => record(await runStreamberg(workload, topic, configDir, p, round)));
      if (withFlink && WORKLOADS[workload]!.flink) for (const p of parallelisms) jobs.push(async () => record(await runFlink(workload, topic, p, round)));
      for (const r of references) jobs.push(async () => record(await runConsumer(r as 'kcat' | 'kafka-java', workload, topic, round)));
      for (let i = 0; i < jobs.length; i++) await jobs[(i + round - 1) % jobs.length]!();
    }
    if (v.stages) {
      for (const workload of workloads) {
        const first = topics.find((t) => t.workload === workload)!;
        const source = await runConsumer('stage:source', workload, first.topic, round);
        all.push(source);
        const stages = await runStages(workload, first.topic, round);
        all.push(...stages);
        done++;
        progress(`stages ${workload}/${first.topic.codec} round ${round}: ` + [source, ...stages].map((s) => `${s.system.slice(6)} ${s.ok && s.processingSeconds ? `${(s.processingSeconds / (s.records / 1e6)).toFixed(2)} s/M` : 'FAILED'}`).join(', '));
      }
    }
  }

  const freshness: FreshnessFigures[] = [];
  if (freshnessSeconds > 0) {
    for (const workload of workloads) {
      for (const p of parallelisms) {
        const f = await runFreshness(workload, p);
        done++;
        if ('error' in f) progress(`freshness ${workload} p=${p}: FAILED ${f.error.split('\n')[0]}`);
        else {
          freshness.push(f);
          progress(`freshness ${workload} p=${p}: p50 ${(f.p50Ms / 1000).toFixed(1)} s, p99 ${(f.p99Ms / 1000).toFixed(1)} s over ${f.committedRows} rows (${f.producedRecords} produced) in ${f.commits} commits`);
        }
      }
    }
  }

  const summary = summarize(all);
  const results: Results = {
    benchmark: 'streamberg',
    version: 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: { cores: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryMb: Math.round(os.totalmem() / 2 ** 20), os: `${os.type()} ${os.release()}`, loadAverageAtStart: loadAtStart, loadAverageAtEnd: os.loadavg() },
    versions: { ...versions(), ...(withFlink ? flinkVersions() : {}) },
    configuration: { workloads, records, partitions, codecs, parallelisms, runs, references, withFlink, stages: v.stages, stageRecords, freshnessSeconds, freshnessRate, checkpointInterval: ciText, settings: Object.fromEntries(settings.map((x) => [x.key, x.value])), bootstrap },
    workloads: topics.map(({ workload, topic }) => ({ name: workload, source: WORKLOADS[workload]!.source, codec: topic.codec, topic: topic.topic, records: topic.records, partitions, payloadBytes: topic.valueBytes, producedSeconds: topic.producedSeconds })),
    runs: all,
    freshness,
    summary,
    ratios: ratios(summary),
  };
  const problems = checkResults(results);
  if (problems.length) throw new Error(`the results are malformed: ${problems.join('; ')}`);
  const outDir = path.join(ROOT, 'benchmarks/results');
  mkdirSync(outDir, { recursive: true });
  const outFile = path.join(outDir, `bench-${stamp}.json`);
  writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
  printSummary(results);
  process.stdout.write(`\nwrote ${path.relative(ROOT, outFile)}\n`);
  if (!v['no-charts']) {
    mkdirSync(v['charts-dir'], { recursive: true });
    const prefix = path.resolve(v['charts-dir']) === outDir ? `bench-${stamp}-` : '';
    for (const f of await writeCharts(results, v['charts-dir'], prefix)) process.stdout.write(`wrote ${path.relative(ROOT, f)}\n`);
  }
  if (all.some((r) => !r.ok)) process.exitCode = 1;
}

function printSummary(r: Results): void {
  const rows = r.summary.filter((s) => !s.system.startsWith('stage:'));
  const header = ['system', 'workload', 'codec', 'p', 'k records/s', 'k rec/s processing', 'MB/s', 'CPU-s / M', 'peak RSS MB', 'start-up s', '1st commit s'];
  const cells = rows.map((s: SummaryRow) => [
    s.system,
    s.workload,
    s.codec,
    s.parallelism === null ? '—' : String(s.parallelism),
    formatSpread(s.recordsPerSecond, 0, 1000),
    formatSpread(s.recordsPerSecondProcessing, 0, 1000),
    formatSpread(s.payloadMBPerSecond, 1),
    formatSpread(s.cpuSecondsPerMillion, 1),
    formatSpread(s.peakRssMb, 0),
    formatSpread(s.startupSeconds, 1),
    formatSpread(s.firstCommitSeconds, 1),
  ]);
  const table = (h: string[], body: string[][]) => {
    const widths = h.map((x, i) => Math.max(x.length, ...body.map((b) => b[i]!.length)));
    for (const line of [h, ...body]) process.stdout.write(`${line.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
  };
  process.stdout.write(
    `\n${r.configuration.records} records per topic in ${r.configuration.partitions} partitions; median (min–max) of ${r.configuration.runs} rounds; ` +
      `load average ${r.machine.loadAverageAtStart[0]!.toFixed(1)} at start, ${r.machine.loadAverageAtEnd[0]!.toFixed(1)} at end, ${r.machine.cores} cores\n`,
  );
  table(header, cells);
  const stages = r.summary.filter((s) => s.system.startsWith('stage:') && s.recordsPerSecondProcessing);
  if (stages.length) {
    process.stdout.write('\nStages alone, one thread:\n');
    table(
      ['stage', 'workload', 'k records/s', 's per M records', 'CPU-s / M (process)'],
      stages.map((s) =>
        s.system === 'stage:commit'
          ? // A commit costs the same whatever it holds: its time, not a rate.
            [s.system.slice(6), s.workload, `${formatSpread(s.recordsPerSecondProcessing && { ...s.recordsPerSecondProcessing, median: r.configuration.stageRecords as number / s.recordsPerSecondProcessing.median * 1000, min: r.configuration.stageRecords as number / s.recordsPerSecondProcessing.max * 1000, max: r.configuration.stageRecords as number / s.recordsPerSecondProcessing.min * 1000 }, 0)} ms per commit`, (1e6 / s.recordsPerSecondProcessing!.median).toFixed(2), '—']
          : [s.system.slice(6), s.workload, formatSpread(s.recordsPerSecondProcessing, 0, 1000), (1e6 / s.recordsPerSecondProcessing!.median).toFixed(2), formatSpread(s.cpuSecondsPerMillion, 1)],
      ),
    );
  }
  if (r.ratios.length) {
    process.stdout.write('\nstreamberg ÷ reference (medians; records/s > 1 is faster, RSS and CPU < 1 is less):\n');
    table(
      ['workload', 'codec', 'p', 'vs', 'records/s', 'vs Flink job alone', 'peak RSS', 'CPU-s / M'],
      r.ratios.map((x) => [x.workload, x.codec, String(x.parallelism), `${x.theirs}${x.theirParallelism !== null ? ` p=${x.theirParallelism}` : ''}`, x.recordsPerSecond?.toFixed(2) ?? '—', x.recordsPerSecondVsProcessing?.toFixed(2) ?? '—', x.peakRss?.toFixed(2) ?? '—', x.cpuSecondsPerMillion?.toFixed(2) ?? '—']),
    );
  }
  if (r.freshness.length) {
    process.stdout.write('\nFreshness (record timestamp → commit of its epoch):\n');
    table(
      ['workload', 'p', 'checkpoint s', 'rate/s', 'rows', 'p50 s', 'p99 s', 'max s', 'commits'],
      r.freshness.map((f) => [f.workload, String(f.parallelism), String(f.checkpointIntervalSeconds), String(f.ratePerSecond), String(f.committedRows), (f.p50Ms / 1000).toFixed(2), (f.p99Ms / 1000).toFixed(2), (f.maxMs / 1000).toFixed(2), String(f.commits)]),
    );
  }
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
