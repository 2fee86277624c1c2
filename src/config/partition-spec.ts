// `partition_by` entries: `day(event_time)`, `bucket(16, user_id)`, `truncate(4, session_id)`,
// `identity(platform)` or a bare column name. Transform names and the source types each accepts
// follow the Iceberg table spec, "Partition Transforms".

import type { SqlType } from '../schema/sql-types.js';
import type { PartitionFieldConfig, PartitionTransform } from './types.js';

export const ACCEPTED_PARTITION =
  'column, identity(column), year(column), month(column), day(column), hour(column), ' +
  'bucket(N, column) or truncate(W, column)';

/** Parses one entry; returns an error message instead of throwing. */
export function parsePartitionField(text: string): PartitionFieldConfig | string {
  const bare = /^\s*`?([A-Za-z_][A-Za-z0-9_]*)`?\s*$/.exec(text);
  if (bare) return { source: bare[1]!, transform: { kind: 'identity' }, text: text.trim() };
  const m = /^\s*([a-z_]+)\s*\(\s*(?:(\d+)\s*,\s*)?`?([A-Za-z_][A-Za-z0-9_]*)`?\s*\)\s*$/i.exec(text);
  if (!m) return 'not a partition transform';
  const name = m[1]!.toLowerCase();
  const param = m[2] === undefined ? undefined : Number(m[2]);
  const source = m[3]!;
  let transform: PartitionTransform;
  switch (name) {
    case 'identity':
    case 'year':
    case 'month':
    case 'day':
    case 'hour':
      if (param !== undefined) return `${name} takes only a column`;
      transform = { kind: name };
      break;
    case 'years':
    case 'months':
    case 'days':
    case 'hours':
      // Spark's plural spellings.
      if (param !== undefined) return `${name} takes only a column`;
      transform = { kind: name.slice(0, -1) as 'year' | 'month' | 'day' | 'hour' };
      break;
    case 'bucket':
      if (param === undefined || param < 1) return 'bucket needs a bucket count of at least 1 before the column';
      transform = { kind: 'bucket', n: param };
      break;
    case 'truncate':
      if (param === undefined || param < 1) return 'truncate needs a width of at least 1 before the column';
      transform = { kind: 'truncate', width: param };
      break;
    default:
      return `unknown partition transform ${m[1]}`;
  }
  return { source, transform, text: text.trim() };
}

/** Why this transform cannot apply to a column of this type, or undefined if it can. */
export function partitionTypeProblem(transform: PartitionTransform, type: SqlType): string | undefined {
  const k = type.kind;
  const nested = k === 'array' || k === 'map' || k === 'row';
  if (nested) return `cannot partition by a ${k.toUpperCase()} column`;
  switch (transform.kind) {
    case 'identity':
      return k === 'float' || k === 'double' ? 'identity partitions on FLOAT/DOUBLE are not allowed' : undefined;
    case 'year':
    case 'month':
    case 'day':
      return k === 'date' || k === 'timestamp' || k === 'timestamp_ltz'
        ? undefined
        : `${transform.kind} needs a DATE or TIMESTAMP column`;
    case 'hour':
      return k === 'timestamp' || k === 'timestamp_ltz' ? undefined : 'hour needs a TIMESTAMP column';
    case 'bucket':
      return k === 'float' || k === 'double' || k === 'boolean' ? `bucket cannot take a ${k.toUpperCase()} column` : undefined;
    case 'truncate':
      return k === 'int' || k === 'bigint' || k === 'decimal' || k === 'string' || k === 'bytes'
        ? undefined
        : 'truncate needs an INT, BIGINT, DECIMAL, STRING or BYTES column';
  }
}
