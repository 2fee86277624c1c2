// The contract a transformer class fulfils, mirroring the PyFlink job's BaseTransformer: constructed with
// its topic's configuration, it either returns Flink SQL (`getTransformationSql`) or transforms
// data in TypeScript, columnar (`transform`) or row by row (`map` / `filter`). User files in
// transformations/ import it through transformations/base_transformer.ts.

import type * as arrow from 'apache-arrow';
import type { PipelineConfig } from '../config/types.js';

/**
 * A row as `map` and `filter` see it: source-schema field names to values. STRING → string,
 * BOOLEAN → boolean, INT / BIGINT / FLOAT / DOUBLE → number (a BIGINT beyond ±2^53 → bigint),
 * DECIMAL(p, s) → its exact plain text with s fraction digits ('12345678901234567.89': a number
 * would round past 15 digits), DATE → 'yyyy-MM-dd',
 * TIMESTAMP / TIMESTAMP_LTZ → Date (millisecond precision), BYTES → Uint8Array, null → null.
 * `map` returns sink-schema names to values of the same kinds (a timestamp may also be epoch
 * milliseconds or timestamp text; a DECIMAL decimal text, a bigint for a whole number, or a
 * number read by its shortest text, rounded HALF_UP to the column's scale); a column it leaves
 * out is null.
 */
export type Row = Record<string, unknown>;

/** What a transformer may read besides its input; the same for every record of a batch. */
export interface TransformContext {
  topic: string;
  partition: number;
  /** Batch time (CURRENT_TIMESTAMP), epoch milliseconds. */
  nowMs: number;
}

export interface Transformer {
  getDescription(): string;
  /** Flink SQL: `SELECT … FROM <sourceTable> [WHERE …]`. */
  getTransformationSql?(sourceTable: string): string;
  /** Columnar: a batch in the source schema → a batch (or table) in the sink schema. */
  transform?(batch: arrow.RecordBatch, context: TransformContext): arrow.RecordBatch | arrow.Table;
  /** Row-wise: the output row, or null to drop the record. */
  map?(row: Row, context: TransformContext): Row | null | undefined;
  /** Row-wise: keep the record when true; runs before `map`. */
  filter?(row: Row, context: TransformContext): boolean;
}

export class BaseTransformer implements Transformer {
  readonly topicConfig: PipelineConfig;

  constructor(topicConfig: PipelineConfig) {
    this.topicConfig = topicConfig;
  }

  getDescription(): string {
    return this.constructor.name;
  }
}

export type TransformerKind = 'sql' | 'columnar' | 'rows';

/** Which contract an instance fulfils; a columnar `transform` wins over `map`/`filter`, which win over SQL. */
export function transformerKind(t: Transformer): TransformerKind | null {
  if (typeof t.transform === 'function') return 'columnar';
  if (typeof t.map === 'function' || typeof t.filter === 'function') return 'rows';
  if (typeof t.getTransformationSql === 'function') return 'sql';
  return null;
}

/** The source table name the PyFlink job passed to getTransformationSql: `kafka_<topic with - as _>`. */
export function sourceTableName(topic: string): string {
  return `kafka_${topic.replace(/[^A-Za-z0-9_]/g, '_')}`;
}
