// DECIMAL in compiled SQL: arithmetic, ABS / ROUND / FLOOR / CEIL, and the conversions where a
// DECIMAL meets another numeric type (comparison, CASE, COALESCE, IF). All of it runs on the
// unscaled bigints of ../decimal.ts, never on doubles.
//
// Result types are Flink 1.19 LogicalTypeMerging's (find{Addition,Multiplication,Division,
// Modulo,Round}DecimalType and adjustPrecisionScale, in operators.ts and below). Values follow
// Flink's DecimalDataUtils: the exact result is brought to the result type's scale HALF_UP
// (DecimalData.fromBigDecimal), and a result beyond the type's precision is NULL. Division by
// zero is an error for the record (Java's ArithmeticException), as for integers.

import type { SqlType } from '../../schema/sql-types.js';
import { decimalFromNumber, decimalToNumber, divideHalfUp, fitsPrecision, pow10, rescale } from '../decimal.js';
import { ExpressionError, fold, type Compiled, type Eval, type Scope } from './expression.js';
import { invalid, type AstNode } from './parse.js';
import { arity, constantArg, requireKind, strict, type Impl } from './function-kit.js';
import { decimalType, isIntegral, typeName, withNullable, type ExprType } from './types.js';

type DecimalType = Extract<SqlType, { kind: 'decimal' }>;

/** Scale of a DECIMAL or integer operand; integers are DECIMAL(10, 0) / DECIMAL(19, 0) to Flink. */
function scaleOf(t: ExprType): number {
  return t.kind === 'decimal' ? t.scale : 0;
}

/** An operand's value as an unscaled bigint at its own scale. */
function unscaledReader(t: ExprType): (v: unknown) => bigint {
  return t.kind === 'decimal' ? (v) => v as bigint : (v) => BigInt(v as number | bigint);
}

/**
 * `a op b` where the result type is DECIMAL (both operands DECIMAL or integer). The exact result
 * is formed at the scale the operation gives (max(s1, s2), s1 + s2), then rounded HALF_UP to the
 * result type's scale, which adjustPrecisionScale may have cut to keep 38 digits.
 */
export function decimalArithmetic(op: string, a: Compiled, b: Compiled, type: DecimalType): Eval {
  const [s1, s2, s] = [scaleOf(a.type), scaleOf(b.type), type.scale];
  const [ra, rb] = [unscaledReader(a.type), unscaledReader(b.type)];
  const fa = a.eval;
  const fb = b.eval;
  const p = type.precision;
  const fit = (u: bigint) => (fitsPrecision(u, p) ? u : null);
  const common = Math.max(s1, s2);
  let f: (x: bigint, y: bigint) => bigint | null;
  switch (op) {
    case '+':
      f = (x, y) => fit(rescale(rescale(x, s1, common) + rescale(y, s2, common), common, s));
      break;
    case '-':
      f = (x, y) => fit(rescale(rescale(x, s1, common) - rescale(y, s2, common), common, s));
      break;
    case '*':
      f = (x, y) => fit(rescale(x * y, s1 + s2, s));
      break;
    case '/': {
      // x/10^s1 ÷ y/10^s2 at scale s = (x · 10^(s2 + s - s1)) / y, HALF_UP (BigDecimal.divide(…, s, HALF_UP)).
      const up = s2 + s - s1;
      f = (x, y) => {
        if (y === 0n) throw new ExpressionError('division by zero');
        return fit(up >= 0 ? divideHalfUp(x * pow10(up), y) : divideHalfUp(x, y * pow10(-up)));
      };
      break;
    }
    default:
      // BigDecimal.remainder: the sign of the dividend, as bigint's %.
      f = (x, y) => {
        if (y === 0n) throw new ExpressionError('division by zero');
        return fit(rescale(rescale(x, s1, common) % rescale(y, s2, common), common, s));
      };
  }
  return (i) => {
    const x = fa(i);
    if (x === null) return null;
    const y = fb(i);
    if (y === null) return null;
    return f(ra(x), rb(y));
  };
}

/**
 * How a value of `from` is brought to `to` where two numeric types meet; null when it keeps its
 * representation. `fit`: a DECIMAL beyond `to`'s precision becomes NULL (a CASE or COALESCE
 * result); off for comparisons, which only need both sides at one scale.
 */
export function numericCoercion(from: ExprType, to: ExprType, fit: boolean): ((v: unknown) => unknown) | null {
  if (to.kind === 'decimal') {
    const { precision, scale } = to;
    const check = fit ? (u: bigint) => (fitsPrecision(u, precision) ? u : null) : (u: bigint) => u;
    if (from.kind === 'decimal') return from.scale === scale && (!fit || from.precision <= precision) ? null : (v) => check(rescale(v as bigint, from.scale, scale));
    if (isIntegral(from)) {
      const m = pow10(scale);
      return (v) => check(BigInt(v as number | bigint) * m);
    }
    if (from.kind === 'float' || from.kind === 'double') return (v) => (Number.isFinite(v) ? check(decimalFromNumber(v as number, scale)) : null);
    return null;
  }
  if ((to.kind === 'double' || to.kind === 'float') && from.kind === 'decimal') {
    const s = from.scale;
    return (v) => decimalToNumber(v as bigint, s);
  }
  return null;
}

/** `c` brought to `to` by numericCoercion; `c` itself when nothing changes. */
export function coerced(c: Compiled, to: ExprType, fit: boolean): Compiled {
  const conv = numericCoercion(c.type, to, fit);
  if (conv === null) return c;
  const f = c.eval;
  const nullable = c.type.nullable || (fit && to.kind === 'decimal');
  return fold({ type: withNullable(to, nullable), constant: c.constant, eval: (i) => { const v = f(i); return v === null ? null : conv(v); } });
}

const NUMERIC = ['int', 'bigint', 'decimal', 'float', 'double'];

/** ABS: the argument's type (Flink); INT and BIGINT wrap at their minimum, as Java's Math.abs. */
function abs(args: Compiled[], scope: Scope, node: AstNode): Compiled {
  arity('ABS', args, 1, 1, scope, node);
  requireKind('ABS', args[0]!, NUMERIC, scope, node);
  const t = args[0]!.type;
  if (t.kind === 'null') return args[0]!;
  if (t.kind === 'int') return strict(t, args, (v: number) => Math.abs(v) | 0);
  if (t.kind === 'float' || t.kind === 'double') return strict(t, args, (v: number) => Math.abs(v));
  return strict(t, args, (v: number | bigint) => (v < 0 ? -v : v));
}

/**
 * ROUND(x [, r]), HALF_UP. DECIMAL(p, s) gives findRoundDecimalType(p, s, r): itself when r ≥ s,
 * DECIMAL(1 + p - s + r, r) when 0 ≤ r < s, DECIMAL(min(38, 1 + p - s), 0) when r < 0. Other
 * numbers keep their type, rounded as Flink's SqlFunctionUtils.sround through BigDecimal.valueOf.
 */
function round(args: Compiled[], scope: Scope, node: AstNode): Compiled {
  arity('ROUND', args, 1, 2, scope, node);
  requireKind('ROUND', args[0]!, NUMERIC, scope, node);
  const rv = args.length === 2 ? constantArg('ROUND', args[1]!, scope, node, 'the number of digits') : 0;
  if (args.length === 2) requireKind('ROUND', args[1]!, ['int', 'bigint'], scope, node, 'the number of digits');
  if (rv === null) return fold({ type: withNullable(args[0]!.type, true), constant: true, eval: () => null });
  const r = Number(rv);
  const x = args[0]!;
  const t = x.type;
  if (t.kind === 'null') return x;
  if (t.kind === 'decimal') {
    const { precision: p, scale: s } = t;
    if (r >= s) return x;
    const out = r < 0 ? decimalType(Math.min(38, 1 + p - s), 0, true) : decimalType(1 + p - s + r, r, true);
    const back = r < 0 ? pow10(-r) : 1n;
    return strict(out, [x], (v: bigint) => {
      const u = rescale(v, s, r) * back;
      return fitsPrecision(u, out.kind === 'decimal' ? out.precision : 38) ? u : null;
    });
  }
  if (t.kind === 'int' || t.kind === 'bigint') {
    if (r >= 0) return x;
    const m = pow10(-r);
    const int = t.kind === 'int';
    return strict(t, [x], (v: number | bigint) => {
      const u = divideHalfUp(BigInt(v), m) * m;
      return int ? Number(BigInt.asIntN(32, u)) : u >= -9007199254740991n && u <= 9007199254740991n ? Number(u) : BigInt.asIntN(64, u);
    });
  }
  const f32 = t.kind === 'float';
  return strict(t, [x], (v: number) => {
    if (!Number.isFinite(v)) return v;
    const d = roundShortest(v, r);
    return f32 ? Math.fround(d) : d;
  });
}

/**
 * A double rounded HALF_UP at `r` places, once, from its shortest text (BigDecimal.valueOf):
 * digits × 10^k. Not through the decimal parser, whose exponent cap (fit for DECIMAL's 38 digits)
 * turned ROUND(1e308, 0) into 1e200. A double already whole at the rounding place is itself.
 */
function roundShortest(v: number, r: number): number {
  const [mantissa, exponent] = Math.abs(v).toExponential().split('e') as [string, string];
  const frac = mantissa.split('.')[1] ?? '';
  const k = Number(exponent) - frac.length;
  // `+ 0` and the sign check: BigDecimal has no negative zero, so Flink never returns -0.0.
  if (k >= -r) return v + 0;
  const units = divideHalfUp(BigInt(mantissa.replace('.', '')), pow10(-r - k));
  const rounded = Number(`${units}e${-r}`);
  return v < 0 && rounded !== 0 ? -rounded : rounded;
}

/**
 * FLOOR(x) / CEIL(x): DECIMAL(p, s) gives DECIMAL(p, 0) (Calcite's ARG0_OR_EXACT_NO_SCALE, which
 * Flink's planner uses); integers are themselves; FLOAT / DOUBLE keep their type. FLOOR(x TO unit)
 * on a timestamp is not this form and is refused here.
 */
function floorCeil(name: 'FLOOR' | 'CEIL'): Impl {
  return (args, scope, node) => {
    arity(name, args, 1, 1, scope, node);
    if (args[0]!.type.kind !== 'null' && !NUMERIC.includes(args[0]!.type.kind)) throw invalid(`${name}: argument must be a number, found ${typeName(args[0]!.type)} (FLOOR/CEIL … TO unit is not supported)`);
    const x = args[0]!;
    const t = x.type;
    const up = name === 'CEIL';
    if (t.kind === 'decimal') {
      const m = pow10(t.scale);
      return strict(decimalType(t.precision, 0, t.nullable), [x], (v: bigint) => {
        const q = v / m;
        const r = v % m;
        return r === 0n ? q : up ? (v > 0n ? q + 1n : q) : v < 0n ? q - 1n : q;
      });
    }
    if (t.kind === 'float' || t.kind === 'double') return strict(t, [x], up ? Math.ceil : Math.floor);
    return x;
  };
}

export const DECIMAL_FUNCTIONS: Record<string, Impl> = {
  ABS: abs,
  ROUND: round,
  FLOOR: floorCeil('FLOOR'),
  CEIL: floorCeil('CEIL'),
  CEILING: floorCeil('CEIL'),
};
