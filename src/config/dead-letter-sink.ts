// The dead-letter table of a pipeline (`on_error: dlq` with `dead_letter: { table: ... }`), as a
// sink of its own: the fixed dead-letter columns, unpartitioned, with the pipeline's table
// properties. Shared by the runtime, which writes it, and the tools, which read it.

import { formatSqlType } from '../schema/sql-types.js';
import type { PipelineConfig, SinkConfig } from './types.js';
import { DEAD_LETTER_COLUMNS } from '../schema/dead-letter-columns.js';

/** The dead-letter table's sink, or null when dead letters do not go to a table. */
export function deadLetterSink(pipeline: PipelineConfig): SinkConfig | null {
  if (pipeline.onError !== 'dlq' || pipeline.deadLetter.kind !== 'table') return null;
  return {
    tableNameRaw: pipeline.deadLetter.tableName,
    tableName: pipeline.deadLetter.tableName,
    schema: DEAD_LETTER_COLUMNS.map((c) => ({ name: c.name, type: c.type, typeText: formatSqlType(c.type) })),
    partitionBy: [],
    properties: pipeline.sink.properties,
  };
}
