// One query's two results compared: both refused or failed alike, or both tables equal as
// multisets of rows (their order is neither side's promise), with the same Iceberg column types.
// A nondeterministic column (CURRENT_TIMESTAMP, PROCTIME()) is compared by presence and type only.

import type { DifferenceKind, Query } from './corpus.js';
import type { Outcome } from './flink-side.js';
import type { TableRead } from './table-rows.js';

export interface Difference {
  query: string;
  kind: DifferenceKind;
  /** What differs, for the report: the extra rows of each side, the types, or the messages. */
  detail: string;
}

/** A row as JSON; a MAP column's entries sorted, since a map has no order of its own. */
function canonical(row: Record<string, unknown>, nondeterministic: string[], types: Record<string, string>): string {
  const keys = Object.keys(row).sort();
  const value = (k: string) => {
    const v = row[k];
    if (v === null || nondeterministic.includes(k)) return v === null ? null : '<present>';
    if (types[k]?.startsWith('map<') && Array.isArray(v)) return v.map((e) => JSON.stringify(e)).sort();
    return v;
  };
  return JSON.stringify(keys.map((k) => [k, value(k)]));
}

/** Rows of `a` not matched one for one in `b`. */
function extra(a: string[], b: string[]): string[] {
  const left = new Map<string, number>();
  for (const r of b) left.set(r, (left.get(r) ?? 0) + 1);
  const out: string[] = [];
  for (const r of a) {
    const n = left.get(r) ?? 0;
    if (n > 0) left.set(r, n - 1);
    else out.push(r);
  }
  return out;
}

export function compareQuery(query: Query, flink: Outcome, ours: Outcome, flinkTable: TableRead | undefined, ourTable: TableRead | undefined): Difference | null {
  if (flink.status === 'refused') {
    return ours.status === 'refused' ? null : { query: query.id, kind: 'flink-refuses', detail: `Flink refuses: ${flink.message}` };
  }
  if (ours.status === 'refused') return { query: query.id, kind: 'refused', detail: `--check refuses: ${ours.message}` };
  if (flink.status === 'failed') return { query: query.id, kind: 'flink-fails', detail: `Flink's job fails: ${flink.message}` };
  const f = (flinkTable?.rows ?? []).map((r) => canonical(r, query.nondeterministic, flinkTable!.types));
  const o = (ourTable?.rows ?? []).map((r) => canonical(r, query.nondeterministic, ourTable!.types));
  const problems: string[] = [];
  const ft = JSON.stringify(flinkTable?.types ?? {});
  const ot = JSON.stringify(ourTable?.types ?? {});
  // A table that was never committed (no rows on that side) has no types to compare.
  if (flinkTable?.rows && ourTable?.rows && ft !== ot) problems.push(`types: Flink ${ft}, ours ${ot}`);
  const onlyFlink = extra(f, o);
  const onlyOurs = extra(o, f);
  if (onlyFlink.length > 0) problems.push(`only in Flink's table: ${onlyFlink.join(' ')}`);
  if (onlyOurs.length > 0) problems.push(`only in ours: ${onlyOurs.join(' ')}`);
  return problems.length === 0 ? null : { query: query.id, kind: 'rows', detail: problems.join('; ') };
}
