import { describe, expect, it } from 'vitest';
import type { CsvOptions } from '../../../src/config/types.js';
import { createCsvDecoder, DEFAULT_CSV_OPTIONS, splitCsvRow } from '../../../src/transform/decode/csv-decoder.js';
import { createJsonDecoder } from '../../../src/transform/decode/json-decoder.js';
import { packRawBatch } from '../../../src/kafka/raw-batch.js';
import { fields, utcMicros } from '../helpers.js';

const schema = fields({ s: 'STRING', i: 'INT', b: 'BIGINT', d: 'DOUBLE', f: 'BOOLEAN', ts: 'TIMESTAMP(3)', dt: 'DATE', dec: 'DECIMAL(5, 2)' });

function decode(values: (string | null)[], options: Partial<CsvOptions> = {}, sch = schema) {
  const raw = packRawBatch('t', 0, values.map((value, k) => ({ offset: k, timestamp: 0, value })));
  return createCsvDecoder(sch, { ...DEFAULT_CSV_OPTIONS, ...options }, { maxRecordBytes: 10_000 }).decode(raw);
}

function split(text: string, options: Partial<CsvOptions> = {}): string[] {
  const out: string[] = [];
  const quoted: boolean[] = [];
  const n = splitCsvRow(text, { ...DEFAULT_CSV_OPTIONS, ...options }, out, quoted);
  return out.slice(0, n);
}

describe('csv decoder', () => {
  it('reads columns by position into the same values the JSON decoder gives', () => {
    const csv = decode(['héllo,7,1706975400000,1.5,true,2024-02-03 12:30:00.123,2024-02-29,12.34\n']);
    const json = createJsonDecoder(schema, { maxRecordBytes: 10_000 }).decode(
      packRawBatch('t', 0, [{ offset: 0, timestamp: 0, value: '{"s":"héllo","i":7,"b":1706975400000,"d":1.5,"f":true,"ts":"2024-02-03 12:30:00.123","dt":"2024-02-29","dec":12.34}' }]),
    );
    expect(csv.deadLetters).toEqual([]);
    expect(csv.columns.map((c) => c[0])).toEqual(json.columns.map((c) => c[0]));
    expect(csv.columns[5]![0]).toBe(utcMicros('2024-02-03T12:30:00.123'));
  });

  it('keeps delimiters, doubled quotes and line breaks inside quoted fields', () => {
    expect(split('"a,b","say ""hi""","line1\nline2",x')).toEqual(['a,b', 'say "hi"', 'line1\nline2', 'x']);
    expect(split('a,,"",b,')).toEqual(['a', '', '', 'b', '']);
    expect(split('a;"b;c"\r\n', { fieldDelimiter: ';' })).toEqual(['a', 'b;c']);
    expect(split("'x,y',z", { quoteCharacter: "'" })).toEqual(['x,y', 'z']);
  });

  it('reads the escape character only when one is set', () => {
    expect(split('a\\,b,c', { escapeCharacter: '\\' })).toEqual(['a,b', 'c']);
    expect(split('"q\\"x",c', { escapeCharacter: '\\' })).toEqual(['q"x', 'c']);
    expect(split('a\\,b,c')).toEqual(['a\\', 'b', 'c']);
  });

  it('reads quotes as data when quoting is disabled', () => {
    expect(split('"a,b"', { quoteCharacter: null })).toEqual(['"a', 'b"']);
  });

  it('makes null-literal fields null, empty fields null except for STRING', () => {
    const out = decode(['NULL,,,,,,,', ',NULL,,,,,,', '"",,,,,,,'], { nullLiteral: 'NULL' });
    expect(out.deadLetters).toEqual([]);
    expect(out.columns[0]).toEqual([null, '', '']);
    expect(out.columns[1]).toEqual([null, null, null]);
    expect(out.columns[7]).toEqual([null, null, null]);
  });

  it('reads missing trailing fields as null and refuses extra fields', () => {
    const out = decode(['a,1', 'a,1,2,3,true,2024-01-01 00:00:00,2024-01-01,1.00,extra']);
    expect(out.count).toBe(1);
    expect(out.columns.map((c) => c[0])).toEqual(['a', 1, null, null, null, null, null, null]);
    expect(out.deadLetters).toEqual([{ index: 1, code: 'RECORD_DECODE_FAILED', message: '9 fields, where source_schema has 8' }]);
  });

  it('skips comment records only with csv.allow-comments, counting them', () => {
    const withComments = decode(['# a comment, with a delimiter', 'x,1'], { allowComments: true });
    expect(withComments.count).toBe(1);
    expect(withComments.tombstones).toBe(1);
    expect(withComments.columns[0]).toEqual(['x']);
    const without = decode(['# a comment', 'x,1']);
    expect(without.count).toBe(2);
    expect(without.columns[0]).toEqual(['# a comment', 'x']);
  });

  it('makes malformed rows dead letters naming the field and the reason, and goes on', () => {
    const out = decode(['"open,1', 'x,notanint', '"a"b,1', 'x,1\ny,2', 'ok,5', null]);
    expect(out.count).toBe(1);
    expect(out.columns[0]).toEqual(['ok']);
    expect(out.tombstones).toBe(1);
    expect(out.deadLetters.map((d) => [d.index, d.message])).toEqual([
      [0, 'invalid CSV: field 1: a quoted field is not closed'],
      [1, 'field i (column 2): "notanint" cannot be read as INT'],
      [2, 'invalid CSV: field 1: "b" after the closing quote, where a delimiter or the end of the record belongs'],
      [3, 'invalid CSV: field 2: a line break outside quotes (one record is one CSV row)'],
    ]);
  });

  it('reads ARRAY fields split by csv.array-element-delimiter', () => {
    const out = decode(['1;2;null;4', '', 'x'], { nullLiteral: 'null' }, fields({ a: 'ARRAY<INT>' }));
    expect(out.columns[0]!.slice(0, 2)).toEqual([[1, 2, null, 4], null]);
    expect(out.deadLetters.map((d) => d.index)).toEqual([2]);
  });

  it('refuses a NOT NULL column that reads null', () => {
    const out = decode([',1'], {}, fields({ i: 'INT NOT NULL', j: 'INT' }));
    expect(out.deadLetters[0]!.message).toBe('field i (column 1): null for NOT NULL INT NOT NULL');
  });
});
