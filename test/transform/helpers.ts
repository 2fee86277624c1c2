// Shared builders for transform tests: configs are built directly, as the config loader would.
import { parseSqlType } from '../../src/schema/sql-types.js';
import type { FieldConfig, PipelineConfig, TransformationEntry } from '../../src/config/types.js';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function fields(spec: Record<string, string>): FieldConfig[] {
  return Object.entries(spec).map(([name, typeText]) => ({ name, type: parseSqlType(typeText), typeText }));
}

export function pipeline(opts: {
  topic?: string;
  source: Record<string, string>;
  sink: Record<string, string>;
  sinkTable?: string;
  transformation?: string;
  onError?: PipelineConfig['onError'];
  maxRecordBytes?: number;
}): PipelineConfig {
  const sinkTable = opts.sinkTable ?? 'out_table';
  return {
    topic: opts.topic ?? 'test-events',
    enabled: true,
    groupId: 'g',
    scanMode: 'earliest-offset',
    format: 'json',
    sourceSchema: fields(opts.source),
    sink: { tableNameRaw: sinkTable, tableName: sinkTable, schema: fields(opts.sink), partitionBy: [], properties: {} },
    transformation: opts.transformation ?? 'x',
    onError: opts.onError ?? 'dlq',
    deadLetter: { kind: 'table', tableName: `${sinkTable}_dlq` },
    maxRecordBytes: opts.maxRecordBytes ?? 1_000_000,
    isolationLevel: 'read_committed',
  };
}

export function entry(name: string, className: string, module: string, modulePath?: string): TransformationEntry {
  const rel = module.includes('/') ? module : module.replace(/\./g, '/') + '.ts';
  return { name, className, module, modulePath: modulePath ?? path.resolve(ROOT, rel), description: `${name} test entry` };
}

/** Epoch microseconds of a UTC wall-clock text, computed by Date for cross-checking. */
export function utcMicros(iso: string): number {
  return Date.parse(iso + 'Z') * 1000;
}

import * as arrow from 'apache-arrow';

/**
 * A column's values as plain JS: timestamps as exact bigint microseconds read from the buffer
 * (Arrow's getter returns lossy milliseconds), BIGINT as bigint, everything else as Arrow gives it.
 */
export function columnValues(batch: arrow.RecordBatch, name: string): unknown[] {
  const vec = batch.getChild(name);
  if (vec === null) throw new Error(`no column ${name}`);
  const out: unknown[] = [];
  for (let i = 0; i < vec.length; i++) {
    if (!vec.isValid(i)) out.push(null);
    else if (arrow.DataType.isTimestamp(vec.type)) out.push((vec.data[0]!.values as BigInt64Array)[i]);
    else out.push(vec.get(i));
  }
  return out;
}

export function rowsOf(batch: arrow.RecordBatch): Record<string, unknown>[] {
  const cols = batch.schema.fields.map((f) => [f.name, columnValues(batch, f.name)] as const);
  return Array.from({ length: batch.numRows }, (_, i) => Object.fromEntries(cols.map(([n, v]) => [n, v[i]])));
}

/** Exact epoch microseconds of a UTC wall-clock text, as bigint. */
export function us(iso: string): bigint {
  return BigInt(Date.parse(iso + 'Z')) * 1000n;
}
