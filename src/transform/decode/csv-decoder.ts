// CSV message values → one JS array per source_schema field, columns by position in
// source_schema order, with the options of Flink's CSV format (`csv.field-delimiter`,
// `csv.quote-character`, `csv.allow-comments`, `csv.null-literal`, `csv.escape-character`,
// `csv.array-element-delimiter`). One Kafka record is one CSV row; a line break at its end is
// dropped, one inside quotes is data.
//
// Field text is typed by the JSON decoder's converters, which read text for every scalar type
// (so "42" reads as INT 42, "true" as BOOLEAN, base64 as BYTES, `yyyy-MM-dd HH:mm:ss` as
// TIMESTAMP), and so both formats agree on what a text means. As in Flink's CSV format, an empty
// unquoted field is null for every type but STRING, where it is the empty string; a field equal
// to `csv.null-literal` is null for every type.
//
// Where Flink fails the job on a malformed row (or, with `csv.ignore-parse-errors`, drops it or
// nulls its fields without a trace), a malformed row here is a dead letter naming why, whatever
// that option says. A row with fewer fields than source_schema reads the missing ones as null
// (Jackson's default, which Flink keeps); a row with more is a dead letter.
//
// With `csv.allow-comments`, a record whose first character is `#` is a comment: skipped and
// counted with the tombstones, as Flink skips it.

import { isUtf8 } from 'node:buffer';
import type { SqlType } from '../../schema/sql-types.js';
import type { CsvOptions } from '../../config/types.js';
import type { DeadLetter } from '../dead-letter.js';
import type { DecodedBatch, DecodeOptions, SourceField } from './decoded-batch.js';
import { converterFor, JsonTypeError } from './value-convert.js';
import type { RawBatch } from '../../kafka/raw-batch.js';

export const DEFAULT_CSV_OPTIONS: CsvOptions = {
  fieldDelimiter: ',',
  quoteCharacter: '"',
  allowComments: false,
  ignoreParseErrors: false,
  nullLiteral: null,
  escapeCharacter: null,
  arrayElementDelimiter: ';',
};

class CsvSyntaxError extends Error {}

/**
 * Splits one CSV row into its fields. `quoted[k]` says whether field k was quoted (an empty
 * quoted field is the empty string, never null). Reuses `out` and `quoted` to spare the
 * allocation of two arrays per record.
 */
export function splitCsvRow(text: string, o: CsvOptions, out: string[], quoted: boolean[]): number {
  let end = text.length;
  if (end > 0 && text.charCodeAt(end - 1) === 10) end--;
  if (end > 0 && text.charCodeAt(end - 1) === 13) end--;
  const delim = o.fieldDelimiter.charCodeAt(0);
  const quote = o.quoteCharacter === null ? -1 : o.quoteCharacter.charCodeAt(0);
  const escape = o.escapeCharacter === null ? -1 : o.escapeCharacter.charCodeAt(0);
  let n = 0;
  let i = 0;
  for (;;) {
    if (i < end && text.charCodeAt(i) === quote) {
      let value = '';
      let from = i + 1;
      let j = from;
      for (;;) {
        if (j >= end) throw new CsvSyntaxError(`field ${n + 1}: a quoted field is not closed`);
        const c = text.charCodeAt(j);
        if (c === escape) {
          value += text.slice(from, j);
          if (j + 1 >= end) throw new CsvSyntaxError(`field ${n + 1}: the escape character ends the record`);
          value += text[j + 1];
          j += 2;
          from = j;
        } else if (c === quote) {
          value += text.slice(from, j);
          if (j + 1 < end && text.charCodeAt(j + 1) === quote) {
            value += text[j];
            j += 2;
            from = j;
          } else {
            j++;
            break;
          }
        } else j++;
      }
      out[n] = value;
      quoted[n++] = true;
      if (j === end) return n;
      if (text.charCodeAt(j) !== delim) throw new CsvSyntaxError(`field ${n}: ${JSON.stringify(text[j])} after the closing quote, where a delimiter or the end of the record belongs`);
      i = j + 1;
      if (i === end) {
        out[n] = '';
        quoted[n++] = false;
        return n;
      }
      continue;
    }
    let j = i;
    let value: string | null = null;
    let from = i;
    for (; j < end; j++) {
      const c = text.charCodeAt(j);
      if (c === delim) break;
      if (c === escape) {
        value = (value ?? '') + text.slice(from, j);
        if (j + 1 >= end) throw new CsvSyntaxError(`field ${n + 1}: the escape character ends the record`);
        value += text[j + 1];
        j++;
        from = j + 1;
      } else if (c === 10 || c === 13) {
        throw new CsvSyntaxError(`field ${n + 1}: a line break outside quotes (one record is one CSV row)`);
      }
    }
    out[n] = value === null ? text.slice(i, j) : value + text.slice(from, j);
    quoted[n++] = false;
    if (j >= end) return n;
    i = j + 1;
    if (i === end) {
      out[n] = '';
      quoted[n++] = false;
      return n;
    }
  }
}

type TextConverter = (text: string | null) => unknown;

function textConverter(type: SqlType, o: CsvOptions): TextConverter {
  if (type.kind === 'array') {
    const element = converterFor(type.element);
    const nullLiteral = o.nullLiteral;
    const nullable = type.nullable;
    const sep = o.arrayElementDelimiter;
    return (text) => {
      if (text === null) {
        if (!nullable) throw new JsonTypeError('null for a NOT NULL ARRAY');
        return null;
      }
      if (text === '') return [];
      return text.split(sep).map((t) => element(t === nullLiteral || (t === '' && type.element.kind !== 'string') ? null : t));
    };
  }
  const conv = converterFor(type);
  return (text) => conv(text);
}

export interface CsvDecoder {
  decode(raw: RawBatch): DecodedBatch;
}

export function createCsvDecoder(fields: readonly SourceField[], csv: CsvOptions | undefined, options: DecodeOptions): CsvDecoder {
  const o = csv ?? DEFAULT_CSV_OPTIONS;
  const convs = fields.map((f) => textConverter(f.type, o));
  const isString = fields.map((f) => f.type.kind === 'string');
  const width = fields.length;
  const texts: string[] = [];
  const quoted: boolean[] = [];
  const nullLiteral = o.nullLiteral;
  const maxBytes = options.maxRecordBytes;
  return {
    decode(raw) {
      const n = raw.count;
      const columns: unknown[][] = fields.map(() => new Array(n));
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
        if (text.includes('\uFFFD') && !isUtf8(buf.subarray(start, end))) {
          deadLetters.push({ index: i, code: 'RECORD_DECODE_FAILED', message: 'value is not valid UTF-8' });
          continue;
        }
        if (o.allowComments && text.charCodeAt(0) === 35) {
          tombstones++;
          continue;
        }
        let why: string | null = null;
        try {
          const m = splitCsvRow(text, o, texts, quoted);
          if (m > width) why = `${m} fields, where source_schema has ${width}`;
          else {
            for (let f = 0; f < width; f++) {
              let t: string | null = f < m ? texts[f]! : null;
              if (t !== null && ((nullLiteral !== null && t === nullLiteral) || (t === '' && !quoted[f] && !isString[f]))) t = null;
              try {
                columns[f]![count] = convs[f]!(t);
              } catch (e) {
                if (!(e instanceof JsonTypeError)) throw e;
                why = `field ${fields[f]!.name} (column ${f + 1}): ${e.message}`;
                break;
              }
            }
          }
        } catch (e) {
          why = e instanceof CsvSyntaxError ? `invalid CSV: ${e.message}` : `cannot be decoded: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
        }
        if (why !== null) {
          deadLetters.push({ index: i, code: 'RECORD_DECODE_FAILED', message: why });
          continue;
        }
        recordIndex[count++] = i;
      }
      if (count < n) for (const c of columns) c.length = count;
      return { count, columns, recordIndex: recordIndex.subarray(0, count), deadLetters, tombstones };
    },
  };
}
