// JSON message values → one JS array per source_schema field, with the semantics of Flink's JSON
// format as the PyFlink job configured it (`json.fail-on-missing-field = false`): an absent field is null.
// Where that job set `json.ignore-parse-errors = true` and lost bad records without a trace, a
// record that cannot be parsed or typed here becomes a dead letter that keeps its bytes.
//
// Conversions follow Flink's JsonToRowDataConverters (flink-json 1.19), with these differences:
// - BOOLEAN accepts only true/false (or their text), where Flink's Boolean.parseBoolean would
//   turn any other text into false without a word;
// - a top-level STRING field holding a number or a container keeps the value's exact source
//   text (containers with the whitespace between tokens removed), so a 1,000-digit number stays
//   those digits; inside ARRAY, MAP or ROW a number is spelled by JavaScript (1.0 → "1"), and one
//   JSON.parse could not hold exactly (beyond ±2^53, or beyond a double) is a dead letter;
// - a top-level BIGINT beyond ±2^53 is re-read exactly from the text (its key found as JSON.parse
//   finds it, escapes decoded, the last duplicate winning); inside ARRAY, MAP or ROW such a
//   number is a dead letter, because JSON.parse has already rounded it;
// - a string holding a lone surrogate (`"\ud800"`, which only an escape can write, since the
//   bytes are checked to be UTF-8) in a declared field is a dead letter. Jackson accepts it and a
//   Java string holds it, but UTF-8 cannot encode it: Java's encoder would write '?' in its place
//   and Arrow's would write U+FFFD, either way a value the record never held;
// - a DECIMAL is read from the number's source text at every depth, never through a double (see
//   value-convert.ts's decimalConverter and parseForType);
// - a number that fits no type names its leading digits in the dead letter, never "Infinity";
// - a tombstone (null value) is counted and skipped, as Flink skips it.
//
// Duplicate keys in one object: the last value wins. That is JSON.parse's rule and Flink's for
// the JSON format's JsonNode path (`decode.json-parser.enabled: false`, and every Flink before
// 1.19): Jackson's tree deserializer stores each member with ObjectNode.replace, so a later
// member replaces an earlier one. Flink's default streaming-parser path since 1.19 differs: it
// counts every matched name, duplicates included, and skips the rest of the object once the
// count reaches the number of declared fields, so there a duplicate can hide a later field or
// lose to the first value. That position-dependent outcome is not reproduced.
//
// One record never costs its batch: whatever goes wrong while decoding it (a stack overflow on
// a deeply nested value, a number beyond every type) makes that record a dead letter.
//
// Each record is first offered to the byte reader (json-byte-reader.ts), which writes it straight
// into the columns from its bytes when it can do so exactly and hands it back otherwise; what
// follows here is the exact path, which decides every record the byte reader hands back.

import { isUtf8 } from 'node:buffer';
import { formatSqlType, type SqlType } from '../../schema/sql-types.js';
import type { DeadLetter } from '../dead-letter.js';
import type { RawBatch } from '../../kafka/raw-batch.js';

export type { DecodedBatch, DecodeOptions, SourceField } from './decoded-batch.js';
import { holdsDecimal } from '../decimal.js';
import { byteReaderEnabledByEnv, createJsonByteReader, type JsonByteReader } from './json-byte-reader.js';
import { compactJson, exactInteger, findMembers, leadingText, loneSurrogateIn, memberText, SURROGATE_ESCAPE } from './json-members.js';
import type { DecodedBatch, DecodeOptions, SourceField } from './decoded-batch.js';
import { converterFor, InexactIntegerError, JsonTypeError, nonNullConverter, NumberTypeError, parseForType, type Converter } from './value-convert.js';

/** Records a batch must offer the byte reader before its share read can rest it. */
export const BYTE_READER_TRIAL = 100;
/** Batches the byte reader sits out after one in which it read under a tenth of the records. */
export const BYTE_READER_REST = 15;

export interface JsonDecoder {
  decode(raw: RawBatch): DecodedBatch;
}

/**
 * The byte reader's verdict on one record. Whatever it throws (it should throw nothing) hands
 * the record to the exact path like any other doubt: a fault in the fast path must cost
 * neither the batch nor the record.
 */
function readsFast(reader: JsonByteReader, buf: Buffer, start: number, end: number, columns: unknown[][], row: number): boolean {
  try {
    return reader.read(buf, start, end, columns, row);
  } catch {
    return false;
  }
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
  // The record being read, for top-level fields that take a value's source text: STRING (a
  // number or container as written), DECIMAL (a number's digits, never JSON.parse's double) and
  // containers that hold a DECIMAL. The spans of all such fields are found in one pass, on the
  // first one that needs it.
  let current = '';
  let located = false;
  const textFields = fields.filter((f) => f.type.kind === 'string' || holdsDecimal(f.type)).map((f) => f.name);
  const spans = new Float64Array(2 * textFields.length);
  const sourceOf = (k: number): string | null => {
    if (!located) {
      findMembers(current, textFields, spans);
      located = true;
    }
    return spans[2 * k]! < 0 ? null : current.slice(spans[2 * k], spans[2 * k + 1]);
  };
  const convs = fields.map((f) => {
    const k = textFields.indexOf(f.name);
    if (k < 0) return converterFor(f.type);
    const nested = nonNullConverter(f.type);
    if (f.type.kind === 'decimal') return converterFor(f.type, (v) => (typeof v === 'number' ? nested(sourceOf(k) ?? v) : nested(v)));
    if (f.type.kind !== 'string') {
      // A container holding a DECIMAL: re-read from its text, its decimals' digits kept.
      const type = f.type;
      return converterFor(type, (v) => {
        const raw = typeof v === 'object' && v !== null ? sourceOf(k) : null;
        return nested(raw === null ? v : parseForType(raw, type));
      });
    }
    return converterFor(f.type, (v) => {
      if (typeof v === 'string') return v;
      if (typeof v !== 'number' && (typeof v !== 'object' || v === null)) return nested(v);
      const raw = sourceOf(k);
      if (raw === null) return nested(v);
      return typeof v === 'number' ? raw : compactJson(raw);
    });
  });
  const readRow = compileRowReader(fields);
  const maxBytes = options.maxRecordBytes;
  // The fast path: records it reads exactly go straight into the columns; the rest come here.
  const byteReader = (options.byteReader ?? byteReaderEnabledByEnv()) ? createJsonByteReader(fields) : null;
  // A stream whose records the byte reader keeps handing back (pretty-printed objects in a STRING
  // field, escaped keys) would pay for two reads of each. After a batch of at least
  // BYTE_READER_TRIAL records in which it read under a tenth, it sits out BYTE_READER_REST
  // batches, then is tried again. Which path reads a record never changes what is read, so
  // this state between batches cannot make a retried task differ.
  let restingBatches = 0;

  /**
   * Why a record cannot be stored because a declared field holds a lone surrogate, or null. A
   * top-level STRING field holding a number or container is stored as its source text, where an
   * escape stays an escape, so only its string value is looked at.
   */
  function surrogateProblem(o: Record<string, unknown>): string | null {
    for (const f of fields) {
      const v = Object.hasOwn(o, f.name) ? o[f.name] : undefined;
      if (f.type.kind === 'string' && typeof v !== 'string') continue;
      const lone = loneSurrogateIn(v);
      if (lone !== null) return `field ${f.name}: holds a lone surrogate (${lone}), which UTF-8 cannot encode`;
    }
    return null;
  }

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
        if (exact !== null) {
          columns[f]![row] = exact;
          continue;
        }
        if (e instanceof NumberTypeError && e.type === fields[f]!.type) {
          const raw = memberText(text, name);
          if (raw !== null) return `field ${name}: ${leadingText(raw)} cannot be read as ${formatSqlType(e.type)}`;
        }
        return `field ${name}: ${e.message}`;
      }
    }
    return null;
  }

  return {
    decode(raw: RawBatch): DecodedBatch {
      const reader = restingBatches === 0 ? byteReader : null;
      if (restingBatches > 0) restingBatches--;
      let offered = 0;
      const n = raw.count;
      const columns: unknown[][] = names.map(() => new Array(n));
      const recordIndex = new Int32Array(n);
      const deadLetters: DeadLetter[] = [];
      let tombstones = 0;
      let count = 0;
      let byteRead = 0;
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
        if (reader !== null) {
          offered++;
          if (readsFast(reader, buf, start, end, columns, count)) {
            recordIndex[count++] = i;
            byteRead++;
            continue;
          }
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
        // Only records with a surrogate escape pay for the walk over their values.
        if (text.includes('\\u') && SURROGATE_ESCAPE.test(text)) {
          const why = surrogateProblem(obj as Record<string, unknown>);
          if (why !== null) {
            deadLetters.push({ index: i, code: 'RECORD_DECODE_FAILED', message: why });
            continue;
          }
        }
        current = text;
        located = false;
        try {
          readRow(obj as Record<string, unknown>, columns, count, convs, Object.hasOwn);
        } catch (e) {
          let why: string | null;
          try {
            if (!(e instanceof JsonTypeError)) throw e;
            why = slowRow(obj as Record<string, unknown>, text, columns, count);
          } catch (err) {
            // Not a typing problem but a failure (a stack overflow, a bug): still this record's alone.
            why = `cannot be decoded: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
          }
          if (why !== null) {
            deadLetters.push({ index: i, code: 'RECORD_DECODE_FAILED', message: why });
            continue;
          }
        }
        recordIndex[count++] = i;
      }
      if (offered >= BYTE_READER_TRIAL && byteRead * 10 < offered) restingBatches = BYTE_READER_REST;
      if (count < n) for (const c of columns) c.length = count;
      return { count, columns, recordIndex: recordIndex.subarray(0, count), deadLetters, tombstones, byteRead };
    },
  };
}
