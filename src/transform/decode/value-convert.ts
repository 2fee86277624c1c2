// A JSON value (as JSON.parse gives it, or a CSV field's text) → the value a column of its SQL
// type holds, following Flink's JsonToRowDataConverters (flink-json 1.19) with the differences
// json-decoder.ts lists. Shared by the JSON and CSV decoders; a value that cannot take its type
// throws JsonTypeError, which the decoders turn into that record's dead letter.

import type { SqlType } from '../../schema/sql-types.js';
import { formatSqlType } from '../../schema/sql-types.js';
import { parseDateText, parseTimeText, parseTimestampText, truncateToPrecision } from '../time.js';
import { fitsPrecision, parseDecimalText, significantDigits } from '../decimal.js';

/** Why a JSON value cannot take its declared type; caught per record. */
export class JsonTypeError extends Error {}

/** A JSON number JSON.parse could not hold exactly: the decoder re-reads its digits from the text. */
export class InexactIntegerError extends JsonTypeError {}

/**
 * A number that cannot take its type. JSON.parse turned it into a double (Infinity beyond
 * ±1.8e308), so the message is rebuilt from the record's text when the field is top-level.
 */
export class NumberTypeError extends JsonTypeError {
  constructor(readonly type: SqlType, message: string) {
    super(message);
  }
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export type Converter = (v: unknown) => unknown;

function fail(type: SqlType, v: unknown): never {
  if (typeof v === 'number') {
    const shown = Number.isFinite(v) ? String(v) : 'a number beyond the range of a double';
    throw new NumberTypeError(type, `${shown} cannot be read as ${formatSqlType(type)}`);
  }
  const shown = typeof v === 'string' ? JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v) : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : String(v);
  throw new JsonTypeError(`${shown} cannot be read as ${formatSqlType(type)}${TEXT_FORMS[type.kind] ?? ''}`);
}

/** What date and time text would be read: Flink's forms, years 0000–9999 only. */
const TEXT_FORMS: Partial<Record<SqlType['kind'], string>> = {
  date: ' (expected yyyy-MM-dd, years 0000–9999)',
  time: ' (expected HH:mm[:ss[.fraction]])',
  timestamp: ' (expected yyyy-MM-dd[ HH:mm[:ss[.fraction]]], years 0000–9999)',
  timestamp_ltz: ' (expected yyyy-MM-dd[ HH:mm[:ss[.fraction]]][Z], years 0000–9999)',
};

const INT_TEXT = /^\s*[+-]?\d+\s*$/;

/**
 * INT → number. BIGINT → number, or bigint beyond ±2^53: text is exact already; a JSON number
 * that large was rounded by JSON.parse, so it is re-read from the record's text (see exactInteger).
 */
function toInteger(type: SqlType, v: unknown, min: number, max: number): number | bigint {
  let n: number;
  if (typeof v === 'number') n = Math.trunc(v); // Jackson's asInt/asLong truncate a fractional number
  else if (typeof v === 'string' && INT_TEXT.test(v)) n = Number(v);
  else fail(type, v);
  if (!Number.isFinite(n) || n < min || n > max) fail(type, v);
  if (Number.isSafeInteger(n)) return n;
  if (type.kind !== 'bigint') fail(type, v);
  if (typeof v === 'string') {
    const b = BigInt(v.trim());
    if (b < INT64_MIN || b > INT64_MAX) fail(type, v);
    return b;
  }
  throw new InexactIntegerError(`${String(v)} is beyond ±2^53 and cannot be read exactly as ${formatSqlType(type)} here`);
}

const FLOAT_TEXT = /^\s*([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?Infinity|NaN)\s*$/;

function toFloat(type: SqlType, v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && FLOAT_TEXT.test(v)) return Number(v);
  fail(type, v);
}

/**
 * A converter per SQL type, built once per pipeline. `inner` converts values nested in ARRAY,
 * MAP or ROW, whose source text is not at hand.
 */
export function converterFor(type: SqlType, inner: Converter = nonNullConverter(type)): Converter {
  const nullable = type.nullable;
  return (v) => {
    if (v === null || v === undefined) {
      if (!nullable) throw new JsonTypeError(`null for NOT NULL ${formatSqlType(type)}`);
      return null;
    }
    return inner(v);
  };
}

export function nonNullConverter(type: SqlType): Converter {
  switch (type.kind) {
    case 'string':
      // Flink: text nodes as they are, other scalars by their text, containers as JSON. Nested,
      // the source text is not at hand: a number JSON.parse rounded is refused rather than
      // stored rounded, or as "Infinity".
      return (v) => {
        if (typeof v === 'string') return v;
        if (typeof v === 'number') {
          if (!Number.isFinite(v) || (Number.isInteger(v) && !Number.isSafeInteger(v))) {
            throw new JsonTypeError(`${Number.isFinite(v) ? String(v) : 'a number beyond the range of a double'} cannot be kept exactly as ${formatSqlType(type)} inside a nested value`);
          }
          return String(v);
        }
        if (typeof v === 'object' && v !== null) return nestedJsonText(type, v);
        return String(v);
      };
    case 'boolean':
      return (v) => {
        if (typeof v === 'boolean') return v;
        if (typeof v === 'string') {
          const t = v.trim().toLowerCase();
          if (t === 'true') return true;
          if (t === 'false') return false;
        }
        fail(type, v);
      };
    case 'int':
      return (v) => toInteger(type, v, -2147483648, 2147483647);
    case 'bigint':
      return (v) => toInteger(type, v, -9223372036854775808, 9223372036854775807);
    case 'float':
      return (v) => Math.fround(toFloat(type, v));
    case 'double':
      return (v) => toFloat(type, v);
    case 'decimal':
      return decimalConverter(type);
    case 'date':
      return (v) => (typeof v === 'string' ? parseDateText(v) ?? fail(type, v) : fail(type, v));
    case 'time':
      return (v) => (typeof v === 'string' ? parseTimeText(v) ?? fail(type, v) : fail(type, v));
    case 'timestamp':
    case 'timestamp_ltz': {
      // TIMESTAMP_LTZ text is read as UTC, as Flink's JSON format writes it (`…Z`).
      const p = type.precision;
      return (v) => {
        const micros = typeof v === 'string' ? parseTimestampText(v) : null;
        return micros === null ? fail(type, v) : truncateToPrecision(micros, p);
      };
    }
    case 'bytes':
    case 'fixed':
      // Flink's JSON format carries binary as base64 text.
      return (v) => {
        if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) fail(type, v);
        const bytes = new Uint8Array(Buffer.from(v, 'base64'));
        if (type.kind === 'fixed' && bytes.length !== type.length) fail(type, v);
        return bytes;
      };
    case 'array': {
      const element = converterFor(type.element);
      return (v) => (Array.isArray(v) ? v.map(element) : fail(type, v));
    }
    case 'map': {
      const key = converterFor({ ...type.key, nullable: false });
      const value = converterFor(type.value);
      return (v) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(type, v);
        const out = new Map<unknown, unknown>();
        for (const [k, x] of Object.entries(v)) out.set(key(k), value(x));
        return out;
      };
    }
    case 'row': {
      const fields = type.fields.map((f) => ({ name: f.name, conv: converterFor(f.type), own: f.name in Object.prototype }));
      return (v) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(type, v);
        const o = v as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (const f of fields) out[f.name] = f.conv(f.own && !Object.hasOwn(o, f.name) ? undefined : o[f.name]);
        return out;
      };
    }
  }
}

/**
 * DECIMAL(p, s) → its unscaled bigint at s (see decimal.ts), from text or a JSON number. A number
 * reaches here as a double only where the decoder has no source text for it; the JSON decoder
 * hands top-level decimal fields their source text (json-decoder.ts), so `12345678901234567.89`
 * is read from its digits. Extra fraction digits round HALF_UP; a value beyond the precision is
 * NULL, as Flink's JSON format makes it (DecimalData.fromBigDecimal), and a dead letter naming the
 * value when the field is NOT NULL.
 */
function decimalConverter(type: Extract<SqlType, { kind: 'decimal' }>): Converter {
  const { precision, scale } = type;
  return (v) => {
    let text: string;
    if (typeof v === 'string') text = v.trim();
    else if (typeof v === 'number' && Number.isFinite(v)) text = String(v);
    else fail(type, v);
    const unscaled = parseDecimalText(text, scale);
    if (unscaled === null) fail(type, v);
    if (fitsPrecision(unscaled, precision)) return unscaled;
    if (type.nullable) return null;
    throw new JsonTypeError(`${text.length > 40 ? `${text.slice(0, 24)}… (${text.length} characters)` : text} does not fit ${formatSqlType(type)} (at most ${precision - scale} digits before the point), and the field is NOT NULL`);
  };
}

/** A JSON number's source text where it has more significant digits than a double keeps. */
class NumberText {
  constructor(readonly text: string) {}
}

function keepDigits(this: unknown, _key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value !== 'number' || context?.source === undefined) return value;
  return significantDigits(context.source) > 15 ? new NumberText(context.source) : value;
}

/**
 * A container's JSON text parsed for a type that holds a DECIMAL: a number of more than 15
 * significant digits reaches a DECIMAL leaf as its source text, so it is read exactly; anywhere
 * else it is the double JSON.parse gives, as it always was. Node 22's reviver sees each value's
 * source text (the "JSON.parse source text access" proposal).
 */
export function parseForType(text: string, type: SqlType): unknown {
  return settle(type, JSON.parse(text, keepDigits));
}

function settle(type: SqlType, v: unknown): unknown {
  if (v instanceof NumberText) return type.kind === 'decimal' ? v.text : Number(v.text);
  if (typeof v !== 'object' || v === null) return v;
  switch (type.kind) {
    case 'array':
      return Array.isArray(v) ? v.map((x) => settle(type.element, x)) : plain(v);
    case 'map':
      if (Array.isArray(v)) return plain(v);
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, settle(type.value, x)]));
    case 'row': {
      if (Array.isArray(v)) return plain(v);
      const o = plain(v) as Record<string, unknown>;
      for (const f of type.fields) if (Object.hasOwn(v, f.name)) o[f.name] = settle(f.type, (v as Record<string, unknown>)[f.name]);
      return o;
    }
    default:
      return plain(v);
  }
}

/** A parsed value with every NumberText back to the double JSON.parse would have made. */
function plain(v: unknown): unknown {
  if (v instanceof NumberText) return Number(v.text);
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
}

/** JSON text of a nested value; a value nested too deeply for JSON.stringify's recursion is refused. */
function nestedJsonText(type: SqlType, v: object): string {
  try {
    return JSON.stringify(v);
  } catch (e) {
    throw new JsonTypeError(`a value that cannot be written as JSON text for ${formatSqlType(type)} (${e instanceof Error ? e.message : String(e)})`);
  }
}
