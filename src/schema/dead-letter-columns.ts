// The columns of every dead-letter table (`<sink_table>_dlq`), in order: one definition for the
// decoder that fills them, the sink config that creates the table and the tools that read it.

import type { SqlType } from './sql-types.js';

const t = (kind: 'string' | 'int' | 'bigint' | 'bytes', nullable: boolean): SqlType => ({ kind, nullable }) as SqlType;
const ltz = (nullable: boolean): SqlType => ({ kind: 'timestamp_ltz', precision: 3, nullable });

/** Columns of the `<sink_table>_dlq` table, in order. */
export const DEAD_LETTER_COLUMNS: ReadonlyArray<{ name: string; type: SqlType }> = [
  { name: 'source_topic', type: t('string', false) },
  { name: 'source_partition', type: t('int', false) },
  { name: 'source_offset', type: t('bigint', false) },
  { name: 'source_timestamp', type: ltz(true) },
  { name: 'record_key', type: t('bytes', true) },
  { name: 'record_value', type: t('bytes', true) },
  { name: 'error_code', type: t('string', false) },
  { name: 'error_message', type: t('string', false) },
  { name: 'failed_at', type: ltz(false) },
];
