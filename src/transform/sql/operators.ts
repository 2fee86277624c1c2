// Operators: NOT, unary minus, comparisons, AND / OR, IS tests, IN, BETWEEN, arithmetic and
// CASE, each with SQL's NULL rules (three-valued logic, NULL in → NULL out).

import { intervalArithmetic, intervalOf } from './interval-arithmetic.js';
import type { SqlType } from '../../schema/sql-types.js';
import { castTo } from './cast.js';
import { ExpressionError, fold, requireBoolean, type Compiled, type Scope } from './expression.js';
import { compileFunction } from './functions.js';
import { coerced, decimalArithmetic } from './decimal-ops.js';
import { functionName, invalid, unsupported, type AstNode } from './parse.js';
import { SYMMETRIC_MARK } from './keyword-forms.js';
import {
  NULL_TYPE,
  commonType,
  decimalType,
  isIntegral,
  isNumeric,
  simple,
  typeName,
  widerNumeric,
  withNullable,
  type ExprType,
} from './types.js';

export function not(a: Compiled, scope: Scope, node: AstNode): Compiled {
  requireBoolean(a, scope, 'the operand of NOT');
  const f = a.eval;
  void node;
  return fold({ type: withNullable(simple('boolean'), a.type.nullable), eval: (i) => { const v = f(i); return v === null ? null : !v; }, constant: a.constant });
}

export function unary(node: AstNode, scope: Scope): Compiled {
  const a = scope.compile(node.expr);
  const op = String(node.operator).toUpperCase();
  if (op === 'NOT') return not(a, scope, node);
  if (!isNumeric(a.type) && a.type.kind !== 'null') throw invalid(`unary ${op} needs a number, found ${typeName(a.type)}`);
  if (op === '+') return a;
  const f = a.eval;
  const int = a.type.kind === 'int';
  return fold({ type: a.type, eval: (i) => { const v = f(i) as number | null; return v === null ? null : int ? -v | 0 : -v; }, constant: a.constant });
}

/**
 * Brings a string literal compared with a DATE or TIMESTAMP to that type, as Flink's implicit
 * coercion does (`ts > '2024-01-01 00:00:00'`).
 */
function coerceLiteral(c: Compiled, to: ExprType, scope: Scope): Compiled {
  if (!c.constant || c.type.kind !== 'string') return c;
  if (to.kind === 'date' || to.kind === 'timestamp' || to.kind === 'timestamp_ltz') return fold(castTo(c, withNullable(to, false) as SqlType, scope, false));
  return c;
}

function comparable(a: Compiled, b: Compiled, scope: Scope, op: string): [Compiled, Compiled] {
  a = coerceLiteral(a, b.type, scope);
  b = coerceLiteral(b, a.type, scope);
  const common = commonType([a.type, b.type]);
  if (common === null) throw invalid(`cannot compare ${typeName(a.type)} with ${typeName(b.type)} (${op}); CAST one side`);
  // Both sides at the common type: DECIMALs at one scale, or a DECIMAL as a double beside a DOUBLE.
  return [coerced(a, common, false), coerced(b, common, false)];
}

function cmp(a: unknown, b: unknown): number {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b);
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

const COMPARE: Record<string, (c: number) => boolean> = {
  '=': (c) => c === 0,
  '<>': (c) => c !== 0,
  '!=': (c) => c !== 0,
  '<': (c) => c < 0,
  '<=': (c) => c <= 0,
  '>': (c) => c > 0,
  '>=': (c) => c >= 0,
};

export function binary(node: AstNode, scope: Scope): Compiled {
  const op = String(node.operator).toUpperCase();
  if (op === 'IN' || op === 'NOT IN') return inList(node, scope, op === 'NOT IN');
  if (op === 'BETWEEN' || op === 'NOT BETWEEN') return between(node, scope, op === 'NOT BETWEEN');
  // An interval literal on either side of + (the right of -) moves a time (interval-arithmetic.ts).
  if ((op === '+' || op === '-') && node.right?.type === 'interval') return intervalArithmetic(op, scope.compile(node.left), intervalOf(node.right, scope), scope, node);
  if (op === '+' && node.left?.type === 'interval') return intervalArithmetic(op, scope.compile(node.right), intervalOf(node.left, scope), scope, node);
  const a = scope.compile(node.left);
  if (op === 'IS' || op === 'IS NOT') return isTest(a, node.right, scope, op === 'IS NOT');
  const b = scope.compile(node.right);
  const k = a.constant && b.constant;
  const fa = a.eval;
  const fb = b.eval;
  const nullable = a.type.nullable || b.type.nullable;
  switch (op) {
    case 'AND':
    case 'OR': {
      requireBoolean(a, scope, `the left side of ${op}`);
      requireBoolean(b, scope, `the right side of ${op}`);
      const type = withNullable(simple('boolean'), nullable);
      if (op === 'AND') {
        return fold({ type, constant: k, eval: (i) => {
          const x = fa(i);
          if (x === false) return false;
          const y = fb(i);
          if (y === false) return false;
          return x === null || y === null ? null : true;
        } });
      }
      return fold({ type, constant: k, eval: (i) => {
        const x = fa(i);
        if (x === true) return true;
        const y = fb(i);
        if (y === true) return true;
        return x === null || y === null ? null : false;
      } });
    }
    case 'IS DISTINCT FROM':
    case 'IS NOT DISTINCT FROM': {
      const [x, y] = comparable(a, b, scope, op);
      const distinct = op === 'IS DISTINCT FROM';
      const gx = x.eval;
      const gy = y.eval;
      return fold({ type: simple('boolean', false), constant: k, eval: (i) => {
        const u = gx(i);
        const v = gy(i);
        const same = u === null || v === null ? u === v : cmp(u, v) === 0;
        return distinct ? !same : same;
      } });
    }
    case 'LIKE':
    case 'NOT LIKE':
      return compileFunction(op === 'LIKE' ? 'LIKE' : 'NOT LIKE', node.right.escape ? [a, b, scope.compile(node.right.escape.value)] : [a, b], scope, node);
    case '||':
      return compileFunction('||', [a, b], scope, node);
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
      return arithmetic(op, a, b, scope);
    default: {
      const test = COMPARE[op];
      if (test === undefined) throw unsupported(`operator ${op}`, null, 'not implemented');
      const [x, y] = comparable(a, b, scope, op);
      const gx = x.eval;
      const gy = y.eval;
      return fold({ type: withNullable(simple('boolean'), nullable), constant: k, eval: (i) => {
        const u = gx(i);
        if (u === null) return null;
        const v = gy(i);
        if (v === null) return null;
        return test(cmp(u, v));
      } });
    }
  }
}

function isTest(a: Compiled, right: AstNode, scope: Scope, negate: boolean): Compiled {
  const f = a.eval;
  const type = simple('boolean', false);
  if (right.type === 'null') return fold({ type, constant: a.constant, eval: (i) => (f(i) === null) !== negate });
  if (right.type === 'bool') {
    requireBoolean(a, scope, 'the operand of IS TRUE / IS FALSE');
    const want = Boolean(right.value);
    return fold({ type, constant: a.constant, eval: (i) => (f(i) === want) !== negate });
  }
  throw unsupported(`IS ${negate ? 'NOT ' : ''}${String(right.type).toUpperCase()}`, null, 'not implemented');
}

function inList(node: AstNode, scope: Scope, negate: boolean): Compiled {
  const x = scope.compile(node.left);
  const list = ((node.right?.value ?? []) as AstNode[]).map((n) => scope.compile(n));
  const literals = list.map((c) => coerceLiteral(c, x.type, scope));
  for (const c of literals) comparable(x, c, scope, negate ? 'NOT IN' : 'IN');
  // Every item and the operand at one type, so a DECIMAL compares by value whatever its scale.
  const common = commonType([x.type, ...literals.map((c) => c.type)]) ?? x.type;
  const items = literals.map((c) => coerced(c, common, false));
  const fx = coerced(x, common, false).eval;
  const nullable = x.type.nullable || items.some((c) => c.type.nullable);
  const type = withNullable(simple('boolean'), nullable);
  if (items.every((c) => c.constant) && x.type.kind !== 'bytes') {
    const values = items.map((c) => c.eval(0));
    const hasNull = values.includes(null);
    const set = new Set(values.filter((v) => v !== null));
    return fold({ type, constant: x.constant, eval: (i) => {
      const v = fx(i);
      if (v === null) return null;
      if (set.has(v)) return !negate;
      return hasNull ? null : negate;
    } });
  }
  const fs = items.map((c) => c.eval);
  return fold({ type, constant: x.constant && items.every((c) => c.constant), eval: (i) => {
    const v = fx(i);
    if (v === null) return null;
    let sawNull = false;
    for (const f of fs) {
      const w = f(i);
      if (w === null) sawNull = true;
      else if (cmp(v, w) === 0) return !negate;
    }
    return sawNull ? null : negate;
  } });
}

/** The bound inside BETWEEN SYMMETRIC's marker (keyword-forms.ts), or null for a plain bound. */
function symmetricBound(n: AstNode): AstNode | null {
  if (n.type !== 'function' || functionName(n) !== SYMMETRIC_MARK) return null;
  const args = (n.args?.value ?? []) as AstNode[];
  return args.length === 1 ? args[0]! : null;
}

function between(node: AstNode, scope: Scope, negate: boolean): Compiled {
  const x = scope.compile(node.left);
  const [markedLow, highNode] = node.right.value as AstNode[];
  const symmetricLow = symmetricBound(markedLow!);
  const lowNode = symmetricLow ?? markedLow!;
  const lowLiteral = coerceLiteral(scope.compile(lowNode), x.type, scope);
  const highLiteral = coerceLiteral(scope.compile(highNode!), x.type, scope);
  comparable(x, lowLiteral, scope, 'BETWEEN');
  comparable(x, highLiteral, scope, 'BETWEEN');
  const common = commonType([x.type, lowLiteral.type, highLiteral.type]) ?? x.type;
  const [low, high] = [coerced(lowLiteral, common, false), coerced(highLiteral, common, false)];
  const fx = coerced(x, common, false).eval;
  const fl = low.eval;
  const fh = high.eval;
  const nullable = x.type.nullable || low.type.nullable || high.type.nullable;
  // x BETWEEN a AND b ≡ x >= a AND x <= b, with Kleene AND over the two NULL-able comparisons;
  // SYMMETRIC is Calcite's (x >= a AND x <= b) OR (x >= b AND x <= a), Kleene OR over the two
  // (so a NULL bound always gives NULL: 9 BETWEEN NULL AND 5 is FALSE, 9 BETWEEN SYMMETRIC NULL
  // AND 5 is NULL).
  const within = (v: unknown, l: unknown, h: unknown): boolean | null => {
    const ge = l === null ? null : cmp(v, l) >= 0;
    const le = h === null ? null : cmp(v, h) <= 0;
    return ge === false || le === false ? false : ge === null || le === null ? null : true;
  };
  return fold({ type: withNullable(simple('boolean'), nullable), constant: x.constant && low.constant && high.constant, eval: (i) => {
    const v = fx(i);
    if (v === null) return null;
    const l = fl(i);
    const h = fh(i);
    let r = within(v, l, h);
    if (symmetricLow !== null && r !== true) {
      const swapped = within(v, h, l);
      r = swapped === true ? true : r === null || swapped === null ? null : false;
    }
    return r === null ? null : r !== negate;
  } });
}

/** Flink's LogicalTypeMerging.adjustPrecisionScale: past 38 digits, keep integer digits, cut scale (not below 6). */
function boundedDecimal(precision: number, scale: number, nullable: boolean): SqlType {
  if (precision <= 38) return decimalType(precision, scale, nullable);
  const intDigits = precision - scale;
  return decimalType(38, Math.max(38 - intDigits, Math.min(scale, 6)), nullable);
}

/**
 * Result type of arithmetic: integers widen, anything with FLOAT/DOUBLE is DOUBLE, decimals follow
 * Flink 1.19 LogicalTypeMerging (find{Addition,Multiplication,Division,Modulo}DecimalType, then
 * adjustPrecisionScale): + and -: scale max(s1, s2), precision max(p1 - s1, p2 - s2) + scale + 1;
 * *: p1 + p2, s1 + s2; /: scale max(6, s1 + p2 + 1), precision p1 - s1 + s2 + scale; %: scale
 * max(s1, s2), precision min(p1 - s1, p2 - s2) + scale; past 38 digits the integer digits are kept
 * and the scale cut, not below min(scale, 6). INT is DECIMAL(10, 0) here and BIGINT DECIMAL(19, 0).
 * Values are exact (decimal-ops.ts) and NULL when they overflow, so a DECIMAL result is nullable.
 */
function arithmeticType(op: string, a: SqlType, b: SqlType, nullable: boolean): SqlType {
  if (a.kind === 'decimal' || b.kind === 'decimal') {
    if (a.kind === 'double' || b.kind === 'double' || a.kind === 'float' || b.kind === 'float') return simple('double', nullable);
    const [p1, s1] = a.kind === 'decimal' ? [a.precision, a.scale] : [a.kind === 'int' ? 10 : 19, 0];
    const [p2, s2] = b.kind === 'decimal' ? [b.precision, b.scale] : [b.kind === 'int' ? 10 : 19, 0];
    switch (op) {
      case '*':
        return boundedDecimal(p1 + p2, s1 + s2, nullable);
      case '/': {
        const scale = Math.max(6, s1 + p2 + 1);
        const precision = p1 - s1 + s2 + scale;
        return precision > 38 ? decimalType(38, Math.max(6, 38 - (precision - scale)), nullable) : decimalType(precision, scale, nullable);
      }
      case '%': {
        const scale = Math.max(s1, s2);
        return boundedDecimal(Math.min(p1 - s1, p2 - s2) + scale, scale, nullable);
      }
      default: {
        const scale = Math.max(s1, s2);
        return boundedDecimal(Math.max(p1 - s1, p2 - s2) + scale + 1, scale, nullable);
      }
    }
  }
  // Calcite's NULLABLE_MOD, which Flink keeps: an integer remainder has the divisor's type, so
  // BIGINT % INT is INT (its magnitude is below the divisor's). PyFlink 1.19.3: MOD(b, 3) is INT.
  if (op === '%' && isIntegral(a) && isIntegral(b)) return withNullable(b, nullable);
  return widerNumeric(a, b, nullable);
}

function arithmetic(op: string, a: Compiled, b: Compiled, scope: Scope): Compiled {
  for (const c of [a, b]) if (!isNumeric(c.type) && c.type.kind !== 'null') throw invalid(`${op} needs numbers, found ${typeName(a.type)} ${op} ${typeName(b.type)}`);
  const type = a.type.kind === 'null' || b.type.kind === 'null' ? NULL_TYPE : arithmeticType(op, a.type as SqlType, b.type as SqlType, a.type.nullable || b.type.nullable);
  if (type.kind === 'decimal') {
    const out = withNullable(type, true);
    return fold({ type: out, constant: a.constant && b.constant, eval: decimalArithmetic(op, a, b, out) });
  }
  if (type.kind === 'double' || type.kind === 'float') {
    // A DECIMAL operand beside a DOUBLE or FLOAT takes part as its nearest double.
    a = coerced(a, type, false);
    b = coerced(b, type, false);
  }
  const fa = a.eval;
  const fb = b.eval;
  const kind = type.kind;
  const integral = isIntegral(type);
  let f: (x: number, y: number) => number;
  switch (op) {
    case '+': f = kind === 'int' ? (x, y) => (x + y) | 0 : (x, y) => x + y; break;
    case '-': f = kind === 'int' ? (x, y) => (x - y) | 0 : (x, y) => x - y; break;
    case '*': f = kind === 'int' ? (x, y) => Math.imul(x, y) : (x, y) => x * y; break;
    case '/':
      f = integral
        ? (x, y) => { if (y === 0) throw new ExpressionError('division by zero'); return integral ? Math.trunc(x / y) : x / y; }
        : (x, y) => x / y;
      break;
    default:
      f = integral
        ? (x, y) => { if (y === 0) throw new ExpressionError('division by zero'); return x % y; }
        : (x, y) => x % y;
  }
  const bigint = kind === 'bigint';
  const float = kind === 'float';
  return fold({ type, constant: a.constant && b.constant, eval: (i) => {
    const x = fa(i) as number | bigint | null;
    if (x === null) return null;
    const y = fb(i) as number | bigint | null;
    if (y === null) return null;
    if (typeof x === 'bigint' || typeof y === 'bigint') {
      // A remainder typed INT may still have a BIGINT dividend beyond 2^53: taken exactly.
      return bigint || op === '%' ? exactLong(op, x, y) : f(Number(x), Number(y));
    }
    const r = f(x, y);
    // Doubles lose integers past 2^53: redo such a BIGINT result exactly, with Java's long overflow.
    if (bigint && !Number.isSafeInteger(r)) return exactLong(op, x, y);
    return float ? Math.fround(r) : r;
  } });
}

/** BIGINT arithmetic in 64 bits exactly, wrapping on overflow as Java's long does. */
function exactLong(op: string, x: number | bigint, y: number | bigint): number | bigint {
  const a = BigInt(x);
  const b = BigInt(y);
  let r: bigint;
  switch (op) {
    case '+': r = a + b; break;
    case '-': r = a - b; break;
    case '*': r = a * b; break;
    default:
      if (b === 0n) throw new ExpressionError('division by zero');
      r = op === '/' ? a / b : a % b;
  }
  r = BigInt.asIntN(64, r);
  return r >= -9007199254740991n && r <= 9007199254740991n ? Number(r) : r;
}

export function caseWhen(node: AstNode, scope: Scope): Compiled {
  const subject = node.expr ? scope.compile(node.expr) : null;
  const whens: Array<{ cond: Compiled; result: Compiled }> = [];
  let otherwise: Compiled | null = null;
  for (const arm of node.args as AstNode[]) {
    if (arm.type === 'when') {
      let cond = scope.compile(arm.cond);
      if (subject !== null) {
        const [x, y] = comparable(subject, coerceLiteral(cond, subject.type, scope), scope, 'CASE');
        const gx = x.eval;
        const gy = y.eval;
        cond = { type: simple('boolean'), constant: false, eval: (i) => { const u = gx(i); const v = gy(i); return u === null || v === null ? null : cmp(u, v) === 0; } };
      } else requireBoolean(cond, scope, 'a WHEN condition');
      whens.push({ cond, result: scope.compile(arm.result) });
    } else otherwise = scope.compile(arm.result);
  }
  const results = [...whens.map((w) => w.result), ...(otherwise === null ? [] : [otherwise])];
  const common = commonType(results.map((r) => r.type));
  if (common === null) throw invalid(`CASE branches have incompatible types ${results.map((r) => typeName(r.type)).join(', ')}`);
  const type = withNullable(common, common.nullable || otherwise === null);
  const conds = whens.map((w) => w.cond.eval);
  const vals = whens.map((w) => coerced(w.result, type, true).eval);
  const other = otherwise === null ? () => null : coerced(otherwise, type, true).eval;
  const n = conds.length;
  if (n === 1) {
    const c0 = conds[0]!;
    const v0 = vals[0]!;
    return { type, constant: false, eval: (i) => (c0(i) === true ? v0(i) : other(i)) };
  }
  return { type, constant: false, eval: (i) => {
    for (let k = 0; k < n; k++) if (conds[k]!(i) === true) return vals[k]!(i);
    return other(i);
  } };
}

