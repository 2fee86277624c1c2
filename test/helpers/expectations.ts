// What the example pipelines must have written for a stream of sample records: every good record
// once in the table, every undecodable one once in the dead-letter table, nothing else.

import { expect } from 'vitest';
import { SAMPLE_EPOCH_MS, type SampleRecord } from '../../src/tools/sample-events.js';
import { readTable, type RuntimeProject } from './runtime.js';

const BID_COLUMNS = ['event_name', 'user_id', 'city_id', 'platform', 'session_id', 'event_time'];
const USER_COLUMNS = ['event_type', 'user_id', 'page_url', 'device_type', 'session_id', 'is_mobile', 'event_time'];
const DLQ_COLUMNS = ['source_topic', 'source_partition', 'source_offset', 'record_value', 'error_code'];

/** 2026-01-01T00:00:00.037 → index 1: sample timestamps advance 37 ms per record. */
function indexOfEventTime(iso: string): number {
  return (Date.parse(`${iso.slice(0, 23)}Z`) - SAMPLE_EPOCH_MS) / 37;
}

function sortedJson(values: unknown[]): string[] {
  return values.map((v) => JSON.stringify(v)).sort();
}

/** The records a pipeline writes to its table, and those it makes dead letters. */
export const isGood = (r: SampleRecord): boolean => r.kind === 'valid' || r.kind === 'missing-field';
export const isBad = (r: SampleRecord): boolean => r.kind === 'bad-json' || r.kind === 'wrong-type';

/** Checks an example pipeline's table and dead-letter table against the produced records. */
export async function expectExactlyOnce(
  project: RuntimeProject,
  topic: string,
  table: string,
  records: SampleRecord[],
  /** Rows another writer put into the table, left out of the check. */
  others: (row: Record<string, unknown>) => boolean = () => false,
): Promise<{ rows: number; deadLetters: number }> {
  const rows = await expectTableRows(project, table, records, others);
  const bad = records.filter(isBad);
  const dlq = await readTable(project, `${table}_dlq`, DLQ_COLUMNS);
  expect(dlq.rows.length).toBe(bad.length);
  const positions = dlq.rows.map((r) => `${r.source_partition as number}:${r.source_offset as number}`);
  expect(new Set(positions).size).toBe(positions.length);
  expect(dlq.rows.every((r) => r.source_topic === topic && r.error_code === 'RECORD_DECODE_FAILED')).toBe(true);
  expect(dlq.rows.map((r) => r.record_value as string).sort()).toEqual(bad.map((r) => r.value).sort());
  return { rows, deadLetters: dlq.rows.length };
}

/**
 * Checks an example pipeline's table alone: the good records among `records`, each once, with the
 * values the transformation gives them, and nothing else (rows `others` names aside). Each row
 * is matched whole, so a row changed, lost or doubled fails it even when the count holds.
 */
export async function expectTableRows(
  project: RuntimeProject,
  table: string,
  records: SampleRecord[],
  others: (row: Record<string, unknown>) => boolean = () => false,
): Promise<number> {
  const isBid = table === 'parsed_events';
  const columns = isBid ? BID_COLUMNS : USER_COLUMNS;
  const rows = (await readTable(project, table, columns)).rows.filter((r) => !others(r));
  const good = records.filter(isGood);
  const expectedRow = (r: SampleRecord): Record<string, unknown> => {
    const f = r.fields!;
    const ms = f.timestamp_ms as number | undefined;
    const eventTime = ms === undefined ? null : new Date(ms).toISOString().replace('Z', '').replace(/\.(\d{3})$/, '.$1000');
    const base: Record<string, unknown> = {};
    for (const c of columns) base[c] = f[c] ?? null;
    base.event_time = eventTime;
    if (!isBid) {
      const device = f.device_type as string | undefined;
      base.is_mobile = device !== undefined && ['ios', 'android', 'mobile'].includes(device.toLowerCase());
    }
    return base;
  };
  // Same multiset of rows: nothing lost, nothing twice, every value as the transformation says.
  expect(rows.length).toBe(good.length);
  const timed = rows.filter((r) => r.event_time !== null).map((r) => indexOfEventTime(r.event_time as string));
  expect(new Set(timed).size).toBe(timed.length);
  expect(sortedJson(rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] ?? null]))))).toEqual(sortedJson(good.map(expectedRow)));
  return rows.length;
}

