// The start-up check that a transformation's output fits its sink table: every sink column is
// produced, nothing else is, and each value type can be written into its column. Columns are
// matched by name (the select item's alias or column name), not by position as Flink's INSERT
// INTO does: a reordered SELECT then lands in the right columns instead of the wrong ones.

import * as arrow from 'apache-arrow';
import { formatSqlType, type SqlType } from '../schema/sql-types.js';
import type { FieldConfig } from '../config/types.js';
import { StreamError } from '../errors.js';
import { arrowTypeOf } from '../schema/type-mapping.js';
import { ExpressionError } from './sql/expression.js';
import { typeName, type ExprType } from './sql/types.js';
import { truncateToPrecision, type SessionZone } from './time.js';
import { fitsPrecision, formatDecimal } from './decimal.js';
import { numericCoercion } from './sql/decimal-ops.js';

export interface OutputColumn {
  name: string;
  type: ExprType;
}

/** How sink column `sink` is filled: from output column `from`, through `convert` unless null. */
export interface Assignment {
  sink: FieldConfig;
  from: number;
  convert: ((v: unknown) => unknown) | null;
  /** The sink column is NOT NULL and the value may be null: checked per row (Flink's not-null enforcer). */
  checkNotNull: boolean;
}

const WIDENS: Record<string, readonly string[]> = {
  int: ['bigint', 'float', 'double', 'decimal'],
  bigint: ['float', 'double', 'decimal'],
  float: ['double'],
  decimal: ['float', 'double', 'decimal'],
};

const NESTED_LEAVES = new Set(['string', 'boolean', 'int', 'bigint', 'float', 'double', 'decimal', 'date', 'time', 'timestamp', 'timestamp_ltz']);

/** Why a sink type cannot be written by the column builders, or null when it can. */
export function unwritableReason(t: SqlType, top = true): string | null {
  switch (t.kind) {
    case 'array':
      return unwritableReason(t.element, false);
    case 'map':
      return unwritableReason(t.key, false) ?? unwritableReason(t.value, false);
    case 'row':
      for (const f of t.fields) {
        const r = unwritableReason(f.type, false);
        if (r !== null) return r;
      }
      return null;
    default:
      return top || NESTED_LEAVES.has(t.kind) ? null : `${formatSqlType(t)} inside ARRAY, MAP or ROW is not supported (nested leaves may be STRING, BOOLEAN, INT, BIGINT, FLOAT, DOUBLE, DECIMAL, DATE, TIME, TIMESTAMP or TIMESTAMP_LTZ)`;
  }
}

function sameShape(a: SqlType, b: SqlType): boolean {
  return formatSqlType({ ...a, nullable: true }) === formatSqlType({ ...b, nullable: true });
}

/** The conversion writing a value of `from` into a column of `to`; undefined when there is none. */
export function assignConversion(from: ExprType, to: SqlType, zone: SessionZone, column = 'the column'): ((v: unknown) => unknown) | null | undefined {
  if (from.kind === 'null') return null;
  if (from.kind === to.kind) {
    switch (to.kind) {
      case 'timestamp':
      case 'timestamp_ltz':
      case 'time': {
        const p = to.precision;
        return (from as { precision: number }).precision <= p ? null : (v) => truncateToPrecision(v as number, p);
      }
      case 'decimal':
        return decimalFit(from, to, column);
      case 'array':
      case 'map':
      case 'row':
        return sameShape(from as SqlType, to) ? null : undefined;
      case 'fixed':
        return (from as { length: number }).length === to.length ? null : undefined;
      default:
        return null;
    }
  }
  if (WIDENS[from.kind]?.includes(to.kind)) {
    if (to.kind === 'decimal') return decimalFit(from, to, column);
    if (from.kind === 'decimal') {
      const toNumber = numericCoercion(from, to, false)!;
      return to.kind === 'float' ? (v) => Math.fround(toNumber(v) as number) : toNumber;
    }
    return to.kind === 'float' ? (v) => Math.fround(v as number) : null;
  }
  // Writing an instant into a zone-less column takes the wall clock in the session time zone.
  if ((from.kind === 'timestamp_ltz' && to.kind === 'timestamp') || (from.kind === 'timestamp' && to.kind === 'timestamp_ltz')) {
    const p = to.precision;
    const shift = from.kind === 'timestamp_ltz' ? (v: number) => zone.toWall(v) : (v: number) => zone.toInstant(v);
    // Zone offsets are whole seconds, so a value already at the target precision stays there.
    if (from.precision <= p) return zone.isUtc ? null : (v) => shift(v as number);
    return (v) => truncateToPrecision(shift(v as number), p);
  }
  if (from.kind === 'bytes' && to.kind === 'fixed') return null;
  return undefined;
}

/**
 * A value written into a DECIMAL column: brought to the column's scale HALF_UP and checked against
 * its precision, exactly (decimal-ops.ts). Beyond the precision it is NULL, as Flink's implicit
 * cast on INSERT makes it; into a NOT NULL column that is the record's dead letter, naming the
 * column and the value. Null when nothing can change (same scale, no more digits).
 */
function decimalFit(from: ExprType, to: Extract<SqlType, { kind: 'decimal' }>, column: string): ((v: unknown) => unknown) | null {
  if (from.kind === 'decimal' && from.scale === to.scale && from.precision <= to.precision) return null;
  const conv = numericCoercion(from, to, false) ?? ((v: unknown) => v);
  const text = from.kind === 'decimal' ? (v: unknown) => formatDecimal(v as bigint, from.scale) : (v: unknown) => String(v);
  return (v) => {
    const u = conv(v) as bigint | null;
    if (u !== null && fitsPrecision(u, to.precision)) return u;
    if (to.nullable) return null;
    throw new ExpressionError(`column ${column}: ${text(v)} does not fit ${formatSqlType(to)}, and the column is NOT NULL`);
  };
}

function mismatch(table: string, problems: string[]): StreamError {
  return new StreamError('SCHEMA_MISMATCH', `the transformation's output does not fit sink table ${table}: ${problems.join('; ')}`, {
    details: { table, problems },
  });
}

/** Checks SQL output columns against the sink schema; returns one assignment per sink column. */
export function checkOutput(table: string, outputs: readonly OutputColumn[], sink: readonly FieldConfig[], zone: SessionZone): Assignment[] {
  const problems: string[] = [];
  const byName = new Map<string, number>();
  outputs.forEach((o, k) => {
    if (byName.has(o.name)) problems.push(`column ${o.name} is produced twice`);
    byName.set(o.name, k);
  });
  const sinkNames = new Set(sink.map((f) => f.name));
  for (const o of outputs) {
    if (sinkNames.has(o.name)) continue;
    problems.push(o.name.startsWith('EXPR$') ? `select item ${Number(o.name.slice(5)) + 1} has no name; add AS <sink column>` : `column ${o.name} is not in the sink schema`);
  }
  const out: Assignment[] = [];
  for (const f of sink) {
    const k = byName.get(f.name);
    const unwritable = unwritableReason(f.type);
    if (unwritable !== null) problems.push(`sink column ${f.name}: ${unwritable}`);
    if (k === undefined) {
      problems.push(`sink column ${f.name} (${f.typeText}) is not produced`);
      continue;
    }
    const from = outputs[k]!.type;
    const convert = assignConversion(from, f.type, zone, f.name);
    if (convert === undefined) {
      problems.push(`column ${f.name}: a ${typeName(from)} value cannot be written into ${formatSqlType(f.type)}; CAST it`);
      continue;
    }
    out.push({ sink: f, from: k, convert, checkNotNull: !f.type.nullable && from.nullable });
  }
  if (problems.length > 0) throw mismatch(table, problems);
  return out;
}

/** Checks a columnar transformer's result schema against the sink: same names, same Arrow types. */
export function checkArrowOutput(table: string, schema: arrow.Schema, sink: readonly FieldConfig[]): void {
  const problems: string[] = [];
  const got = new Map(schema.fields.map((f) => [f.name, f]));
  for (const f of sink) {
    const g = got.get(f.name);
    const want = arrowTypeOf(f.type);
    if (g === undefined) problems.push(`sink column ${f.name} (${f.typeText}) is not produced`);
    else if (!arrow.util.compareTypes(g.type, want)) problems.push(`column ${f.name} is ${String(g.type)}, the sink needs ${String(want)}`);
  }
  for (const name of got.keys()) if (!sink.some((f) => f.name === name)) problems.push(`column ${name} is not in the sink schema`);
  if (problems.length > 0) throw mismatch(table, problems);
}
