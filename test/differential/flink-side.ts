// The Flink side: every input set through PyFlink 1.19.3 (flink-runner.py) in one JVM, one job per
// input set, into a fresh warehouse each run — nothing is cached between runs but the install.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../helpers/build.js';
import type { InputSet } from './corpus.js';
import type { TableRef } from './table-rows.js';

export const FLINK_DIR = path.join(ROOT, '.cache/flink');

export type Outcome = { status: 'ok' } | { status: 'refused' | 'failed'; message: string };

/** The Iceberg table name of a query on either side. */
export function tableName(queryId: string): string {
  return `q_${queryId.replace(/-/g, '_')}`;
}

/** The corpus names its source table `src`; Flink's lives in the default catalog. */
export function flinkSql(sql: string): string {
  return sql.replace(/\bFROM\s+src\b/gi, 'FROM default_catalog.default_database.src');
}

export interface FlinkRun {
  outcomes: Record<string, Outcome>;
  tables: TableRef[];
  output: string;
}

export async function runFlink(sets: InputSet[], topics: Map<string, string>, bootstrap: string): Promise<FlinkRun> {
  const python = path.join(FLINK_DIR, 'venv/bin/python');
  if (!existsSync(python)) throw new Error(`PyFlink is not installed in ${FLINK_DIR}: run scripts/flink/setup.sh (or scripts/setup.sh --test)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'streamberg-flink-diff-'));
  const warehouse = path.join(dir, 'warehouse');
  const input = {
    bootstrap,
    warehouse,
    jars: path.join(FLINK_DIR, 'jars'),
    sets: sets.map((s) => ({
      name: s.name,
      topic: topics.get(s.name)!,
      time_zone: s.timeZone,
      columns: s.columns,
      queries: s.queries.map((q) => ({ id: q.id, table: tableName(q.id), sql: flinkSql(q.sql), sink: q.sink, own_job: q.ownJob })),
    })),
  };
  writeFileSync(path.join(dir, 'input.json'), JSON.stringify(input));
  // Hadoop's client must be on the JVM's system classpath, not among pipeline.jars.
  const hadoopDir = path.join(FLINK_DIR, 'hadoop');
  const hadoop = readdirSync(hadoopDir).map((f) => path.join(hadoopDir, f)).join(':');
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(python, [path.join(import.meta.dirname, 'flink-runner.py'), path.join(dir, 'input.json')], {
      cwd: dir,
      env: { ...process.env, HADOOP_CLASSPATH: hadoop },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`flink-runner.py exited with ${code}:\n${err.slice(-6000)}\n${out.slice(-2000)}`))));
  });
  const last = output.trim().split('\n').pop()!;
  const outcomes = JSON.parse(last) as Record<string, Outcome>;
  const tables: TableRef[] = sets.flatMap((s) => s.queries.map((q): TableRef => ({ key: q.id, kind: 'hadoop', location: path.join(warehouse, 'flink', tableName(q.id)) })));
  return { outcomes, tables, output };
}
