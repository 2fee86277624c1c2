// The runtime side: every query of the corpus a pipeline of one project (its own topic holding the
// input set's records, its SQL inline in transformations.yaml), checked with the CLI's `--check`
// and run with `--bounded` — the compiled CLI, as a user runs it. A query the check refuses is a
// difference of its own (`refused`), with the message a user gets; it is left out of the run.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { ROOT } from '../helpers/build.js';
import type { InputSet, Query } from './corpus.js';
import { tableName, type Outcome } from './flink-side.js';
import type { TableRef } from './table-rows.js';

const NAMESPACE = 'analytics';

/** The corpus names its source table `src`; a SQL entry of transformations.yaml says `{source_table}`. */
export function runtimeSql(sql: string): string {
  return sql.replace(/\bFROM\s+src\b/gi, 'FROM {source_table}').replace(/\bsrc\./g, '{source_table}.');
}

export interface RuntimeRun {
  outcomes: Record<string, Outcome>;
  tables: TableRef[];
  deadLetters: TableRef[];
  output: string;
}

interface Pipeline {
  set: InputSet;
  query: Query;
  topic: string;
}

function writeProject(dir: string, warehouse: string, bootstrap: string, pipelines: Pipeline[], zone: string): string {
  const configDir = path.join(dir, 'config');
  mkdirSync(configDir, { recursive: true });
  const topics: Record<string, unknown> = {};
  const transformations: Record<string, unknown> = {};
  for (const p of pipelines) {
    topics[p.topic] = {
      enabled: true,
      kafka_group_id: `g-${p.topic}`,
      scan_mode: 'earliest-offset',
      format: 'json',
      source_schema: p.set.columns,
      sink: { table_name: tableName(p.query.id), schema: p.query.sink },
      transformation: p.query.id,
    };
    transformations[p.query.id] = { sql: runtimeSql(p.query.sql) };
  }
  const config = {
    kafka: { bootstrap_servers: bootstrap, security: { protocol: 'PLAINTEXT' } },
    // A bounded run takes its final checkpoint at the end; none is needed before it.
    runtime: { parallelism: 1, checkpoint_interval: '10min', local_time_zone: zone },
    catalog: { type: 'sql', name: 'local', uri: `sqlite:///${warehouse}/catalog.db`, warehouse, namespace: NAMESPACE },
    topics,
  };
  writeFileSync(path.join(configDir, 'topics.yaml'), stringify(config));
  writeFileSync(path.join(configDir, 'transformations.yaml'), stringify({ transformations }));
  return configDir;
}

function cli(configDir: string, args: string[], timeoutMs: number): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/src/cli.js'), '--config', configDir, ...args], {
      env: { ...process.env, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

/**
 * Runs every query; `topicOf(query)` is the topic holding its input set's records. The session
 * zone is the process's (`runtime.local_time_zone`, as Flink's `table.local-time-zone` is the
 * job's), so the input sets of each zone are one project. `--check` is repeated without the
 * refused pipelines until it passes, since a configuration error can hide the transformation
 * errors behind it.
 */
export async function runRuntime(sets: InputSet[], topicOf: (q: Query) => string, bootstrap: string): Promise<RuntimeRun> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'streamberg-rt-diff-'));
  const run: RuntimeRun = { outcomes: {}, tables: [], deadLetters: [], output: '' };
  const zones = [...new Set(sets.map((s) => s.timeZone))];
  for (const [k, zone] of zones.entries()) {
    const dir = path.join(root, `zone-${k}`);
    const one = await runProject(dir, sets.filter((s) => s.timeZone === zone), topicOf, bootstrap, zone);
    Object.assign(run.outcomes, one.outcomes);
    run.tables.push(...one.tables);
    run.deadLetters.push(...one.deadLetters);
    run.output += one.output;
  }
  return run;
}

async function runProject(dir: string, sets: InputSet[], topicOf: (q: Query) => string, bootstrap: string, zone: string): Promise<RuntimeRun> {
  const warehouse = path.join(dir, 'warehouse');
  mkdirSync(warehouse, { recursive: true });
  const outcomes: Record<string, Outcome> = {};
  let pipelines: Pipeline[] = sets.flatMap((set) => set.queries.map((query) => ({ set, query, topic: topicOf(query) })));
  let output = '';
  for (;;) {
    const configDir = writeProject(dir, warehouse, bootstrap, pipelines, zone);
    const check = await cli(configDir, ['--check'], 300_000);
    if (check.status === 0) break;
    const lines = check.output.split('\n');
    const refused = pipelines.filter((p) => {
      const mine = lines.filter((l) => l.includes(`topics.${p.topic}`) || l.includes(`transformations.${p.query.id}.`) || l.includes(`transformations.${p.query.id}:`));
      if (mine.length === 0) return false;
      outcomes[p.query.id] = { status: 'refused', message: mine.map((l) => l.trim().replace(`topics.${p.topic}`, 'topics.<topic>')).join(' | ') };
      return true;
    });
    if (refused.length === 0) throw new Error(`--check failed with no error naming a pipeline:\n${check.output}`);
    pipelines = pipelines.filter((p) => !refused.includes(p));
  }
  if (pipelines.length > 0) {
    const run = await cli(path.join(dir, 'config'), ['--bounded'], 1_200_000);
    output = run.output;
    if (run.status !== 0) throw new Error(`the runtime's bounded run exited with ${run.status}:\n${run.output.slice(-6000)}`);
  }
  for (const p of pipelines) outcomes[p.query.id] = { status: 'ok' };
  const ref = (key: string, table: string): TableRef => ({ key, kind: 'sql', warehouse, namespace: NAMESPACE, table });
  return {
    outcomes,
    tables: pipelines.map((p) => ref(p.query.id, tableName(p.query.id))),
    deadLetters: pipelines.map((p) => ref(p.query.id, `${tableName(p.query.id)}_dlq`)),
    output,
  };
}
