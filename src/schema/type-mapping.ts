// The one table that maps Flink SQL types (as parsed from the YAML schemas) to Apache Arrow
// types (what the transform workers produce and the sink reads) and to Iceberg primitive types
// (what the table metadata declares). Iceberg names follow the Iceberg table spec, "Schemas and
// Data Types"; Arrow widths follow what Iceberg readers expect of Parquet files: timestamps in
// microseconds, decimals as 128-bit, times in microseconds.

import * as arrow from 'apache-arrow';
import type { SqlType } from './sql-types.js';

/** Iceberg primitive type names as they appear in table metadata JSON. */
export type IcebergPrimitive =
  | 'boolean'
  | 'int'
  | 'long'
  | 'float'
  | 'double'
  | `decimal(${number}, ${number})`
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'string'
  | 'binary'
  | `fixed[${number}]`;

interface ScalarMapping {
  arrow: (t: SqlType) => arrow.DataType;
  iceberg: (t: SqlType) => IcebergPrimitive;
}

const SCALARS: Record<Exclude<SqlType['kind'], 'array' | 'map' | 'row'>, ScalarMapping> = {
  string: { arrow: () => new arrow.Utf8(), iceberg: () => 'string' },
  boolean: { arrow: () => new arrow.Bool(), iceberg: () => 'boolean' },
  int: { arrow: () => new arrow.Int32(), iceberg: () => 'int' },
  bigint: { arrow: () => new arrow.Int64(), iceberg: () => 'long' },
  float: { arrow: () => new arrow.Float32(), iceberg: () => 'float' },
  double: { arrow: () => new arrow.Float64(), iceberg: () => 'double' },
  decimal: {
    arrow: (t) => (t.kind === 'decimal' ? new arrow.Decimal(t.scale, t.precision, 128) : unreachable(t)),
    iceberg: (t) => (t.kind === 'decimal' ? `decimal(${t.precision}, ${t.scale})` : unreachable(t)),
  },
  date: { arrow: () => new arrow.DateDay(), iceberg: () => 'date' },
  time: { arrow: () => new arrow.TimeMicrosecond(), iceberg: () => 'time' },
  // Iceberg v2 timestamps are microseconds; TIMESTAMP(3) values are stored at micro scale.
  timestamp: { arrow: () => new arrow.TimestampMicrosecond(null), iceberg: () => 'timestamp' },
  timestamp_ltz: { arrow: () => new arrow.TimestampMicrosecond('UTC'), iceberg: () => 'timestamptz' },
  bytes: { arrow: () => new arrow.Binary(), iceberg: () => 'binary' },
  fixed: {
    arrow: (t) => (t.kind === 'fixed' ? new arrow.FixedSizeBinary(t.length) : unreachable(t)),
    iceberg: (t) => (t.kind === 'fixed' ? `fixed[${t.length}]` : unreachable(t)),
  },
};

function unreachable(t: SqlType): never {
  throw new Error(`type mapping called with the wrong kind: ${t.kind}`);
}

export function isNestedType(t: SqlType): t is Extract<SqlType, { kind: 'array' | 'map' | 'row' }> {
  return t.kind === 'array' || t.kind === 'map' || t.kind === 'row';
}

/** The Iceberg primitive for a scalar SQL type; nested types are built by the Iceberg schema code. */
export function icebergPrimitiveOf(t: SqlType): IcebergPrimitive {
  if (isNestedType(t)) throw new Error(`${t.kind} is not a primitive type`);
  return SCALARS[t.kind].iceberg(t);
}

/**
 * The Arrow type for a SQL type. Nested children are named as Iceberg's Parquet writers name
 * them (`element`, `key`/`value` under `entries`), so files read back the same in every engine.
 */
export function arrowTypeOf(t: SqlType): arrow.DataType {
  switch (t.kind) {
    case 'array':
      return new arrow.List(new arrow.Field('element', arrowTypeOf(t.element), t.element.nullable));
    case 'map':
      return new arrow.Map_(
        new arrow.Field(
          'entries',
          new arrow.Struct<any>([
            new arrow.Field('key', arrowTypeOf(t.key), false),
            new arrow.Field('value', arrowTypeOf(t.value), t.value.nullable),
          ]),
          false,
        ),
      );
    case 'row':
      return new arrow.Struct(t.fields.map((f) => new arrow.Field(f.name, arrowTypeOf(f.type), f.type.nullable)));
    default:
      return SCALARS[t.kind].arrow(t);
  }
}

/** An Arrow schema (no field ids) for a list of named SQL columns. */
export function arrowSchemaOf(columns: ReadonlyArray<{ name: string; type: SqlType }>): arrow.Schema {
  return new arrow.Schema(columns.map((c) => new arrow.Field(c.name, arrowTypeOf(c.type), c.type.nullable)));
}
