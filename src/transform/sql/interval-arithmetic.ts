// `t + INTERVAL '1' HOUR`, `t - INTERVAL '7' DAY`, `INTERVAL '1' MONTH + t`: an interval literal
// added to or taken from a TIMESTAMP, TIMESTAMP_LTZ or DATE, with the operand's type kept (Flink
// 1.19's result types, checked against PyFlink 1.19.3). An interval is never a value of its own
// here: no sink column can hold one, so a bare INTERVAL, or one multiplied, is refused.
//
// Flink holds an interval as months (YEAR, MONTH) or milliseconds (DAY to SECOND): a fraction of
// a second past the millisecond is dropped, as Flink drops it. Months follow Calcite's addMonths
// (the day clamped to the new month's last: 2024-01-31 + 1 month is 2024-02-29).

import { timestampRangeReason } from '../../schema/calendar.js';
import { MICROS_PER_DAY } from '../time.js';
import { addMonths } from './calendar-functions.js';
import { ExpressionError, fold, pos, type Compiled, type Scope } from './expression.js';
import { strict } from './function-kit.js';
import { invalid, type AstNode } from './parse.js';
import { typeName, withNullable } from './types.js';

const MICROS_PER_MILLI = 1000;
const MILLIS: Record<string, number> = { SECOND: 1000, MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000 };

/** An interval literal: a count of months or of milliseconds, as Flink holds one. */
export interface Interval {
  months: number;
  millis: number;
  /** The literal as written, for messages. */
  text: string;
}

/**
 * The literal's fields, by its unit: `'3' HOUR`, `'1.5' SECOND`, and the ranges the grammar is
 * given by keyword-forms.ts as `YEAR_MONTH`, `DAY_SECOND` … (`'1-2' YEAR TO MONTH`,
 * `'1 02:03:04.5' DAY TO SECOND`, `'02:30' HOUR TO MINUTE`).
 */
export function intervalOf(node: AstNode, scope: Scope): Interval {
  const expr = node.expr as AstNode | undefined;
  const written = expr === undefined ? '' : String(expr.value ?? '');
  const range = /^([A-Z]+_[A-Z]+) /.exec(written);
  const unit = range !== null ? range[1]! : String(node.unit ?? '').toUpperCase();
  const raw = range !== null ? written.slice(range[0].length) : written;
  const text = `INTERVAL '${raw}' ${unit.replace('_', ' TO ')}`;
  const bad = (want: string) => invalid(`${text}: the value must be ${want}, found '${raw}'`, pos(scope, node));
  if (expr === undefined || !['single_quote_string', 'number', 'string'].includes(String(expr.type))) throw bad('a quoted literal');
  const sign = raw.trim().startsWith('-') ? -1 : 1;
  const body = raw.trim().replace(/^[-+]/, '');
  const [first, last] = unit.split('_') as [string, string | undefined];
  if (first === 'YEAR' || first === 'MONTH') {
    const m = last === 'MONTH' ? /^(\d+)-(\d+)$/.exec(body) : /^(\d+)$/.exec(body);
    if (m === null) throw bad(last === 'MONTH' ? "'years-months', as '1-2'" : 'a whole number');
    const months = last === 'MONTH' ? Number(m[1]) * 12 + Number(m[2]) : Number(m[1]) * (first === 'YEAR' ? 12 : 1);
    return { months: sign * months, millis: 0, text };
  }
  if (!(first in MILLIS) || (last !== undefined && !(last in MILLIS))) throw invalid(`${text}: unknown interval unit; Flink takes YEAR, MONTH, DAY, HOUR, MINUTE, SECOND and their ranges (YEAR TO MONTH, DAY TO SECOND, …)`, pos(scope, node));
  // The fields from `first` down to `last`: DAY TO SECOND is 'd hh:mm:ss.fff'.
  const order = ['DAY', 'HOUR', 'MINUTE', 'SECOND'];
  const fields = order.slice(order.indexOf(first), order.indexOf(last ?? first) + 1);
  const parts = body.split(/[ :]/);
  if (parts.length !== fields.length || parts.some((p, k) => !(k === parts.length - 1 && fields[k] === 'SECOND' ? /^\d+(\.\d*)?$/ : /^\d+$/).test(p))) {
    throw bad(fields.length === 1 ? 'a number' : `'${fields.map((f) => f[0]!.toLowerCase()).join(' ')}' fields (${fields.join(', ')})`);
  }
  let millis = 0;
  fields.forEach((f, k) => {
    const p = parts[k]!;
    // Whole milliseconds, as Flink keeps them: '1.2345' SECOND is 1234 ms.
    millis += f === 'SECOND' ? Number(p.split('.')[0]) * 1000 + Number((p.split('.')[1] ?? '').padEnd(3, '0').slice(0, 3)) : Number(p) * MILLIS[f]!;
  });
  return { months: 0, millis: sign * millis, text };
}

/**
 * `t ± interval`. A TIMESTAMP or TIMESTAMP_LTZ keeps its type; a DATE stays a DATE for every
 * unit, moved by whole days (PyFlink 1.19.3: DATE '2024-01-31' + INTERVAL '25' HOUR is
 * 2024-02-01, + INTERVAL '1' HOUR the same day) — unlike TIMESTAMPADD, which makes it a TIMESTAMP.
 * TIMESTAMP_LTZ moves on the UTC instant, months too (Flink adds months to the epoch millis).
 */
export function intervalArithmetic(op: '+' | '-', t: Compiled, iv: Interval, scope: Scope, node: AstNode): Compiled {
  const kind = t.type.kind;
  if (kind !== 'timestamp' && kind !== 'timestamp_ltz' && kind !== 'date' && kind !== 'null') {
    throw invalid(`${op === '+' ? 'adding' : 'subtracting'} ${iv.text} needs a TIMESTAMP, TIMESTAMP_LTZ or DATE, found ${typeName(t.type)}`, pos(scope, node));
  }
  const sign = op === '+' ? 1 : -1;
  const months = sign * iv.months;
  const millis = sign * iv.millis;
  if (kind === 'null') return fold({ type: t.type, eval: () => null, constant: true });
  if (kind === 'date') {
    // Java's integer division, toward zero: DATE - INTERVAL '1' HOUR is the same day.
    const days = Math.trunc(millis / 86_400_000);
    return strict(withNullable(t.type, t.type.nullable), [t], (d: number) => {
      const moved = months !== 0 ? Math.floor(addMonths(d * MICROS_PER_DAY, months) / MICROS_PER_DAY) : d + days;
      return checked(iv, moved * MICROS_PER_DAY) / MICROS_PER_DAY;
    });
  }
  return strict(t.type, [t], (v: number) => checked(iv, months !== 0 ? addMonths(v, months) : v + millis * MICROS_PER_MILLI));
}

function checked(iv: Interval, micros: number): number {
  const why = timestampRangeReason(micros);
  if (why !== null) throw new ExpressionError(`${iv.text}: ${why}`);
  return micros;
}
