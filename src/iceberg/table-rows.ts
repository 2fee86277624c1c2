// Rows made ready for one table's data files: bound to the table's schema (columns by name,
// field ids on the Arrow fields), checked (no DATE or TIMESTAMP outside years 0000–9999), split by
// the partition spec, and — where the rows are made, in a transform worker — counted for the
// files' column metrics and encoded as one Arrow IPC stream of one record batch per partition
// value (`prepare`). The sink's writer then hands each batch to its file's Parquet encoder as it
// is and merges the counts: its one thread per table neither decodes, nor re-encodes, nor reads
// the values (DataFileWriter.writePrepared).

import * as arrow from 'apache-arrow';
import { StreamError } from '../errors.js';
import { dateInRange, dateRangeReason, timestampRangeReason, timestampWordsInRange } from '../schema/calendar.js';
import type { PartitionSpec, PartitionValue } from './partition.js';
import type { PartitionSource } from './partition-split.js';
import { partitionKey, splitByPartition, valueAt } from './partition-split.js';
import type { IcebergSchema } from './schema.js';
import { bindArrowSchema, indexFields, rebindBatch } from './schema.js';
import { MetricsAccumulator, type MetricsState } from './stats.js';
import { takeBatch } from './take.js';

/** The table as rows are prepared for it: its current schema and default spec. */
export interface WriteTarget {
  /** Names the table, its schema and its spec: whoever caches a TableRows per target keys it by this. */
  key: string;
  /** `namespace.table`, for errors. */
  tableName: string;
  schema: IcebergSchema;
  spec: PartitionSpec;
}

/** One partition value's rows in a PreparedRows stream. */
export interface PreparedPart {
  /** One value per field of the spec, in spec order. */
  values: PartitionValue[];
  rows: number;
  /** Bytes of the rows' Arrow buffers (what a writer's file-size estimate counts). */
  arrowBytes: number;
  /** Column metrics of these rows alone (MetricsAccumulator.state). */
  metrics: MetricsState;
}

/** Rows ready for a table's files (see the header). Plain data: transferable across threads. */
export interface PreparedRows {
  /** One Arrow IPC stream with the table's bound schema: record batch i holds parts[i]'s rows. */
  ipc: Uint8Array;
  parts: PreparedPart[];
}

/** A bound batch's rows of one partition value. */
export interface PartitionRows {
  key: string;
  values: PartitionValue[];
  batch: arrow.RecordBatch;
}

export class TableRows {
  private readonly sources: PartitionSource[];
  private bound: arrow.Schema | undefined;

  constructor(private readonly target: Omit<WriteTarget, 'key'>) {
    const fields = indexFields(target.schema);
    this.sources = target.spec.fields.map((pf) => {
      const column = target.schema.fields.findIndex((f) => f.id === pf['source-id']);
      const type = fields.get(pf['source-id'])?.type;
      if (column < 0 || typeof type !== 'string') {
        throw new StreamError('SCHEMA_MISMATCH', `partition field ${pf.name}: source ${pf['source-id']} is not a top-level primitive column`);
      }
      return { column, type, transform: pf.transform };
    });
  }

  /** The table's Arrow schema with field ids, bound from the first input batch's schema. */
  targetSchema(input: arrow.Schema): arrow.Schema {
    this.bound ??= bindArrowSchema(input, this.target.schema);
    return this.bound;
  }

  /**
   * A batch bound to the table's schema and split by partition value, rows in their order.
   * Throws EXPRESSION_FAILED, not retryable, for a DATE or TIMESTAMP outside years 0000–9999:
   * the transform step makes such a record a dead letter, so one here is a defect upstream, and
   * writing it would leave a value that readers cannot show in the table.
   */
  split(batch: arrow.RecordBatch): PartitionRows[] {
    const bound = rebindBatch(batch, this.targetSchema(batch.schema));
    const outOfRange = firstOutOfRange(this.target.schema, bound);
    if (outOfRange !== null) {
      const table = this.target.tableName;
      throw new StreamError('EXPRESSION_FAILED', `table ${table} column ${outOfRange.column}: ${outOfRange.reason}; such a record should have been a dead letter before the sink`, {
        retryable: false,
        details: { table, column: outOfRange.column, value: outOfRange.value },
      });
    }
    const groups = splitByPartition(bound, this.sources);
    return groups.map((g) => ({ key: partitionKey(g.values), values: g.values, batch: groups.length === 1 ? bound : takeBatch(bound, g.rows) }));
  }

  /** `split`, each part counted for the column metrics, all encoded as one IPC stream; null for no rows. */
  prepare(batch: arrow.RecordBatch): PreparedRows | null {
    if (batch.numRows === 0) return null;
    const split = this.split(batch);
    const parts = split.map(({ values, batch: b }): PreparedPart => {
      const metrics = new MetricsAccumulator(this.target.schema);
      metrics.add(b);
      return { values, rows: b.numRows, arrowBytes: arrowByteLength(b.data), metrics: metrics.state() };
    });
    const ipc = arrow.tableToIPC(new arrow.Table(split[0]!.batch.schema, split.map((p) => p.batch)), 'stream');
    return { ipc, parts };
  }
}

/** Bytes of a Data tree's buffers. */
export function arrowByteLength(data: arrow.Data): number {
  let n = 0;
  for (const b of [data.valueOffsets, data.values, data.nullBitmap, data.typeIds] as unknown[]) if (b) n += (b as ArrayBufferView).byteLength;
  for (const c of data.children) n += arrowByteLength(c);
  return n;
}

/**
 * The first top-level DATE or TIMESTAMP value outside Flink's years, or null. On the hot path, so
 * values are compared as the 32-bit words of the Arrow buffers (no BigInt per value).
 */
function firstOutOfRange(schema: IcebergSchema, batch: arrow.RecordBatch): { column: string; value: string; reason: string } | null {
  for (let c = 0; c < schema.fields.length; c++) {
    const f = schema.fields[c]!;
    if (f.type !== 'date' && f.type !== 'timestamp' && f.type !== 'timestamptz') continue;
    const data = batch.data.children[c]!;
    const values = data.values as Int32Array | BigInt64Array;
    const words = values instanceof BigInt64Array ? new Int32Array(values.buffer, values.byteOffset, values.length * 2) : values;
    for (let i = 0; i < data.length; i++) {
      if (f.type === 'date' ? dateInRange(words[i]!) : timestampWordsInRange(words[2 * i]!, words[2 * i + 1]!)) continue;
      const v = valueAt(data, i, f.type);
      if (v === null) continue;
      const reason = f.type === 'date' ? dateRangeReason(v as number) : timestampRangeReason(v as bigint);
      if (reason !== null) return { column: f.name, value: String(v), reason };
    }
  }
  return null;
}
