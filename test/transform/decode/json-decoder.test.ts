import { describe, expect, it } from 'vitest';
import { createJsonDecoder } from '../../../src/transform/decode/json-decoder.js';
import { memberText } from '../../../src/transform/decode/json-members.js';
import { packRawBatch, rawValue } from '../../../src/kafka/raw-batch.js';
import { fields, utcMicros } from '../helpers.js';

const schema = fields({
  s: 'STRING',
  i: 'INT',
  b: 'BIGINT',
  d: 'DOUBLE',
  f: 'BOOLEAN',
  ts: 'TIMESTAMP(3)',
  dt: 'DATE',
  dec: 'DECIMAL(5, 2)',
});

function decode(values: (string | Uint8Array | null)[], maxRecordBytes = 10_000, sch = schema) {
  const raw = packRawBatch('t', 3, values.map((value, k) => ({ offset: 100 + k, timestamp: 1_700_000_000_000 + k, value })));
  return { raw, out: createJsonDecoder(sch, { maxRecordBytes }).decode(raw) };
}

describe('json decoder', () => {
  it('reads every scalar type into the transform representation', () => {
    const { out } = decode([
      '{"s":"héllo","i":7,"b":1706975400000,"d":1.5,"f":true,"ts":"2024-02-03 12:30:00.123","dt":"2024-02-29","dec":12.34}',
    ]);
    expect(out.count).toBe(1);
    expect(out.deadLetters).toEqual([]);
    expect(out.columns.map((c) => c[0])).toEqual([
      'héllo', 7, 1706975400000, 1.5, true, utcMicros('2024-02-03T12:30:00.123'), 19782, 1234n,
    ]);
  });

  it('makes missing fields and JSON nulls null (fail-on-missing-field=false)', () => {
    const { out } = decode(['{"s":null}', '{}']);
    expect(out.count).toBe(2);
    for (const c of out.columns) expect(c).toEqual([null, null]);
  });

  it('converts as Flink does: numbers to STRING text, integer text to INT, fractions truncated', () => {
    const { out } = decode(['{"s":42,"i":"  12 ","b":3.9,"d":"2.5e1","f":"TRUE"}', '{"s":{"a":[1]}}']);
    expect(out.columns[0]).toEqual(['42', '{"a":[1]}']);
    expect(out.columns[1]![0]).toBe(12);
    expect(out.columns[2]![0]).toBe(3);
    expect(out.columns[3]![0]).toBe(25);
    expect(out.columns[4]![0]).toBe(true);
  });

  it('does not read an inherited property for a field named like one', () => {
    const { out } = decode(['{}', '{"constructor":"c"}'], 1000, fields({ constructor: 'STRING', toString: 'STRING' }));
    expect(out.columns[0]).toEqual([null, 'c']);
    expect(out.columns[1]).toEqual([null, null]);
  });

  it('dead-letters bad JSON, non-objects, wrong types, bad UTF-8 and oversized values, keeping order and indices', () => {
    const bad = new Uint8Array([0x7b, 0x22, 0x73, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]); // {"s":"\xff"}
    const big = JSON.stringify({ s: 'x'.repeat(200) });
    const { raw, out } = decode([
      '{"s":"ok"}',
      '{"s": broken',
      '[1,2]',
      '{"i":"seven"}',
      '{"i":3000000000}',
      '{"b":92233720368547758070}',
      '{"f":"maybe"}',
      '{"ts":"2024-13-01 00:00:00"}',
      '{"dt":"2024-02-30"}',
      '{"dec":"12,34"}',
      bad,
      big,
      '{"s":"last"}',
    ], 100);
    expect(out.count).toBe(2);
    expect(out.columns[0]).toEqual(['ok', 'last']);
    expect([...out.recordIndex]).toEqual([0, 12]);
    const byIndex = Object.fromEntries(out.deadLetters.map((d) => [d.index, d]));
    expect(out.deadLetters.map((d) => d.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(byIndex[1]!.code).toBe('RECORD_DECODE_FAILED');
    expect(byIndex[1]!.message).toMatch(/invalid JSON/);
    expect(byIndex[2]!.message).toMatch(/expected a JSON object, found an array/);
    expect(byIndex[3]!.message).toBe('field i: "seven" cannot be read as INT');
    expect(byIndex[4]!.message).toMatch(/^field i: 3000000000 cannot be read as INT/);
    expect(byIndex[5]!.message).toBe('field b: 92233720368547758070 cannot be read as BIGINT');
    expect(byIndex[6]!.message).toMatch(/^field f: "maybe" cannot be read as BOOLEAN/);
    expect(byIndex[7]!.message).toMatch(/^field ts: /);
    expect(byIndex[8]!.message).toMatch(/^field dt: /);
    expect(byIndex[9]!.message).toMatch(/^field dec: .*DECIMAL\(5, 2\)/);
    expect(byIndex[10]!.message).toBe('value is not valid UTF-8');
    expect(byIndex[11]!.code).toBe('RECORD_TOO_LARGE');
    expect(byIndex[11]!.message).toBe(`value is ${big.length} bytes, over the limit of 100`);
    // The raw bytes are still the original ones.
    expect([...rawValue(raw, 10)!]).toEqual([...bad]);
  });

  it('reads BIGINTs beyond 2^53 exactly, from JSON numbers and from text', () => {
    const sch = fields({ b: 'BIGINT', r: 'ROW<id BIGINT>', s: 'STRING' });
    const { out } = decode([
      '{"s":"{\\"b\\":1}","b":9007199254740993}',
      '{"b":"-9223372036854775808"}',
      '{"b": 1, "b": 1234567890123456789}',
      '{"r":{"id":9007199254740993}}',
    ], 1000, sch);
    expect(out.columns[0]).toEqual([9007199254740993n, -9223372036854775808n, 1234567890123456789n]);
    expect(out.deadLetters.map((d) => d.message)).toEqual(['field r: 9007199254740992 is beyond ±2^53 and cannot be read exactly as BIGINT here']);
  });

  it('keeps a genuine U+FFFD character, which is valid UTF-8', () => {
    const { out } = decode(['{"s":"a\uFFFDb"}']);
    expect(out.columns[0]).toEqual(['a\uFFFDb']);
    expect(out.deadLetters).toEqual([]);
  });

  it('counts tombstones without making rows or dead letters', () => {
    const { out } = decode([null, '{"s":"a"}']);
    expect(out.tombstones).toBe(1);
    expect(out.count).toBe(1);
    expect(out.deadLetters).toEqual([]);
    expect([...out.recordIndex]).toEqual([1]);
  });

  it('decodes nested types and NOT NULL fields', () => {
    const sch = fields({ tags: 'ARRAY<INT>', m: 'MAP<STRING, BIGINT>', r: 'ROW<a STRING, b INT>', req: 'STRING NOT NULL' });
    const { out } = decode(['{"tags":[1,null,3],"m":{"x":1},"r":{"b":2},"req":"y"}', '{"tags":["z"],"req":"y"}', '{"tags":[]}'], 1000, sch);
    expect(out.count).toBe(1);
    expect(out.columns[0]![0]).toEqual([1, null, 3]);
    expect(out.columns[1]![0]).toEqual(new Map([['x', 1]]));
    expect(out.columns[2]![0]).toEqual({ a: null, b: 2 });
    expect(out.deadLetters.map((d) => d.message)).toEqual(['field tags: "z" cannot be read as INT', 'field req: null for NOT NULL STRING NOT NULL']);
  });

  it('reads TIMESTAMP_LTZ text with a Z and truncates to the declared precision', () => {
    const sch = fields({ a: 'TIMESTAMP_LTZ(3)', b: 'TIMESTAMP(0)' });
    const { out } = decode(['{"a":"2024-01-01T00:00:00.123456Z","b":"2024-01-01 00:00:07.9"}'], 1000, sch);
    expect(out.columns[0]![0]).toBe(utcMicros('2024-01-01T00:00:00.123'));
    expect(out.columns[1]![0]).toBe(utcMicros('2024-01-01T00:00:07'));
  });
});

describe('memberText: a top-level member\'s source text', () => {
  it('skips strings with escaped quotes and backslashes, nested values, and whitespace', () => {
    const text = ' { "a\\"b" : "x\\\\", "s" : [ "]" , {"s": 1} ] , "n" :-1.50e3 , "t": "q\\"}" } ';
    expect(JSON.parse(text)).toBeTruthy();
    expect(memberText(text, 's')).toBe('[ "]" , {"s": 1} ]');
    expect(memberText(text, 'n')).toBe('-1.50e3');
    expect(memberText(text, 't')).toBe('"q\\"}"');
    expect(memberText(text, 'a"b')).toBe('"x\\\\"');
    expect(memberText(text, 'missing')).toBeNull();
  });

  it('matches a key written with escapes, and takes the last of duplicates', () => {
    expect(memberText('{"\\u0073":1,"s":2,"\\u0073":3}', 's')).toBe('3');
  });

  it('a record whose STRING field holds an escaped key is still read from its source text', () => {
    const { out } = decode(['{"\\u0073": 12345678901234567890}']);
    expect(out.columns[0]).toEqual(['12345678901234567890']);
  });
});

describe('keys written with escapes and lone surrogates, as Flink reads them', () => {
  it('reads a BIGINT beyond 2^53 under an escaped key exactly; the last of duplicates wins whatever their spelling', () => {
    const sch = fields({ id: 'BIGINT' });
    const { out } = decode([
      '{"\\u0069d": 9007199254740993}',
      '{"id": 9007199254740993, "\\u0069d": 9007199254740995}',
      '{"\\u0069d": 9007199254740993, "id": 9007199254740995}',
      '{"\\u0069\\u0064": 1, "i\\u0064": -9223372036854775807}',
      '{"id": 9007199254740993, "\\u0069d": 7}',
    ], 1000, sch);
    expect(out.deadLetters).toEqual([]);
    expect(out.columns[0]).toEqual([9007199254740993n, 9007199254740995n, 9007199254740995n, -9223372036854775807n, 7]);
  });

  it('makes a record whose declared field holds a lone surrogate a dead letter naming the field and the code unit', () => {
    const sch = fields({ s: 'STRING', tags: 'ARRAY<STRING>', m: 'MAP<STRING, INT>', r: 'ROW<a STRING>' });
    const { out } = decode([
      '{"s":"a\\ud800b"}',
      '{"tags":["ok","\\uDC00"]}',
      '{"m":{"\\udfff":1}}',
      '{"r":{"a":"x\\ud83d"}}',
      // A pair is one character; an escaped backslash before "ud800" is no escape; a field the
      // schema does not declare is not stored; a STRING holding an object keeps its source text.
      '{"s":"\\ud83d\\ude00","tags":["\\\\ud800"],"other":"\\ud800"}',
      '{"s":{"k":"\\ud800"}}',
    ], 1000, sch);
    expect(out.deadLetters.map((d) => [d.index, d.code, d.message])).toEqual([
      [0, 'RECORD_DECODE_FAILED', 'field s: holds a lone surrogate (\\ud800), which UTF-8 cannot encode'],
      [1, 'RECORD_DECODE_FAILED', 'field tags: holds a lone surrogate (\\udc00), which UTF-8 cannot encode'],
      [2, 'RECORD_DECODE_FAILED', 'field m: holds a lone surrogate (\\udfff), which UTF-8 cannot encode'],
      [3, 'RECORD_DECODE_FAILED', 'field r: holds a lone surrogate (\\ud83d), which UTF-8 cannot encode'],
    ]);
    expect(out.count).toBe(2);
    expect(out.columns[0]).toEqual(['😀', '{"k":"\\ud800"}']);
    expect(out.columns[1]).toEqual([['\\ud800'], null]);
  });
});
