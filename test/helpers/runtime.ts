// Runs the real runtime (the compiled CLI) against the real broker in a throw-away project: its
// own topics, consumer groups and warehouse, so tests never see each other's data. Tables are
// read back with pyiceberg.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { AppConfig, PipelineConfig } from '../../src/config/types.js';
import { sampleRecord, type SampleRecord } from '../../src/tools/sample-events.js';
import { ROOT } from './build.js';
import { BOOTSTRAP, uniqueTopic } from './kafka.js';
import { SHIPPED_TOPICS, SHIPPED_TRANSFORMATIONS } from './project.js';
import { runPython } from './python.js';

export interface RuntimeProject {
  configDir: string;
  warehouse: string;
  bid: string;
  user: string;
  config: AppConfig;
  pipeline(topic: string): PipelineConfig;
}

/** The shipped configuration with unique topic names, group ids and warehouse. */
export function runtimeProject(
  options: {
    batchSize?: number;
    bidDeadLetterTopic?: string;
    bidScanMode?: string;
    bidScanTimestampMs?: number;
    bidOnError?: string;
    bidIsolationLevel?: 'read_committed' | 'read_uncommitted';
    /** Extra lines for the `runtime:` section, e.g. `  restart: { max_failures: 1 }`. */
    runtimeExtra?: string;
    /** The `kafka.security` block in place of the shipped PLAINTEXT one (lines indented by 2). */
    kafkaSecurity?: string;
    /** Environment the configuration is read with (and `bootstrap` for KAFKA_BOOTSTRAP_SERVERS). */
    env?: Record<string, string>;
    bootstrap?: string;
    /** Replaces the shipped `catalog:` section (its lines, indented by two). */
    catalog?: string;
  } = {},
): RuntimeProject {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'streamberg-rt-'));
  const bid = uniqueTopic('bid');
  const user = uniqueTopic('user');
  const topics = SHIPPED_TOPICS.replace('  bid-events:\n', `  ${bid}:\n`)
    .replace('  user-events:\n', `  ${user}:\n`)
    .replace('"flink-s3tables-json-v1"', `"g-${bid}"`)
    .replace('"flink-s3tables-user-events-v1"', `"g-${user}"`)
    .replace(/  security:\n(    #.*\n)*    protocol: .*\n/, (shipped) => options.kafkaSecurity ?? shipped)
    .replace('runtime:\n', `runtime:\n${options.batchSize ? `  batch_size: ${options.batchSize}\n` : ''}${options.runtimeExtra ? `${options.runtimeExtra}\n` : ''}`)
    .replace(
      'scan_mode: "earliest-offset"',
      `scan_mode: "${options.bidScanMode ?? 'earliest-offset'}"${options.bidScanTimestampMs !== undefined ? `\n    scan_timestamp_ms: ${options.bidScanTimestampMs}` : ''}`,
    )
    .replace(
      '    transformation: "bid_events_raw"\n',
      `    transformation: "bid_events_raw"\n${options.bidDeadLetterTopic ? `    dead_letter: { topic: "${options.bidDeadLetterTopic}" }\n` : ''}${options.bidOnError ? `    on_error: "${options.bidOnError}"\n` : ''}${options.bidIsolationLevel ? `    isolation_level: "${options.bidIsolationLevel}"\n` : ''}`,
    );
  const withCatalog = options.catalog === undefined ? topics : topics.replace(/\ncatalog:\n(?: .*\n|\n)*?(?=\S)/, `\ncatalog:\n${options.catalog}\n\n`);
  mkdirSync(path.join(dir, 'config'));
  writeFileSync(path.join(dir, 'config/topics.yaml'), withCatalog);
  writeFileSync(path.join(dir, 'config/transformations.yaml'), SHIPPED_TRANSFORMATIONS);
  const configDir = path.join(dir, 'config');
  const warehouse = path.join(dir, 'warehouse');
  // The broker the tests use (KAFKA_PORT), not the default localhost:9092 the config falls back to:
  // admin clients built from this config would otherwise create topics on another broker.
  const env = { ...options.env, WAREHOUSE_DIR: warehouse, KAFKA_BOOTSTRAP_SERVERS: options.bootstrap ?? BOOTSTRAP };
  const config = loadConfig({ configDir, env }).config;
  return {
    configDir,
    warehouse,
    bid,
    user,
    config,
    pipeline: (topic) => config.pipelines.find((p) => p.topic === topic)!,
  };
}

export function produce(project: RuntimeProject, topic: string, args: string[], env: Record<string, string> = {}): void {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'dist/src/tools/produce.js'), '--config', project.configDir, '--topic', topic, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, KAFKA_BOOTSTRAP_SERVERS: BOOTSTRAP, ...env },
  });
  if (r.status !== 0) throw new Error(`produce failed (${r.status}): ${r.stderr}`);
}

export interface RuntimeProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  /** Resolves when a log line matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export function startRuntime(project: RuntimeProject, args: string[], env: Record<string, string> = {}): RuntimeProcess {
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/src/cli.js'), '--config', project.configDir, ...args], {
    env: { ...process.env, KAFKA_BOOTSTRAP_SERVERS: BOOTSTRAP, WAREHOUSE_DIR: project.warehouse, LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (c: Buffer) => {
    out += c.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    child,
    output: () => out,
    exited,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(out);
          if (m) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(m[0]);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no log line matched ${pattern} within ${timeoutMs} ms; output:\n${out.slice(-4000)}`));
        }, timeoutMs);
        listeners.add(check);
        void exited.then(() => setTimeout(check, 10));
        check();
      });
    },
  };
}

/** Runs the CLI to its exit; returns the exit code and output. */
export async function runToExit(project: RuntimeProject, args: string[], env: Record<string, string> = {}, timeoutMs = 180_000): Promise<{ code: number | string; output: string }> {
  const p = startRuntime(project, args, env);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, output: p.output() };
}

export interface TableContents {
  rows: Array<Record<string, unknown>>;
  snapshots: Array<Record<string, string>>;
}

/** Every row of a table (the named columns, as JSON), and each snapshot's summary, by pyiceberg. */
export async function readTable(project: RuntimeProject, table: string, columns: string[]): Promise<TableContents> {
  return runPython<TableContents>(
    `
from pyiceberg.exceptions import NoSuchTableError
if ARGS["rest"]:
    from pyiceberg.catalog.rest import RestCatalog
    cat = RestCatalog("rest", uri=ARGS["rest"])
else:
    from pyiceberg.catalog.sql import SqlCatalog
    cat = SqlCatalog("local", uri="sqlite:///" + ARGS["warehouse"] + "/catalog.db", warehouse="file://" + ARGS["warehouse"])
try:
    t = cat.load_table((ARGS["namespace"], ARGS["table"]))
except NoSuchTableError:
    print(json.dumps({"rows": [], "snapshots": []})); sys.exit(0)
a = t.scan(selected_fields=tuple(ARGS["columns"])).to_arrow()
import datetime
def conv(v):
    if isinstance(v, bytes): return v.decode("utf-8", "replace")
    if isinstance(v, datetime.datetime): return v.isoformat(timespec="microseconds")
    if hasattr(v, "isoformat"): return v.isoformat()
    return v
rows = [{k: conv(v) for k, v in r.items()} for r in a.to_pylist()]
snaps = [dict(s.summary.additional_properties) | {"operation": s.summary.operation.value} for s in t.snapshots()]
print(json.dumps({"rows": rows, "snapshots": snaps}))
`,
    {
      warehouse: project.warehouse,
      table,
      columns,
      namespace: project.config.catalog.namespace,
      // Read through the same REST server the runtime wrote through.
      rest: project.config.catalog.type === 'rest' ? project.config.catalog.uri : null,
    },
  );
}

/** The records produced so far to a topic: indexes 0..count-1 of the sample stream. */
export function expectedRecords(project: RuntimeProject, topic: string, count: number, seed: number, malformedRatio: number): SampleRecord[] {
  const schema = project.pipeline(topic).sourceSchema;
  return Array.from({ length: count }, (_, i) => sampleRecord(schema, i, { seed, malformedRatio }));
}
