// Static types of compiled SQL expressions: the SqlType tree from the config, plus the type of a
// bare NULL literal, which fits anywhere.

import { formatSqlType, type SqlType } from '../../schema/sql-types.js';

export type NullType = { kind: 'null'; nullable: true };
export type ExprType = SqlType | NullType;

export const NULL_TYPE: NullType = { kind: 'null', nullable: true };

type Simple = 'string' | 'boolean' | 'int' | 'bigint' | 'float' | 'double' | 'date' | 'bytes';

export function simple(kind: Simple, nullable = true): SqlType {
  return { kind, nullable } as SqlType;
}

export function timestampType(precision: number, nullable = true): SqlType {
  return { kind: 'timestamp', precision, nullable };
}

export function ltzType(precision: number, nullable = true): SqlType {
  return { kind: 'timestamp_ltz', precision, nullable };
}

export function decimalType(precision: number, scale: number, nullable = true): SqlType {
  return { kind: 'decimal', precision: Math.min(38, precision), scale: Math.min(scale, 38), nullable };
}

export function withNullable<T extends ExprType>(t: T, nullable: boolean): T {
  return t.kind === 'null' ? t : ({ ...t, nullable } as T);
}

export function typeName(t: ExprType): string {
  return t.kind === 'null' ? 'NULL' : formatSqlType({ ...t, nullable: true });
}

const NUMERIC_RANK: Record<string, number> = { int: 1, bigint: 2, decimal: 3, float: 4, double: 5 };

export function isNumeric(t: ExprType): boolean {
  return t.kind in NUMERIC_RANK;
}

export function isIntegral(t: ExprType): boolean {
  return t.kind === 'int' || t.kind === 'bigint';
}

export function isTimestamp(t: ExprType): boolean {
  return t.kind === 'timestamp' || t.kind === 'timestamp_ltz';
}

/** The wider of two numeric types, as Flink widens operands of arithmetic and comparison. */
export function widerNumeric(a: SqlType, b: SqlType, nullable: boolean): SqlType {
  if (a.kind === 'decimal' && b.kind === 'decimal') {
    const scale = Math.max(a.scale, b.scale);
    return decimalType(Math.max(a.precision - a.scale, b.precision - b.scale) + scale, scale, nullable);
  }
  if (a.kind === 'decimal' && isIntegral(b)) return decimalType(Math.max(a.precision, a.scale + (b.kind === 'int' ? 10 : 19)), a.scale, nullable);
  if (b.kind === 'decimal' && isIntegral(a)) return widerNumeric(b, a, nullable);
  const wa = NUMERIC_RANK[a.kind]!;
  const wb = NUMERIC_RANK[b.kind]!;
  return withNullable(wa >= wb ? a : b, nullable);
}

/**
 * The type both sides of a comparison, CASE branches or COALESCE arguments are brought to; null
 * when they cannot meet. A NULL literal takes the other side's type.
 */
export function commonType(types: readonly ExprType[]): ExprType | null {
  let acc: ExprType = NULL_TYPE;
  let nullable = false;
  for (const t of types) {
    nullable ||= t.nullable;
    if (t.kind === 'null') continue;
    if (acc.kind === 'null') {
      acc = t;
      continue;
    }
    if (isNumeric(acc) && isNumeric(t)) acc = widerNumeric(acc as SqlType, t, true);
    else if (acc.kind === 'timestamp' && t.kind === 'timestamp') acc = timestampType(Math.max(acc.precision, t.precision));
    else if (acc.kind === 'timestamp_ltz' && t.kind === 'timestamp_ltz') acc = ltzType(Math.max(acc.precision, t.precision));
    else if (acc.kind !== t.kind || !isSimpleKind(acc.kind)) return null;
  }
  return acc.kind === 'null' ? acc : withNullable(acc, nullable);
}

function isSimpleKind(kind: string): boolean {
  return ['string', 'boolean', 'date', 'bytes', 'time'].includes(kind);
}
