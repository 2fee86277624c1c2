// Many pipelines in one process: what N caught-up pipelines cost at rest. For each N, one runtime
// process runs N pipelines (one single-partition topic each, `--records` W1 records per topic,
// the shipped bid_events_raw transformer, 5 s checkpoints by default); once every record is
// committed and one more checkpoint has passed, it reads from /proc over an idle window:
//
//   - resident memory (VmRSS) at the end of the window, and the thread count (/proc/<pid>/task);
//   - CPU-seconds of the whole process over the window (utime + stime of /proc/<pid>/stat), and
//     per thread (/proc/<pid>/task/*/stat, grouped by thread name), so the costly thread is named;
//   - the load average before and after, since the machine may be shared: the process's own
//     CPU-seconds are the figure, the load average says how far to trust it.
//
//   npm run build && node dist/benchmarks/pipelines.js [--pipelines 1,10,50] [--records 300]
//     [--idle-seconds 20] [--checkpoint-interval 5s] [--parallelism 2] [--set runtime.key=value]
//   or: npm run bench -- --pipelines 1,10,50 ...
//
// Needs the broker (KAFKA_PORT). /metrics is polled only until everything is committed, never
// during the idle window. Prints a table; JSON goes to benchmarks/results/pipelines-<stamp>.json.

import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { PROJECT_ROOT } from '../src/project-root.js';
import { ticksPerSecond } from './harness/proc-tree.js';

const CLI = path.join(PROJECT_ROOT, 'dist/src/cli.js');
const PRODUCE = path.join(PROJECT_ROOT, 'dist/src/tools/produce.js');
const RESULTS_DIR = path.join(PROJECT_ROOT, 'benchmarks/results');

export interface PipelinesOptions {
  counts: number[];
  records: number;
  idleSeconds: number;
  checkpointInterval: string;
  parallelism: number;
  bootstrap: string;
  metricsPort: number;
  settings: string[];
}

export function parsePipelinesArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): PipelinesOptions {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      pipelines: { type: 'string', default: '1,10,50' },
      records: { type: 'string', default: '300' },
      'idle-seconds': { type: 'string', default: '20' },
      'checkpoint-interval': { type: 'string', default: '5s' },
      parallelism: { type: 'string', default: '2' },
      bootstrap: { type: 'string', default: `127.0.0.1:${env.KAFKA_PORT ?? '9092'}` },
      'metrics-port': { type: 'string', default: '59160' },
      set: { type: 'string', multiple: true, default: [] },
    },
    strict: false,
  });
  const whole = (name: string, s: unknown): number => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: found "${String(s)}"; expected a whole number ≥ 1`);
    return n;
  };
  return {
    counts: String(v.pipelines)
      .split(',')
      .filter(Boolean)
      .map((x) => whole('pipelines', x)),
    records: whole('records', v.records),
    idleSeconds: whole('idle-seconds', v['idle-seconds']),
    checkpointInterval: String(v['checkpoint-interval']),
    parallelism: whole('parallelism', v.parallelism),
    bootstrap: String(v.bootstrap),
    metricsPort: whole('metrics-port', v['metrics-port']),
    settings: (v.set as string[] | undefined) ?? [],
  };
}

const SOURCE_SCHEMA = ['event_name STRING', 'user_id BIGINT', 'city_id BIGINT', 'platform STRING', 'session_id STRING', 'timestamp_ms BIGINT'];
const SINK_SCHEMA = ['event_name STRING', 'user_id BIGINT', 'city_id BIGINT', 'platform STRING', 'session_id STRING', 'event_time TIMESTAMP(3)', 'ingestion_time TIMESTAMP(3)'];

function fields(list: string[], indent: string): string {
  return list.map((f) => `${indent}- name: "${f.split(' ')[0]}"\n${indent}  type: "${f.split(' ')[1]}"`).join('\n');
}

/** A config folder with `n` pipelines, topics `<prefix>-<i>` → tables `<prefix>_<i>`. */
function configFor(dir: string, prefix: string, n: number, o: PipelinesOptions): string {
  const configDir = path.join(dir, 'config');
  mkdirSync(configDir, { recursive: true });
  const runtimeExtra = o.settings.filter((s) => s.startsWith('runtime.')).map((s) => `  ${s.slice('runtime.'.length).replace('=', ': ')}`);
  let yaml = `kafka:\n  bootstrap_servers: "${o.bootstrap}"\nruntime:\n  parallelism: ${o.parallelism}\n  checkpoint_interval: "${o.checkpointInterval}"\n${runtimeExtra.join('\n')}${runtimeExtra.length ? '\n' : ''}`;
  yaml += `catalog:\n  type: "sql"\n  name: "local"\n  uri: "sqlite:///\${WAREHOUSE_DIR}/catalog.db"\n  warehouse: "\${WAREHOUSE_DIR}"\n  namespace: "bench"\ntopics:\n`;
  for (let i = 0; i < n; i++) {
    const topic = `${prefix}-${i}`;
    yaml += `  ${topic}:\n    enabled: true\n    kafka_group_id: "${topic}"\n    scan_mode: "earliest-offset"\n    format: "json"\n    source_schema:\n${fields(SOURCE_SCHEMA, '      ')}\n`;
    yaml += `    sink:\n      table_name: "${prefix.replace(/-/g, '_')}_${i}"\n      schema:\n${fields(SINK_SCHEMA, '        ')}\n    transformation: "bid_events_raw"\n`;
  }
  writeFileSync(path.join(configDir, 'topics.yaml'), yaml);
  writeFileSync(path.join(configDir, 'transformations.yaml'), readFileSync(path.join(PROJECT_ROOT, 'config/transformations.yaml')));
  return configDir;
}

interface ThreadCpu {
  name: string;
  ticks: number;
}

function procTicks(statLine: string): number {
  // Fields after the parenthesised name; utime and stime are the 14th and 15th of the line.
  const rest = statLine.slice(statLine.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}

function threadsOf(pid: number): Map<string, ThreadCpu> {
  const out = new Map<string, ThreadCpu>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      // The main thread keeps the process's name; worker threads name themselves (thread-name.ts).
      const name = tid === String(pid) ? 'main' : readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      out.set(tid, { name, ticks: procTicks(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')) });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const loadAverage = (): number[] => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function scrape(port: number): Promise<string | null> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2000) });
    return r.ok ? await r.text() : null;
  } catch {
    return null;
  }
}

function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

export interface PipelinesResult {
  pipelines: number;
  records: number;
  secondsToCommitted: number;
  rssMb: number;
  threads: number;
  idleSeconds: number;
  cpuSeconds: number;
  /** CPU-seconds per 20 s of idling, the unit. */
  cpuSecondsPer20s: number;
  coreShare: number;
  loadBefore: number[];
  loadAfter: number[];
  /** CPU-seconds over the window per thread name, most first. */
  byThreadName: Array<{ name: string; threads: number; cpuSeconds: number }>;
}

async function measure(n: number, o: PipelinesOptions, work: string, stamp: string): Promise<PipelinesResult> {
  const prefix = `pl${stamp}n${n}`;
  const dir = path.join(work, `n${n}`);
  const configDir = configFor(dir, prefix, n, o);
  const warehouse = path.join(dir, 'warehouse');
  mkdirSync(warehouse, { recursive: true });
  execFileSync(process.execPath, [PRODUCE, '--config', configDir, '--count', String(o.records), '--partitions', '1'], {
    env: { ...process.env, KAFKA_BOOTSTRAP_SERVERS: o.bootstrap, WAREHOUSE_DIR: warehouse },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, '--config', configDir, '--parallelism', String(o.parallelism), '--checkpoint-interval', o.checkpointInterval, '--metrics-port', String(o.metricsPort)], {
    env: { ...process.env, WAREHOUSE_DIR: warehouse, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const pid = child.pid!;
  try {
    const want = n * o.records;
    const deadline = Date.now() + 600_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the runtime exited (${child.exitCode}) before committing everything`);
      const text = await scrape(o.metricsPort);
      if (text && metricSum(text, 'streamberg_records_out_total') >= want) break;
      if (Date.now() > deadline) throw new Error(`not all ${want} records committed within 600 s`);
      await sleep(1000);
    }
    const secondsToCommitted = (performance.now() - started) / 1000;
    // One more checkpoint interval, and some: the commit's after-work (group offsets, metrics) settles.
    await sleep(7000);
    const loadBefore = loadAverage();
    const before = threadsOf(pid);
    const t0 = procTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    await sleep(o.idleSeconds * 1000);
    const t1 = procTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const after = threadsOf(pid);
    const loadAfter = loadAverage();
    const rss = rssMb(pid);
    const hz = ticksPerSecond();
    const byName = new Map<string, { threads: number; ticks: number }>();
    for (const [tid, t] of after) {
      const e = byName.get(t.name) ?? { threads: 0, ticks: 0 };
      e.threads++;
      e.ticks += t.ticks - (before.get(tid)?.ticks ?? 0);
      byName.set(t.name, e);
    }
    const cpuSeconds = (t1 - t0) / hz;
    return {
      pipelines: n,
      records: o.records,
      secondsToCommitted: Math.round(secondsToCommitted * 10) / 10,
      rssMb: Math.round(rss),
      threads: after.size,
      idleSeconds: o.idleSeconds,
      cpuSeconds,
      cpuSecondsPer20s: Math.round((cpuSeconds * 20 * 100) / o.idleSeconds) / 100,
      coreShare: Math.round((cpuSeconds / o.idleSeconds) * 1000) / 10,
      loadBefore,
      loadAfter,
      byThreadName: [...byName]
        .map(([name, e]) => ({ name, threads: e.threads, cpuSeconds: e.ticks / hz }))
        .sort((a, b) => b.cpuSeconds - a.cpuSeconds),
    };
  } finally {
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(killer);
    await dropTopics(o.bootstrap, prefix, n);
  }
}

async function dropTopics(bootstrap: string, prefix: string, n: number): Promise<void> {
  const admin = new Kafka({ clientId: 'bench-pipelines', brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    await admin.deleteTopics({ topics: Array.from({ length: n }, (_, i) => `${prefix}-${i}`) });
  } catch {
    // Left for the broker's next reset; they do not disturb another run (names carry the stamp).
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

export async function runPipelinesBench(o: PipelinesOptions): Promise<PipelinesResult[]> {
  const stamp = Date.now().toString(36);
  const work = mkdtempSync(path.join(os.tmpdir(), 'streamberg-pipelines-'));
  const results: PipelinesResult[] = [];
  try {
    for (const n of o.counts) {
      const r = await measure(n, o, work, stamp);
      results.push(r);
      const top = r.byThreadName
        .slice(0, 4)
        .map((t) => `${t.name}×${t.threads} ${t.cpuSeconds.toFixed(2)}`)
        .join(', ');
      process.stdout.write(
        `${n} pipelines: RSS ${r.rssMb} MB, ${r.threads} threads, ${r.cpuSecondsPer20s.toFixed(2)} CPU-s per 20 s idle (${r.coreShare} % of a core), ` +
          `load ${r.loadBefore.join(' ')} → ${r.loadAfter.join(' ')}; committed after ${r.secondsToCommitted} s; by thread: ${top}\n`,
      );
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `pipelines-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ options: o, cpus: os.cpus().length, node: process.version, results }, null, 2));
  process.stdout.write(`results: ${path.relative(PROJECT_ROOT, file)}\n`);
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) await runPipelinesBench(parsePipelinesArgs(process.argv.slice(2)));
