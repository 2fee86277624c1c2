// CAST and TRY_CAST between the types the transform layer represents, following Flink 1.19's
// "Type Conversion" rules (dev/table/types#casting): a value that cannot be converted is a
// per-record error for CAST (the record becomes a dead letter) and NULL for TRY_CAST.

import type { SqlType } from '../../schema/sql-types.js';
import { MICROS_PER_DAY, daysFromCivil, formatDate, formatTime, formatTimestamp, parseTimestampText, truncateToPrecision, validDate, type SessionZone } from '../time.js';
import { ExpressionError, type Compiled, type Scope } from './expression.js';
import { dateRangeReason, timestampRangeReason } from '../../schema/calendar.js';
import { unsupported } from './parse.js';
import { decimalFromNumber, decimalToNumber, fitsPrecision, formatDecimal, holdsDecimal, parseDecimalText, pow10, rescale } from '../decimal.js';
import { isNumeric, typeName, withNullable, type ExprType } from './types.js';
import { javaDoubleString, javaFloatString } from './java-number-text.js';

// Java's number text (java-number-text.ts), kept importable from here where it always was.
export { javaDoubleString, javaFloatString } from './java-number-text.js';

/** A value's text as CAST(x AS STRING) gives it. */
export function toStringOf(v: unknown, type: ExprType, zone: SessionZone): string {
  switch (type.kind) {
    case 'string':
      return v as string;
    case 'boolean':
      return v ? 'TRUE' : 'FALSE';
    case 'int':
    case 'bigint':
      return String(v);
    case 'double':
      return javaDoubleString(v as number);
    case 'float':
      return javaFloatString(v as number);
    case 'decimal':
      return formatDecimal(v as bigint, type.scale);
    case 'date':
      return formatDate(v as number);
    case 'time':
      return formatTime(v as number, type.precision);
    case 'timestamp':
      return formatTimestamp(v as number, type.precision);
    case 'timestamp_ltz':
      return formatTimestamp(zone.toWall(v as number), type.precision);
    case 'bytes':
    case 'fixed':
      return Buffer.from(v as Uint8Array).toString('utf8');
    default:
      if (type.kind !== 'null' && holdsDecimal(type)) return JSON.stringify(withDecimalDigits(v, type));
      return JSON.stringify(v, (_k, x) => (x instanceof Map ? Object.fromEntries(x) : x));
  }
}

const rawJson = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/**
 * A nested value ready for JSON.stringify with its DECIMAL leaves as their exact digits (a
 * bigint alone would throw, and a double would round): JSON.rawJSON puts the text in as a number.
 */
function withDecimalDigits(v: unknown, t: SqlType): unknown {
  if (v === null || v === undefined) return v;
  switch (t.kind) {
    case 'decimal':
      return rawJson(formatDecimal(v as bigint, t.scale));
    case 'array':
      return (v as unknown[]).map((x) => withDecimalDigits(x, t.element));
    case 'map':
      return Object.fromEntries([...(v as Map<unknown, unknown>)].map(([k, x]) => [String(k), withDecimalDigits(x, t.value)]));
    case 'row': {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(t.fields.map((f) => [f.name, withDecimalDigits(o[f.name], f.type)]));
    }
    default:
      return v;
  }
}

const INTEGER_TEXT = /^[+-]?\d+(\.\d*)?$/;
const NUMBER_TEXT = /^([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?Infinity|NaN)$/;
const TRUE_TEXT = new Set(['true', 't', 'yes', 'y', '1']);
const FALSE_TEXT = new Set(['false', 'f', 'no', 'n', '0']);

type Convert = (v: unknown) => unknown;

function bad(v: unknown, to: SqlType, why?: string): never {
  throw new ExpressionError(`cannot CAST ${typeof v === 'string' ? `'${v.length > 40 ? v.slice(0, 40) + '…' : v}'` : String(v)} AS ${typeName(to)}${why === undefined ? '' : `: ${why}`}`);
}

/**
 * A DATE or TIMESTAMP result held to Flink's years: moving a wall clock to or from the session
 * time zone can cross the end of 9999 or the start of 0000, and such a value would not reach the
 * table intact.
 */
function inRange(v: unknown, to: SqlType, result: number): number {
  const why = to.kind === 'date' ? dateRangeReason(result) : timestampRangeReason(result);
  return why === null ? result : bad(v, to, why);
}

function intRange(to: SqlType): [number, number] {
  return to.kind === 'int' ? [-2147483648, 2147483647] : [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
}

function converter(from: ExprType, to: SqlType, zone: SessionZone): Convert | null {
  const f = from.kind;
  if (f === 'null') return (v) => v;
  switch (to.kind) {
    case 'string':
      return (v) => toStringOf(v, from, zone);
    case 'boolean':
      if (f === 'boolean') return (v) => v;
      if (isNumeric(from)) return (v) => Number(v) !== 0;
      if (f === 'string')
        return (v) => {
          const t = (v as string).trim().toLowerCase();
          return TRUE_TEXT.has(t) ? true : FALSE_TEXT.has(t) ? false : bad(v, to);
        };
      return null;
    case 'int':
    case 'bigint': {
      const [min, max] = intRange(to);
      const check = (n: number, v: unknown) => (Number.isFinite(n) && n >= min && n <= max ? n : bad(v, to));
      const bits = to.kind === 'int' ? 32 : 64;
      // Numbers narrow as Java's casts do, never failing (PyFlink 1.19.3): an integer or a
      // DECIMAL's integer part keeps its low 32 / 64 bits (CAST(2147483648 AS INT) is
      // -2147483648; BigDecimal.longValue, then (int)); a FLOAT / DOUBLE truncates toward zero and
      // saturates at the type's bounds, NaN giving 0 (CAST(1e300 AS BIGINT) is 2^63 - 1).
      if (from.kind === 'decimal') {
        const div = pow10(from.scale);
        return (v) => safe(BigInt.asIntN(bits, (v as bigint) / div));
      }
      if (f === 'int' || f === 'bigint') {
        if (to.kind === 'bigint' || f === 'int') return (v) => v;
        return (v) => (typeof v === 'bigint' ? Number(BigInt.asIntN(32, v)) : (v as number) | 0);
      }
      if (f === 'float' || f === 'double') return (v) => saturate(v as number, bits);
      if (f === 'boolean') return (v) => (v ? 1 : 0);
      // Flink's BinaryStringDataUtil.toLong: surrounding blanks are ignored, a fraction is truncated.
      if (f === 'string')
        return (v) => {
          const t = (v as string).trim();
          return INTEGER_TEXT.test(t) ? check(Math.trunc(Number(t)), v) : bad(v, to);
        };
      return null;
    }
    case 'float':
    case 'double': {
      const round = to.kind === 'float' ? Math.fround : (x: number) => x;
      if (from.kind === 'decimal') {
        const scale = from.scale;
        return (v) => round(decimalToNumber(v as bigint, scale));
      }
      if (isNumeric(from)) return (v) => round(Number(v));
      if (f === 'boolean') return (v) => (v ? 1 : 0);
      if (f === 'string')
        return (v) => {
          const t = (v as string).trim();
          return NUMBER_TEXT.test(t) ? round(Number(t)) : bad(v, to);
        };
      return null;
    }
    case 'decimal': {
      // Exact: the unscaled bigint at the target's scale (decimal.ts), HALF_UP where digits go, as
      // Flink's DecimalData.fromBigDecimal; a value beyond the precision is NULL there and here.
      const { precision, scale } = to;
      const fit = (u: bigint) => (fitsPrecision(u, precision) ? u : null);
      if (from.kind === 'decimal') {
        const s1 = from.scale;
        return (v) => fit(rescale(v as bigint, s1, scale));
      }
      if (f === 'int' || f === 'bigint') return (v) => fit(BigInt(v as number | bigint) * pow10(scale));
      if (f === 'float' || f === 'double') return (v) => (Number.isFinite(v) ? fit(decimalFromNumber(v as number, scale)) : null);
      if (f === 'boolean') return (v) => fit(v ? pow10(scale) : 0n);
      if (f === 'string')
        return (v) => {
          const u = parseDecimalText((v as string).trim(), scale);
          return u === null ? bad(v, to) : fit(u);
        };
      return null;
    }
    case 'date':
      if (f === 'date') return (v) => v;
      if (f === 'timestamp') return (v) => Math.floor((v as number) / MICROS_PER_DAY);
      if (f === 'timestamp_ltz') return (v) => inRange(v, to, Math.floor(zone.toWall(v as number) / MICROS_PER_DAY));
      if (f === 'string') return (v) => flinkDateText(v as string) ?? bad(v, to);
      return null;
    case 'time':
      // Flink's TIME is milliseconds of the day whatever its declared precision: a TIMESTAMP's
      // milliseconds stay in a TIME(0) (PyFlink 1.19.3 writes 12:34:56.789).
      if (f === 'time') return (v) => truncateToPrecision(v as number, to.precision);
      if (f === 'timestamp') return (v) => truncateToPrecision(mod(v as number, MICROS_PER_DAY), 3);
      if (f === 'timestamp_ltz') return (v) => truncateToPrecision(mod(zone.toWall(v as number), MICROS_PER_DAY), 3);
      if (f === 'string') return (v) => flinkTimeText(v as string) ?? bad(v, to);
      return null;
    case 'timestamp':
    case 'timestamp_ltz': {
      const p = to.precision;
      const ltz = to.kind === 'timestamp_ltz';
      // Between the two timestamp kinds the session time zone decides the wall clock.
      const fromWall = ltz ? (w: number) => zone.toInstant(w) : (w: number) => w;
      if (f === 'timestamp') return (v) => inRange(v, to, truncateToPrecision(fromWall(v as number), p));
      if (f === 'timestamp_ltz') return ltz ? (v) => truncateToPrecision(v as number, p) : (v) => inRange(v, to, truncateToPrecision(zone.toWall(v as number), p));
      if (f === 'date') return (v) => inRange(v, to, fromWall((v as number) * MICROS_PER_DAY));
      // A time of day is that time on 1970-01-01 (Flink's TimeToTimestampCastRule).
      if (f === 'time') return (v) => inRange(v, to, truncateToPrecision(fromWall(v as number), p));
      if (f === 'string')
        return (v) => {
          const w = parseTimestampText(v as string);
          return w === null ? bad(v, to) : inRange(v, to, truncateToPrecision(fromWall(w), p));
        };
      return null;
    }
    case 'bytes':
      if (f === 'bytes' || f === 'fixed') return (v) => v;
      if (f === 'string') return (v) => new Uint8Array(Buffer.from(v as string, 'utf8'));
      return null;
    default:
      return null;
  }
}

/** A bigint as a number where that is exact, as BIGINT values are held. */
function safe(q: bigint): number | bigint {
  return q >= -9007199254740991n && q <= 9007199254740991n ? Number(q) : q;
}

/** Java's (int) / (long) of a double: NaN is 0, the fraction goes, beyond the range is the bound. */
function saturate(d: number, bits: 32 | 64): number | bigint {
  if (Number.isNaN(d)) return 0;
  const t = Math.trunc(d);
  if (bits === 32) return Math.min(2147483647, Math.max(-2147483648, t));
  if (t >= 9223372036854775807) return 9223372036854775807n;
  if (t <= -9223372036854775808) return -9223372036854775808n;
  return Number.isSafeInteger(t) ? t : BigInt(t);
}

function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/** Java's String.trim: only characters up to U+0020 count as blanks. */
function javaTrim(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) <= 32) a++;
  while (b > a && s.charCodeAt(b - 1) <= 32) b--;
  return s.slice(a, b);
}

/** Integer.parseInt of text that is all digits: NaN past Integer.MAX_VALUE, where Java throws. */
function unsignedInt(s: string): number {
  const t = javaTrim(s);
  return /^\d+$/.test(t) && Number(t) <= 2147483647 ? Number(t) : NaN;
}

/**
 * Text → DATE as Flink 1.19's CAST reads it (DateTimeUtils.parseDate): what comes before a blank
 * that is not the first character, then `y`, `y-m` or `y-m-d`, each part digits with blanks
 * around them; a missing month or day is 1, so a bare number is a year ('17' is 0017-01-01). The
 * date must exist, in years 0000-9999.
 */
function flinkDateText(text: string): number | null {
  const blank = text.indexOf(' ');
  const s = blank > 0 ? text.slice(0, blank) : text;
  const h1 = s.indexOf('-');
  const h2 = h1 < 0 ? -1 : s.indexOf('-', h1 + 1);
  const y = unsignedInt(h1 < 0 ? s : s.slice(0, h1));
  const m = h1 < 0 ? 1 : unsignedInt(h2 < 0 ? s.slice(h1 + 1) : s.slice(h1 + 1, h2));
  const d = h2 < 0 ? 1 : unsignedInt(s.slice(h2 + 1));
  if (Number.isNaN(y) || Number.isNaN(m) || Number.isNaN(d)) return null;
  return validDate(y, m, d) ? daysFromCivil(y, m, d) : null;
}

/** DateTimeUtils.parseFraction: three digits of milliseconds, the fourth character rounding (any character from '5' up). */
function flinkFraction(v: string): number {
  let multiplier = 100;
  let r = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    r += multiplier * (c >= 48 && c <= 57 ? c - 48 : 0);
    if (multiplier < 10) {
      if (i + 1 < v.length && v.charCodeAt(i + 1) >= 53) r++;
      break;
    }
    multiplier /= 10;
  }
  return r;
}

/**
 * Text → TIME as Flink 1.19's CAST reads it (DateTimeUtils.parseTime): `h[:m[:s[.fff]]]`, each
 * part digits with blanks around them and of any size (rolled over into the day, as the TIME
 * Flink writes is read back: '24:00:00' is 00:00:00), milliseconds rounded at the fourth digit,
 * and a '-' or '+' starting an offset that moves the hour (`hh[:mm]`). Micros of the day, or null.
 */
function flinkTimeText(v: string): number | null {
  let zoneAt = v.indexOf('-');
  let sign = -1;
  if (zoneAt < 0) {
    zoneAt = v.indexOf('+');
    sign = 1;
  }
  let end = v.length;
  let zoneHour = 0;
  let zoneMinute = 0;
  if (zoneAt >= 0) {
    end = zoneAt;
    const colon = v.indexOf(':', zoneAt);
    zoneHour = unsignedInt(colon < 0 ? v.slice(zoneAt + 1) : v.slice(zoneAt + 1, colon));
    zoneMinute = colon < 0 ? 0 : unsignedInt(v.slice(colon + 1));
  }
  // Java's substring throws where a part would end before it begins; TRY_CAST makes that NULL.
  const part = (from: number, to: number) => (to < from ? NaN : unsignedInt(v.slice(from, to)));
  const colon1 = v.indexOf(':');
  let hour: number;
  let minute = 0;
  let second = 0;
  let milli = 0;
  if (colon1 < 0) hour = part(0, end);
  else {
    hour = part(0, colon1);
    const colon2 = v.indexOf(':', colon1 + 1);
    if (colon2 < 0) minute = part(colon1 + 1, end);
    else {
      minute = part(colon1 + 1, colon2);
      const dot = v.indexOf('.', colon2);
      if (dot < 0) second = part(colon2 + 1, end);
      else {
        second = part(colon2 + 1, dot);
        milli = dot + 1 > end ? NaN : flinkFraction(javaTrim(v.slice(dot + 1, end)));
      }
    }
  }
  if ([hour, minute, second, milli, zoneHour, zoneMinute].some(Number.isNaN)) return null;
  const millis = (hour + sign * zoneHour) * 3_600_000 + (minute + sign * zoneMinute) * 60_000 + second * 1000 + milli;
  return mod(millis, 86_400_000) * 1000;
}

/** A compiled CAST of `from` to `to`; `tryCast` turns per-row failures into NULL. */
export function castTo(from: Compiled, to: SqlType, scope: Scope, tryCast: boolean): Compiled {
  if (from.type.kind === to.kind && (to.kind === 'string' || to.kind === 'boolean' || to.kind === 'int' || to.kind === 'bigint' || to.kind === 'double' || to.kind === 'date' || to.kind === 'bytes')) {
    return { ...from, type: withNullable(to, from.type.nullable), column: undefined } as Compiled;
  }
  const conv = converter(from.type, to, scope.frame.zone);
  if (conv === null) throw unsupported(`CAST from ${typeName(from.type)} to ${typeName(to)}`, null, 'Flink does not define this conversion, or it is not implemented');
  const f = from.eval;
  const canBeNull = from.type.nullable || tryCast || to.kind === 'decimal';
  const type = withNullable(to, canBeNull);
  if (tryCast) {
    return { type, constant: from.constant, eval: (i) => {
      const v = f(i);
      if (v === null) return null;
      try {
        return conv(v);
      } catch (e) {
        if (e instanceof ExpressionError) return null;
        throw e;
      }
    } };
  }
  return { type, constant: from.constant, eval: (i) => {
    const v = f(i);
    return v === null ? null : conv(v);
  } };
}
