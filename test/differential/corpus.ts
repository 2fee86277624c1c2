// The differential corpus (test/differential/corpus/*.yaml: one input set and the queries over it)
// and the deviations file (test/differential/deviations.yaml), read and checked. A malformed file
// fails the suite naming the file and the entry, since a silently skipped query proves nothing.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export const DIFFERENTIAL_DIR = path.resolve(import.meta.dirname);
export const CORPUS_DIR = path.join(DIFFERENTIAL_DIR, 'corpus');
export const DEVIATIONS_FILE = path.join(DIFFERENTIAL_DIR, 'deviations.yaml');

export interface Column {
  name: string;
  type: string;
}

export interface Query {
  id: string;
  sql: string;
  sink: Column[];
  nondeterministic: string[];
  /**
   * Optional `own_job: true`: Flink runs this query in a job of its own, for a query known to fail
   * Flink's job at run time, which would otherwise fail the input set's batched job and make every
   * query of the set run again alone.
   */
  ownJob: boolean;
}

export interface InputSet {
  /** The file's name without `.yaml`. */
  name: string;
  file: string;
  columns: Column[];
  records: string[];
  /** Optional `input.time_zone`: the session zone for this set, Flink's `table.local-time-zone` and the runtime's `runtime.local_time_zone` (default UTC). */
  timeZone: string;
  queries: Query[];
}

export type DifferenceKind = 'rows' | 'refused' | 'flink-refuses' | 'flink-fails';

export interface Deviation {
  query: string;
  kind: DifferenceKind;
  /** Indexes of the input records whose rows differ, where only some do (documentation). */
  records?: number[];
  reason: string;
  flink: string;
  ours: string;
}

function fail(file: string, where: string, what: string): never {
  throw new Error(`${path.relative(process.cwd(), file)}: ${where}: ${what}`);
}

function columns(file: string, where: string, raw: unknown): Column[] {
  if (!Array.isArray(raw) || raw.length === 0) fail(file, where, 'expected a non-empty list of {name, type}');
  return raw.map((c: unknown, i) => {
    const o = c as Record<string, unknown>;
    if (typeof o?.name !== 'string' || typeof o.type !== 'string') fail(file, `${where}[${i}]`, 'expected {name: <string>, type: <Flink type>}');
    // In a YAML flow mapping an unquoted `DECIMAL(10, 2)` is cut at its comma.
    if ((o.type.match(/[(<]/g) ?? []).length !== (o.type.match(/[)>]/g) ?? []).length) fail(file, `${where}[${i}].type`, `${o.type} is cut short: quote a type holding a comma`);
    return { name: o.name, type: o.type };
  });
}

export function loadInputSet(file: string): InputSet {
  const doc = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const input = doc?.input as Record<string, unknown> | undefined;
  if (input === undefined) fail(file, 'input', 'missing');
  const records = input.records;
  if (!Array.isArray(records) || records.some((r) => typeof r !== 'string')) fail(file, 'input.records', 'expected a list of strings (raw Kafka record values)');
  if (!Array.isArray(doc.queries) || doc.queries.length === 0) fail(file, 'queries', 'expected a non-empty list');
  const queries = (doc.queries as Array<Record<string, unknown>>).map((q, i): Query => {
    const where = `queries[${i}]`;
    if (typeof q.id !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(q.id)) fail(file, `${where}.id`, 'expected lowercase letters, digits and "-"');
    if (typeof q.sql !== 'string') fail(file, `${where}.sql`, 'expected a SELECT ... FROM src');
    const sink = columns(file, `${where}.sink`, q.sink);
    const nondeterministic = (q.nondeterministic ?? []) as string[];
    for (const c of nondeterministic) if (!sink.some((s) => s.name === c)) fail(file, `${where}.nondeterministic`, `${c} is not a sink column`);
    if (q.own_job !== undefined && typeof q.own_job !== 'boolean') fail(file, `${where}.own_job`, 'expected true or false');
    return { id: q.id, sql: q.sql, sink, nondeterministic, ownJob: q.own_job === true };
  });
  const timeZone = input.time_zone ?? 'UTC';
  if (typeof timeZone !== 'string') fail(file, 'input.time_zone', 'expected a zone id such as Asia/Kolkata');
  return { name: path.basename(file, '.yaml'), file, columns: columns(file, 'input.columns', input.columns), records: records as string[], timeZone, queries };
}

/** Every input set of the corpus; query ids must be unique across all of them. */
export function loadCorpus(dir = CORPUS_DIR): InputSet[] {
  const sets = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => loadInputSet(path.join(dir, f)));
  const seen = new Map<string, string>();
  for (const s of sets) {
    for (const q of s.queries) {
      const other = seen.get(q.id);
      if (other !== undefined) fail(s.file, `query ${q.id}`, `id also used in ${other}`);
      seen.set(q.id, s.name);
    }
  }
  return sets;
}

const KINDS: DifferenceKind[] = ['rows', 'refused', 'flink-refuses', 'flink-fails'];

export function loadDeviations(file = DEVIATIONS_FILE): Deviation[] {
  const doc = parse(readFileSync(file, 'utf8')) as { deviations?: unknown };
  const list = (doc?.deviations ?? []) as Array<Record<string, unknown>>;
  if (!Array.isArray(list)) fail(file, 'deviations', 'expected a list');
  const seen = new Set<string>();
  return list.map((d, i) => {
    const where = `deviations[${i}]`;
    for (const k of ['query', 'reason', 'flink', 'ours'] as const) {
      if (typeof d[k] !== 'string' || d[k] === '') fail(file, `${where}.${k}`, 'expected a non-empty string');
    }
    if (!KINDS.includes(d.kind as DifferenceKind)) fail(file, `${where}.kind`, `expected one of ${KINDS.join(', ')}`);
    if (seen.has(d.query as string)) fail(file, `${where}.query`, `${d.query as string} is listed twice`);
    seen.add(d.query as string);
    return d as unknown as Deviation;
  });
}
