// JSON message values → one JS array per source_schema field, with the semantics of Flink's JSON
// format as the PyFlink job configured it (`json.fail-on-missing-field = false`): an absent field is null.
// Where that job set `json.ignore-parse-errors = true` and lost bad records without a trace, a
// record that cannot be parsed or typed here becomes a dead letter that keeps its bytes.
//
// Conversions follow Flink's JsonToRowDataConverters (flink-json 1.19), with these differences:
// - BOOLEAN accepts only true/false (or their text), where Flink's Boolean.parseBoolean would
//   turn any other text into false without a word;
// - a JSON number read as STRING has JavaScript's spelling (1.0 → "1", Jackson keeps "1.0");
// - a top-level BIGINT beyond ±2^53 is re-read exactly from the text; inside ARRAY, MAP or ROW
//   such a number is a dead letter, because JSON.parse has already rounded it;
// - a tombstone (null value) is counted and skipped, as Flink skips it.

import { isUtf8 } from 'node:buffer';
import type { SqlType } from '../config/sql-types.js';
import { formatSqlType } from '../config/sql-types.js';
import type { DeadLetter } from './dead-letter.js';
import type { RawBatch } from './raw-batch.js';
import { parseDateText, parseTimeText, parseTimestampText, truncateToPrecision } from './time.js';

export interface SourceField {
  name: string;
  type: SqlType;
}

export interface DecodedBatch {
  /** Rows that decoded. */
  count: number;
  /** One array per source field, in source-schema order, `count` long. */
  columns: unknown[][];
  /** Row j came from record `recordIndex[j]` of the raw batch. */
  recordIndex: Int32Array;
  deadLetters: DeadLetter[];
  /** Records with a null value (tombstones): neither rows nor errors, only counted. */
  tombstones: number;
}

export interface DecodeOptions {
  /** A value longer than this many bytes is a dead letter (RECORD_TOO_LARGE), not parsed. */
  maxRecordBytes: number;
}

/** Why a JSON value cannot take its declared type; caught per record. */
export class JsonTypeError extends Error {}

/** A JSON number JSON.parse could not hold exactly: the decoder re-reads its digits from the text. */
class InexactIntegerError extends JsonTypeError {}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

type Converter = (v: unknown) => unknown;

function fail(type: SqlType, v: unknown): never {
  const shown = typeof v === 'string' ? JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v) : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : String(v);
  throw new JsonTypeError(`${shown} cannot be read as ${formatSqlType(type)}`);
}

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

/**
 * The digits of top-level member `name` of a JSON object text, when it is an integer literal;
 * the last occurrence wins, as with JSON.parse. Keys written with escapes are not matched.
 */
export function exactInteger(text: string, name: string): bigint | null {
  const key = JSON.stringify(name);
  let depth = 0;
  let found: bigint | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      if (depth !== 1 || text.slice(start, i + 1) !== key) continue;
      const m = /^\s*:\s*(-?\d+)(?![\d.eE])/.exec(text.slice(i + 1, i + 64));
      if (m !== null) found = BigInt(m[1]!);
      else found = null;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return found !== null && found >= INT64_MIN && found <= INT64_MAX ? found : null;
}

const FLOAT_TEXT = /^\s*([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?Infinity|NaN)\s*$/;

function toFloat(type: SqlType, v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && FLOAT_TEXT.test(v)) return Number(v);
  fail(type, v);
}

/** A converter per SQL type, built once per pipeline. */
export function converterFor(type: SqlType): Converter {
  const nullable = type.nullable;
  const inner = nonNullConverter(type);
  return (v) => {
    if (v === null || v === undefined) {
      if (!nullable) throw new JsonTypeError(`null for NOT NULL ${formatSqlType(type)}`);
      return null;
    }
    return inner(v);
  };
}

function nonNullConverter(type: SqlType): Converter {
  switch (type.kind) {
    case 'string':
      // Flink: text nodes as they are, other scalars by their text, containers as JSON.
      return (v) => (typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v));
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
    case 'decimal': {
      const limit = 10 ** (type.precision - type.scale);
      return (v) => {
        const n = toFloat(type, v);
        if (!Number.isFinite(n) || Math.abs(n) >= limit) fail(type, v);
        return n;
      };
    }
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

export interface JsonDecoder {
  decode(raw: RawBatch): DecodedBatch;
}

/** The test a value must pass to skip its converter; null when every value goes through it. */
function fastPath(type: SqlType): string | null {
  switch (type.kind) {
    case 'string':
      return "typeof v === 'string'";
    case 'boolean':
      return "typeof v === 'boolean'";
    case 'double':
      return "typeof v === 'number'";
    case 'int':
      return "typeof v === 'number' && (v | 0) === v";
    case 'bigint':
      return "typeof v === 'number' && Number.isSafeInteger(v)";
    default:
      return null;
  }
}

type RowReader = (o: Record<string, unknown>, cols: unknown[][], row: number, convs: readonly Converter[], hasOwn: typeof Object.hasOwn) => void;

/**
 * Generates the per-record field loop for one schema: a property read and an inline type test
 * per field, the converter only for values that need converting (text numbers, nulls, nested
 * values). This loop runs once per record and field, so dispatch through closures would cost a
 * third of JSON.parse. Field names enter the code as JSON string literals only.
 */
function compileRowReader(fields: readonly SourceField[]): RowReader {
  const lines = fields.map((f, k) => {
    const key = JSON.stringify(f.name);
    // `obj.constructor` on a parsed object without that key would read Object.prototype's.
    const read = f.name in Object.prototype ? `hasOwn(o, ${key}) ? o[${key}] : undefined` : `o[${key}]`;
    const fast = fastPath(f.type);
    const store = fast === null ? `convs[${k}](v)` : `(${fast}) ? v : convs[${k}](v)`;
    return `v = ${read}; cols[${k}][row] = ${store};`;
  });
  return new Function('o', 'cols', 'row', 'convs', 'hasOwn', `let v;\n${lines.join('\n')}`) as RowReader;
}

export function createJsonDecoder(fields: readonly SourceField[], options: DecodeOptions): JsonDecoder {
  const names = fields.map((f) => f.name);
  const convs = fields.map((f) => converterFor(f.type));
  const readRow = compileRowReader(fields);
  const maxBytes = options.maxRecordBytes;

  /**
   * The slow path, for a record the generated reader refused: field by field, re-reading exact
   * BIGINTs from the text. Stores the row and returns null, or returns why it cannot be read.
   */
  function slowRow(o: Record<string, unknown>, text: string, columns: unknown[][], row: number): string | null {
    for (let f = 0; f < names.length; f++) {
      const name = names[f]!;
      try {
        columns[f]![row] = convs[f]!(Object.hasOwn(o, name) ? o[name] : undefined);
      } catch (e) {
        if (!(e instanceof JsonTypeError)) throw e;
        const exact = e instanceof InexactIntegerError ? exactInteger(text, name) : null;
        if (exact === null) return `field ${name}: ${e.message}`;
        columns[f]![row] = exact;
      }
    }
    return null;
  }

  return {
    decode(raw: RawBatch): DecodedBatch {
      const n = raw.count;
      const columns: unknown[][] = names.map(() => new Array(n));
      const recordIndex = new Int32Array(n);
      const deadLetters: DeadLetter[] = [];
      let tombstones = 0;
      let count = 0;
      const buf = Buffer.from(raw.values.buffer, raw.values.byteOffset, raw.values.byteLength);
      for (let i = 0; i < n; i++) {
        if (raw.valueNulls !== null && raw.valueNulls[i] === 1) {
          tombstones++;
          continue;
        }
        const start = raw.valueOffsets[i]!;
        const end = raw.valueOffsets[i + 1]!;
        if (end - start > maxBytes) {
          deadLetters.push({ index: i, code: 'RECORD_TOO_LARGE', message: `value is ${end - start} bytes, over the limit of ${maxBytes}` });
          continue;
        }
        const text = buf.toString('utf8', start, end);
        // Invalid UTF-8 decodes to U+FFFD; the exact check runs only when one appears.
        if (text.includes('\uFFFD') && !isUtf8(buf.subarray(start, end))) {
          deadLetters.push({ index: i, code: 'RECORD_DECODE_FAILED', message: 'value is not valid UTF-8' });
          continue;
        }
        let obj: unknown;
        try {
          obj = JSON.parse(text);
        } catch (e) {
          deadLetters.push({ index: i, code: 'RECORD_DECODE_FAILED', message: `invalid JSON: ${(e as Error).message}` });
          continue;
        }
        if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
          deadLetters.push({ index: i, code: 'RECORD_DECODE_FAILED', message: `expected a JSON object, found ${Array.isArray(obj) ? 'an array' : obj === null ? 'null' : typeof obj}` });
          continue;
        }
        try {
          readRow(obj as Record<string, unknown>, columns, count, convs, Object.hasOwn);
        } catch (e) {
          if (!(e instanceof JsonTypeError)) throw e;
          const why = slowRow(obj as Record<string, unknown>, text, columns, count);
          if (why !== null) {
            deadLetters.push({ index: i, code: 'RECORD_DECODE_FAILED', message: why });
            continue;
          }
        }
        recordIndex[count++] = i;
      }
      if (count < n) for (const c of columns) c.length = count;
      return { count, columns, recordIndex: recordIndex.subarray(0, count), deadLetters, tombstones };
    },
  };
}
