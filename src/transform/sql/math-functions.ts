// Math functions beyond arithmetic: POWER, SQRT, LN, LOG10, LOG2, LOG, EXP, PI, SIGN, TRUNCATE. MOD is
// the `%` operator (compile.ts), so both share one typing (Calcite's NULLABLE_MOD: an integer
// remainder has the divisor's type) and one evaluation.
//
// Result types and values are Flink 1.19's, checked against PyFlink 1.19.3: the transcendental
// functions are DOUBLE through java.lang.Math (so SQRT(-1) and LN(-1) are NaN and LN(0) is
// -Infinity, not errors); SIGN keeps its argument's type; TRUNCATE keeps it too, except a DECIMAL,
// which is typed as ROUND types it (LogicalTypeMerging.findRoundDecimalType).

import { decimalFromNumber, decimalToNumber, pow10 } from '../decimal.js';
import { fold } from './expression.js';
import { arity, constantArg, INTEGER, requireKind, strict, type Impl } from './function-kit.js';
import { coerced } from './decimal-ops.js';
import { decimalType, simple, withNullable } from './types.js';

const NUMERIC = ['int', 'bigint', 'decimal', 'float', 'double'];

/** A function of doubles: every argument a number, a DECIMAL taking part as its nearest double. */
function doubleFunction(name: string, n: number, f: (...x: number[]) => number): Impl {
  return (args, scope, node) => {
    arity(name, args, n, n, scope, node);
    for (const a of args) requireKind(name, a, NUMERIC, scope, node);
    const asDouble = args.map((a) => coerced(a, simple('double'), false));
    const nullable = args.some((a) => a.type.nullable);
    return strict(simple('double', nullable), asDouble, (...v: Array<number | bigint>) => f(...v.map(Number)));
  };
}

/** SIGN: the argument's type (Calcite ARG0); a DECIMAL's sign at its own scale, so -1.000. */
const sign: Impl = (args, scope, node) => {
  arity('SIGN', args, 1, 1, scope, node);
  requireKind('SIGN', args[0]!, NUMERIC, scope, node);
  const t = args[0]!.type;
  switch (t.kind) {
    case 'null':
      return args[0]!;
    case 'decimal': {
      const one = pow10(t.scale);
      return strict(t, args, (v: bigint) => (v > 0n ? one : v < 0n ? -one : 0n));
    }
    case 'bigint':
      return strict(t, args, (v: number | bigint) => (v > 0 ? 1 : v < 0 ? -1 : 0));
    default:
      // Math.signum keeps NaN and the sign of zero, as JS's Math.sign does.
      return strict(t, args, (v: number) => Math.sign(v));
  }
};

/**
 * TRUNCATE(x [, r]): toward zero at r digits after the point (before it when r < 0). Integers
 * with r ≥ 0 and DECIMALs with r ≥ their scale are themselves; a DOUBLE goes through its shortest
 * text, as Flink's SqlFunctionUtils.struncate does through BigDecimal.valueOf(…).setScale(r, DOWN).
 */
const truncate: Impl = (args, scope, node) => {
  arity('TRUNCATE', args, 1, 2, scope, node);
  requireKind('TRUNCATE', args[0]!, NUMERIC, scope, node);
  if (args.length === 2) requireKind('TRUNCATE', args[1]!, INTEGER, scope, node, 'the number of digits');
  const rv = args.length === 2 ? constantArg('TRUNCATE', args[1]!, scope, node, 'the number of digits') : 0;
  const x = args[0]!;
  const t = x.type;
  if (rv === null) return fold({ type: withNullable(t, true), constant: true, eval: () => null });
  const r = Number(rv);
  switch (t.kind) {
    case 'null':
      return x;
    case 'decimal': {
      const { precision: p, scale: s } = t;
      if (r >= s) return x;
      const out = r < 0 ? decimalType(Math.min(38, 1 + p - s), 0, t.nullable) : decimalType(1 + p - s + r, r, t.nullable);
      const cut = pow10(s - r);
      const back = r < 0 ? pow10(-r) : 1n;
      // bigint division truncates toward zero: exactly RoundingMode.DOWN.
      return strict(out, [x], (v: bigint) => (v / cut) * back);
    }
    case 'int':
    case 'bigint': {
      if (r >= 0) return x;
      const m = pow10(-r);
      const int = t.kind === 'int';
      return strict(t, [x], (v: number | bigint) => {
        const u = (BigInt(v) / m) * m;
        return int || (u >= -9007199254740991n && u <= 9007199254740991n) ? Number(u) : u;
      });
    }
    default: {
      const f32 = t.kind === 'float';
      return strict(t, [x], (v: number) => {
        if (!Number.isFinite(v)) return v;
        const digits = Math.max(r, 0) + 20;
        const exact = decimalFromNumber(v, digits);
        const cut = pow10(digits - r);
        const d = r >= 0 ? decimalToNumber(exact / cut, r) : decimalToNumber((exact / cut) * pow10(-r), 0);
        return f32 ? Math.fround(d) : d;
      });
    }
  }
};

/** LOG(x) is LN(x); LOG(b, x) is LN(x) / LN(b) (Flink's SqlFunctionUtils.log). */
const log: Impl = (args, scope, node) => {
  arity('LOG', args, 1, 2, scope, node);
  return args.length === 1 ? doubleFunction('LOG', 1, Math.log)(args, scope, node) : doubleFunction('LOG', 2, (b, x) => Math.log(x) / Math.log(b))(args, scope, node);
};

export const MATH_FUNCTIONS: Record<string, Impl> = {
  LOG: log,
  PI: (args, scope, node) => {
    arity('PI', args, 0, 0, scope, node);
    return { type: simple('double', false), constant: true, eval: () => Math.PI };
  },
  POWER: doubleFunction('POWER', 2, Math.pow),
  POW: doubleFunction('POW', 2, Math.pow),
  SQRT: doubleFunction('SQRT', 1, Math.sqrt),
  LN: doubleFunction('LN', 1, Math.log),
  LOG10: doubleFunction('LOG10', 1, Math.log10),
  LOG2: doubleFunction('LOG2', 1, (x) => Math.log(x) / Math.LN2),
  EXP: doubleFunction('EXP', 1, Math.exp),
  SIGN: sign,
  TRUNCATE: truncate,
};
