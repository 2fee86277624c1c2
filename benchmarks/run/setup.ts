// What every run of the benchmark stands on: the paths it uses, its scratch folder and stamp, a
// config folder per benchmarked topic, the runtime's /metrics, the tables read back by pyiceberg,
// topics made and dropped, the PyFlink install, and the progress lines.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { parseDocument } from 'yaml';
import { PROJECT_ROOT } from '../../src/project-root.js';
import { kafkaVersion } from '../kafka-source/candidates/kafka-java.js';
import { candidate as kcatCandidate } from '../kafka-source/candidates/kcat.js';
import { WORKLOADS, type BenchOptions } from './args.js';

export const ROOT = PROJECT_ROOT;
export const CLI = path.join(ROOT, 'dist/src/cli.js');
export const VENV_PYTHON = path.join(ROOT, '.venv/bin/python');
const TABLES_PY = path.join(ROOT, 'benchmarks/harness/tables.py');
export const FLINK_DIR = path.join(ROOT, '.cache/flink');
export const FLINK_JOB = path.join(ROOT, 'benchmarks/flink/bid_events_raw.py');
export const RESULTS_DIR = path.join(ROOT, 'benchmarks/results');

/** One benchmark run: its options, its scratch folder (removed at the end) and its stamp. */
export interface Bench {
  options: BenchOptions;
  work: string;
  /** The start time, safe in file and group names. */
  stamp: string;
  startedAt: string;
  loadAtStart: number[];
  progress: Progress;
}

/** Why the benchmark cannot start here (a missing build or venv), or null. */
export function missingPrerequisite(): string | null {
  if (!existsSync(CLI)) return `${path.relative(ROOT, CLI)} is missing: run npm run build first`;
  if (!existsSync(VENV_PYTHON)) return '.venv is missing: bash scripts/setup.sh --test makes it (pyiceberg reads the tables back)';
  return null;
}

export function openBench(options: BenchOptions): Bench {
  return {
    options,
    work: mkdtempSync(path.join(os.tmpdir(), 'streamberg-bench-')),
    stamp: new Date().toISOString().replace(/[:.]/g, '-'),
    startedAt: new Date().toISOString(),
    loadAtStart: os.loadavg(),
    progress: new Progress(),
  };
}

export const loadNow = () => os.loadavg()[0]!;
export const perM = (cpu: number, n: number) => (cpu / (n / 1e6)).toFixed(1);
export const krs = (n: number, s: number) => `${Math.round(n / s / 1000)} k rec/s`;

/** Progress lines on stderr: runs done of the total, time since the start, the load. */
export class Progress {
  done = 0;
  total = 0;
  private readonly t0 = performance.now();

  line(text: string): void {
    const elapsed = (performance.now() - this.t0) / 1000;
    process.stderr.write(`[${this.done}/${this.total} ${Math.floor(elapsed / 60)}m${String(Math.floor(elapsed % 60)).padStart(2, '0')}s load ${os.loadavg()[0]!.toFixed(1)}] ${text}\n`);
  }
}

// ---------------------------------------------------------------- configuration per topic

/** A config folder with the workload's pipeline alone, reading `topic`. */
export function configFor(bench: Bench, workload: string, topic: string): string {
  const { source } = WORKLOADS[workload]!;
  const { settings } = bench.options;
  const dir = mkdtempSync(path.join(bench.work, 'config-'));
  mkdirSync(path.join(dir, 'config'));
  const shipped = readFileSync(path.join(ROOT, 'config/topics.yaml'), 'utf8');
  let yaml = shipped.replace(`  ${source}:\n`, `  ${topic}:\n`);
  for (const other of Object.values(WORKLOADS).map((w) => w.source).filter((s) => s !== source)) {
    yaml = yaml.replace(new RegExp(`( {2}${other}:\\n {4}enabled: )true`), '$1false');
  }
  // A group of its own: offsets of earlier runs must not decide where this one starts.
  yaml = yaml.replace(/kafka_group_id: "[^"]+"/g, `kafka_group_id: "bench-${bench.stamp}"`);
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

/** The runtime's command line (after node) for one run. */
export function runtimeArgs(bench: Bench, configDir: string, parallelism: number, bounded: boolean): string[] {
  const o = bench.options;
  return [CLI, '--config', configDir, ...(bounded ? ['--bounded'] : []), '--parallelism', String(parallelism), '--checkpoint-interval', o.checkpointInterval, '--metrics-port', String(o.metricsPort)];
}

// ---------------------------------------------------------------- reading tables back

export function python(args: string[]): unknown {
  const out = execFileSync(VENV_PYTHON, [TABLES_PY, ...args], { encoding: 'utf8', maxBuffer: 1 << 30, timeout: 600_000 });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

/** The newest metadata file of `table` under `warehouse` (any catalog's naming: 00003-… or v3.…). */
export function latestMetadata(warehouse: string, table: string): string | null {
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

export async function scrape(bench: Bench): Promise<string | null> {
  try {
    const r = await fetch(`http://127.0.0.1:${bench.options.metricsPort}/metrics`, { signal: AbortSignal.timeout(1000) });
    return r.ok ? await r.text() : null;
  } catch {
    return null;
  }
}

export function metricSum(text: string, name: string, filter = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) && line.includes(filter)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

// ---------------------------------------------------------------- topics

export async function createTopic(bench: Bench, topic: string): Promise<void> {
  const kafka = new Kafka({ clientId: 'bench-freshness', brokers: [bench.options.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: bench.options.partitions, replicationFactor: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopic(bench: Bench, topic: string): Promise<void> {
  const kafka = new Kafka({ clientId: 'bench-freshness', brokers: [bench.options.bootstrap], logLevel: logLevel.NOTHING });
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

// ---------------------------------------------------------------- versions and the PyFlink install

export function ensureFlink(): void {
  // scripts/flink/setup.sh is idempotent and returns at once when installed.
  execFileSync('bash', [path.join(ROOT, 'scripts/flink/setup.sh')], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 1_800_000 });
}

export function flinkVersions(): Record<string, string> {
  const jars = readdirSync(path.join(FLINK_DIR, 'jars')).concat(readdirSync(path.join(FLINK_DIR, 'hadoop')));
  return { pyflink: execFileSync(path.join(FLINK_DIR, 'venv/bin/python'), ['-c', 'import pyflink.version; print(pyflink.version.__version__)'], { encoding: 'utf8' }).trim(), flinkJars: jars.sort().join(', ') };
}

export function versions(): Record<string, string | null> {
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
    } catch {
      return null;
    }
  };
  return { streamberg: git(['rev-parse', '--short', 'HEAD']), node: process.version, kafkaBroker: kafkaVersion(), kcat: kcatCandidate.unavailable() === null ? kcatCandidate.version() : null };
}
