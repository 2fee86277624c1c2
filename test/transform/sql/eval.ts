// Evaluates one SQL expression over hand-made rows, through the real parser and compiler.
import { compileSelect } from '../../../src/transform/sql/select.js';
import { ExpressionError, type Frame } from '../../../src/transform/sql/expression.js';
import { typeName } from '../../../src/transform/sql/types.js';
import { SessionZone } from '../../../src/transform/time.js';
import { fields } from '../helpers.js';

export const SCHEMA = fields({
  s: 'STRING', s2: 'STRING', i: 'INT', j: 'INT', b: 'BIGINT', d: 'DOUBLE', f: 'BOOLEAN', g: 'BOOLEAN',
  ts: 'TIMESTAMP(3)', lt: 'TIMESTAMP_LTZ(3)', dt: 'DATE', dec: 'DECIMAL(10, 2)',
  p: 'ROW<ts TIMESTAMP(3), q ROW<r INT>>', arr: 'ARRAY<INT>', m: 'MAP<STRING, INT>',
});

/** 2026-01-01 00:00:00 UTC in µs. */
export const NOW_US = 1767225600000000;

export function evalSql(expr: string, rows: Array<Record<string, unknown>> = [{}], zone = 'UTC'): { type: string; values: unknown[] } {
  const frame: Frame = { cols: [], nowMicros: NOW_US, zone: new SessionZone(zone) };
  const sel = compileSelect(`SELECT ${expr} AS r FROM t`, ['t'], SCHEMA, frame);
  frame.cols = SCHEMA.map((f) => rows.map((r) => (r[f.name] === undefined ? null : r[f.name])));
  const e = sel.items[0]!.expr;
  const values = rows.map((_, k) => {
    try {
      return e.eval(k);
    } catch (err) {
      if (err instanceof ExpressionError) return { error: err.message };
      throw err;
    }
  });
  return { type: typeName(e.type) + (e.type.nullable ? '' : ' NOT NULL'), values };
}

/** The single value of a constant or single-row expression. */
export function one(expr: string, row: Record<string, unknown> = {}, zone = 'UTC'): unknown {
  return evalSql(expr, [row], zone).values[0];
}

export function compileError(expr: string): { code: string; message: string } {
  try {
    evalSql(expr);
  } catch (e) {
    return { code: (e as { code: string }).code, message: (e as Error).message };
  }
  throw new Error(`expected ${expr} not to compile`);
}
