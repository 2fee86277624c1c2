// The JSON byte reader against the exact path: the same seeded records (valid, edge and broken)
// through the decoder with and without it must give the same columns, row indices, dead letters
// and their wording. The generator writes JSON text by hand, so it can spell what JSON.stringify
// never would: exponents, -0, 20-digit integers, escapes of every kind, lone surrogates,
// duplicate and escaped keys, whitespace anywhere, bytes that are not UTF-8.

import { describe, expect, it } from 'vitest';
import { BYTE_READER_REST, BYTE_READER_TRIAL, createJsonDecoder, type DecodedBatch } from '../../../src/transform/decode/json-decoder.js';
import { byteReaderEnabledByEnv, byteReaderRefusal, createJsonByteReader } from '../../../src/transform/decode/json-byte-reader.js';
import { packRawBatch } from '../../../src/kafka/raw-batch.js';
import type { FieldConfig } from '../../../src/config/types.js';
import { buildTransform } from '../../../src/transform/batch-transform.js';
import { sampleRecord } from '../../../src/tools/sample-events.js';
import { entry, fields, pipeline, rowsOf } from '../helpers.js';

/** mulberry32: small, seeded, the same sequence on every machine. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NUMBERS = [
  '0', '-0', '1', '-1', '7', '2147483647', '2147483648', '-2147483648', '-2147483649', '999999999999999', '1000000000000000',
  '9007199254740991', '9007199254740992', '9007199254740993', '-9007199254740993', '9223372036854775807', '9223372036854775808',
  '-9223372036854775808', '-9223372036854775809', '12345678901234567890123', '1.5', '-0.0', '0.1', '1e3', '1E+2', '2.5e-3',
  '1e400', '-1e400', '123.456', '99999999.995', '1.005', '12345678.901', '1706975400000', '3.9', '-3.9', '1e-400',
  '01', '1.', '.5', '-', '+1', '1e', '0x10', 'NaN', 'Infinity', '1' + '0'.repeat(60),
];

const STRINGS = [
  'plain', '', 'héllo', '日本', '😀', 'a\\"b', 'back\\\\slash', '\\/', 'line\\nbreak', 'tab\\t', '\\u00e9t\\u00E9', '\\u0000',
  '\\ud83d\\ude00', '\\ud800', 'x\\udc00y', '\\x', '\\u12', 'ctl\u0001', '2024-02-29', '2023-02-29', ' 2024-01-01 ', '12:30:00.123',
  '25:00', '2024-02-03 12:30:00.123456789', '2024-02-03T12:30:00Z', '2024-02-03 24:00:00', ' 12 ', '12', '-5', 'TRUE', 'false',
  'yes', '1e3', '2.5', '12.345', '99999999999', 'aGVsbG8=', 'not base64!', '9223372036854775807', '\u2028', '\\u2028', '\uFFFD',
];

const DECLARED = ['s', 'i', 'b', 'f', 'd', 'dec', 'dt', 't', 'ts', 'tl', 'flag', 'by', 'arr', 'r', 'm', 'constructor', 'città'];

const schema = fields({
  s: 'STRING',
  i: 'INT',
  b: 'BIGINT',
  f: 'FLOAT',
  d: 'DOUBLE',
  dec: 'DECIMAL(10, 2)',
  dt: 'DATE',
  t: 'TIME(3)',
  ts: 'TIMESTAMP(3)',
  tl: 'TIMESTAMP_LTZ(6)',
  flag: 'BOOLEAN',
  by: 'BYTES',
  arr: 'ARRAY<INT>',
  r: 'ROW<a STRING, n BIGINT>',
  m: 'MAP<STRING, DOUBLE>',
  constructor: 'STRING',
  città: 'STRING',
});

const notNullSchema = fields({ id: 'BIGINT NOT NULL', name: 'STRING NOT NULL', amount: 'DECIMAL(5, 2) NOT NULL', at: 'TIMESTAMP(3)' });

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function space(r: () => number): string {
  return r() < 0.85 ? '' : pick(r, [' ', '\n', '\t', '\r\n  ', '  ']);
}

function randomDigits(r: () => number): string {
  const len = 1 + Math.floor(r() * 20);
  let s = String(1 + Math.floor(r() * 9));
  for (let k = 1; k < len; k++) s += String(Math.floor(r() * 10));
  return (r() < 0.3 ? '-' : '') + s;
}

/** A JSON value's text, valid or not, nested up to `depth` more levels. */
function value(r: () => number, depth: number): string {
  const x = r();
  if (x < 0.25) return r() < 0.5 ? pick(r, NUMBERS) : r() < 0.5 ? randomDigits(r) : String((r() - 0.5) * 10 ** Math.floor(r() * 12));
  if (x < 0.55) return `"${pick(r, STRINGS)}"`;
  if (x < 0.65) return pick(r, ['true', 'false', 'null', 'nul', 'True']);
  if (depth <= 0) return '"leaf"';
  if (x < 0.8) {
    const n = Math.floor(r() * 4);
    return `[${space(r)}${Array.from({ length: n }, () => value(r, depth - 1)).join(`${space(r)},${space(r)}`)}${space(r)}]`;
  }
  const n = Math.floor(r() * 4);
  const members = Array.from({ length: n }, () => `${key(r)}${space(r)}:${space(r)}${value(r, depth - 1)}`);
  return `{${space(r)}${members.join(`${space(r)},${space(r)}`)}${space(r)}}`;
}

function key(r: () => number): string {
  return `"${pick(r, ['a', 'n', 'x', 'a\\u0062', 'n', 'é', ...DECLARED])}"`;
}

// Values each field's type takes, edges included: what a clean record is made of.
const CLEAN: Record<string, readonly string[]> = {
  text: ['{"a":[1,"x",{"é":null}],"b":"\\u0041"}', '[1, 2]', '{"a":"x y"}', '"plain"', '""', '"héllo"', '"日本😀"', '"a\\"b"', '"\\u00e9\\n\\/"', '"\\ud83d\\ude00"', '42', '-0', '1.50', '1e400', 'true', 'null'],
  int: ['0', '-0', '7', '1.0', '-3.9', '-0.5', '1e3', '2.5E+1', '-2147483648', '2147483647', '" 12 "', 'null'],
  bigint: ['0', '-0', '1706975400000', '1.5e3', '-2.7', '9.2e18', '1e20', '1706975400000.9', '999999999999999', '9007199254740991', '9007199254740993', '-9223372036854775808', '9223372036854775807', '"-12"', '"9007199254740993"'],
  float: ['0', '-0.0', '0.1', '1e3', '2.5e-3', '3.4028235e38', '1e400', '123456789012345678', '"2.5"'],
  decimal: ['12.345', '-0.005', '12345678.90', '1e-3', '"7.5"', '0.125', '99999999.994', '12345678901234567.89'],
  dt: ['"2024-02-29"', '"0000-01-01"', '"9999-12-31"', '" 2024-1-5 "'],
  t: ['"12:30"', '"12:30:00.123456"', '"23:59:59"'],
  ts: ['"2024-02-03 12:30:00.123"', '"2024-02-03T12:30:00.1234567Z"', '"2024-02-03"'],
  flag: ['true', 'false', '"true"', '" FALSE "'],
  by: ['"aGVsbG8="', '""', '"AAEC"'],
  arr: ['[1,2,3]', '[]', '[1.5,"2",null]', '[ 1 , 2 ]'],
  r: ['{"a":"x","n":5}', '{}', '{"a":"\\u00e9","n":"7"}', '{"a":null,"a":"dup"}', '{"a":1.0}'],
  m: ['{"k":1.5,"j":2}', '{}', '{"k":null}', '{"k":1e400}'],
};

const POOL: Record<string, string> = {
  s: 'text', constructor: 'text', città: 'text', name: 'text', i: 'int', b: 'bigint', id: 'bigint', f: 'float', d: 'float',
  dec: 'decimal', amount: 'decimal', dt: 'dt', t: 't', ts: 'ts', tl: 'ts', at: 'ts', flag: 'flag', by: 'by', arr: 'arr', r: 'r', m: 'm',
};

/** A value for a field: one its type takes in a clean record; in a hostile one, often anything. */
function valueFor(r: () => number, name: string, hostile: boolean): string {
  if (!hostile || r() < 0.5) return pick(r, CLEAN[POOL[name]!]!);
  if (r() < 0.5) return value(r, 3);
  return POOL[name] === 'int' || POOL[name] === 'bigint' ? randomDigits(r) : pick(r, NUMBERS);
}

/** One record's bytes: members of the schema in some order, extra members, and in a hostile record now and then damage. */
function record(r: () => number, names: readonly string[]): Uint8Array {
  const hostile = r() < 0.4;
  const members: string[] = [];
  for (const name of names) {
    if (r() < (hostile ? 0.15 : 0.05)) continue; // missing
    const k = hostile && r() < 0.03 && name === 's' ? '"\\u0073"' : JSON.stringify(name);
    members.push(`${k}${space(r)}:${space(r)}${valueFor(r, name, hostile)}`);
    if (hostile && r() < 0.05) members.push(`${k}:${valueFor(r, name, hostile)}`); // duplicate
  }
  const extras = Math.floor(r() * 3);
  for (let k = 0; k < extras; k++) members.push(`${key(r)}:${hostile ? value(r, 4) : pick(r, ['1', '"x"', '[{"y":null}]', '{"é":[]}'])}`);
  if (r() < 0.3) members.sort(() => r() - 0.5);
  let text = `${space(r)}{${space(r)}${members.join(`${space(r)},${space(r)}`)}${space(r)}}${space(r)}`;
  if (!hostile) return Buffer.from(text, 'utf8');
  const damage = r();
  if (damage < 0.08) text = text.slice(0, Math.floor(r() * text.length));
  else if (damage < 0.12) text += pick(r, ['x', '}', ',', ' {}']);
  else if (damage < 0.14) text = pick(r, ['[]', '"str"', '42', 'null', '', '   ']);
  else if (damage < 0.16) text = text.replace('}', ',}');
  let bytes: Uint8Array = Buffer.from(text, 'utf8');
  if (r() < 0.1) {
    // Not UTF-8: a stray byte, a cut sequence, an encoded surrogate, an overlong slash.
    const bad = pick(r, [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf0, 0x9f, 0x98]]);
    const at = bytes.indexOf(0x22, Math.floor(r() * bytes.length));
    if (at > 0) bytes = Buffer.concat([bytes.subarray(0, at + 1), Buffer.from(bad), bytes.subarray(at + 1)]);
  }
  return bytes;
}

function decodeBoth(sch: FieldConfig[], values: (Uint8Array | string | null)[]): { fast: DecodedBatch; exact: DecodedBatch } {
  const raw = packRawBatch('t', 0, values.map((value, k) => ({ offset: k, timestamp: 0, value })));
  const fast = createJsonDecoder(sch, { maxRecordBytes: 1_000, byteReader: true }).decode(raw);
  const exact = createJsonDecoder(sch, { maxRecordBytes: 1_000, byteReader: false }).decode(raw);
  return { fast, exact };
}

/** Decoded batches compared as the sink would see them; byteRead is the only field allowed to differ. */
function sameOutput(fast: DecodedBatch, exact: DecodedBatch): void {
  expect({ ...fast, byteRead: undefined }).toEqual({ ...exact, byteRead: undefined });
  // toEqual tells -0 from 0 and 1n from 1, but say it outright for the scalar cells.
  fast.columns.forEach((col, k) => col.forEach((v, j) => typeof v !== 'object' && expect(Object.is(v, exact.columns[k]![j]), `column ${k} row ${j}`).toBe(true)));
}

describe('json byte reader', () => {
  for (const [label, sch, seed] of [
    ['every scalar type, containers, inherited and non-ASCII names', schema, 20261204],
    ['NOT NULL fields', notNullSchema, 7],
  ] as const) {
    it(`gives the exact path's columns and dead letters on seeded records: ${label}`, () => {
      const r = rng(seed);
      const names = sch.map((f) => f.name);
      const values: (Uint8Array | string | null)[] = [];
      for (let k = 0; k < 4_000; k++) values.push(r() < 0.01 ? null : record(r, names));
      values.push('{"s":"' + 'x'.repeat(2_000) + '"}'); // over maxRecordBytes
      const { fast, exact } = decodeBoth(sch, values);
      sameOutput(fast, exact);
      // Both paths must have been exercised, or the comparison proves nothing.
      expect(fast.byteRead).toBeGreaterThan(values.length * 0.1);
      expect(fast.byteRead).toBeLessThan(fast.count);
      expect(exact.byteRead).toBe(0);
      expect(fast.deadLetters.length).toBeGreaterThan(values.length * 0.05);
    });
  }

  it('gives the shipped bid_events_raw the same rows, dead letters and counts on the seed generator’s records, malformed ones among them', async () => {
    const source = { event_name: 'STRING', user_id: 'BIGINT', city_id: 'BIGINT', platform: 'STRING', session_id: 'STRING', timestamp_ms: 'BIGINT' };
    const sink = { event_name: 'STRING', user_id: 'BIGINT', city_id: 'BIGINT', platform: 'STRING', session_id: 'STRING', event_time: 'TIMESTAMP(3)', ingestion_time: 'TIMESTAMP(3)' };
    const config = pipeline({ topic: 'bid-events', source, sink, sinkTable: 'parsed_events', transformation: 'bid_events_raw' });
    const spec = { pipeline: config, entry: entry('bid_events_raw', 'BidEventsRawTransformer', 'transformations.bid_events_raw') };
    const records = Array.from({ length: 3_000 }, (_, k) => sampleRecord(config.sourceSchema, k, { seed: 42, malformedRatio: 0.2 }));
    const raw = packRawBatch('bid-events', 0, records.map((r, k) => ({ offset: k, timestamp: 1767225600000, key: r.key, value: r.value })));
    const before = process.env.STREAMBERG_JSON_BYTE_READER;
    try {
      delete process.env.STREAMBERG_JSON_BYTE_READER;
      const fast = (await buildTransform(spec)).run(raw, 1767225600000);
      process.env.STREAMBERG_JSON_BYTE_READER = 'off';
      const exact = (await buildTransform(spec)).run(raw, 1767225600000);
      expect(fast.stats).toEqual(exact.stats);
      expect(exact.stats.rows).toBeGreaterThan(2_000);
      expect(exact.deadLetters).not.toBeNull();
      expect(rowsOf(fast.rows)).toEqual(rowsOf(exact.rows));
      expect(rowsOf(fast.deadLetters!)).toEqual(rowsOf(exact.deadLetters!));
    } finally {
      if (before === undefined) delete process.env.STREAMBERG_JSON_BYTE_READER;
      else process.env.STREAMBERG_JSON_BYTE_READER = before;
    }
  });

  it('reads plain records itself, straight into the columns', () => {
    const reader = createJsonByteReader(schema)!;
    const text = '{"constructor":{"a":["x",1.0]},"s":"héllo","i":-7,"b":1706975400000,"f":0.1,"d":-0,"dec":12.345,"dt":"2024-02-29","flag":true,"arr":[1,2],"r":{"a":"x","n":5},"m":{"k":1.5},"extra":[{"deep":[null]}]}';
    const buf = Buffer.from(text);
    const columns: unknown[][] = schema.map(() => []);
    expect(reader.read(buf, 0, buf.length, columns, 0)).toBe(true);
    const row = columns.map((c) => c[0]);
    expect(row.slice(0, 7)).toEqual(['héllo', -7, 1706975400000, Math.fround(0.1), -0, 1235n, 19782]);
    expect(Object.is(row[4], -0)).toBe(true);
    expect(row.slice(10, 17)).toEqual([true, null, [1, 2], { a: 'x', n: 5 }, new Map([['k', 1.5]]), '{"a":["x",1.0]}', null]);
  });

  it('hands back what only the exact path may decide', () => {
    const reader = createJsonByteReader(schema)!;
    const cases = [
      '{"s":"a","s":"b"}', // duplicate member
      '{"\\u0073":"a"}', // escaped key
      '{"s":"\\ud800"}', // lone surrogate
      '{"i":2.5e9}', // beyond INT, written with an exponent
      '{"i":2147483648}', // beyond INT
      '{"b":99999999999999999999}', // beyond BIGINT
      '{"s":{"a": 1}}', // container in STRING, whitespace in it
      '{"flag":1}', // number for BOOLEAN
      '{"dt":"2023-02-29"}', // not a date
      '{"s":"a"} x', // trailing text
      '{"s":"a",}', // trailing comma
      '{"x":[1,}', // broken member no field reads
      '[1]',
    ];
    for (const text of cases) {
      const buf = Buffer.from(text);
      expect(reader.read(buf, 0, buf.length, schema.map(() => []), 0), text).toBe(false);
    }
    const notUtf8 = Buffer.from([0x7b, 0x22, 0x78, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]); // {"x":"\xff"}
    expect(reader.read(notUtf8, 0, notUtf8.length, schema.map(() => []), 0)).toBe(false);
    const missing = Buffer.from('{"id":1,"amount":2}');
    expect(createJsonByteReader(notNullSchema)!.read(missing, 0, missing.length, notNullSchema.map(() => []), 0)).toBe(false);
  });

  it('rests after a batch it could barely read, then tries again; what is read never changes', () => {
    const decoder = createJsonDecoder(schema, { maxRecordBytes: 1_000, byteReader: true });
    const exact = createJsonDecoder(schema, { maxRecordBytes: 1_000, byteReader: false });
    const batchOf = (value: (k: number) => string) => packRawBatch('t', 0, Array.from({ length: BYTE_READER_TRIAL }, (_, k) => ({ offset: k, timestamp: 0, value: value(k) })));
    const pretty = batchOf((k) => `{"s": {"payload": [${k}, 2]}, "i": ${k}}`); // whitespace in a container of a STRING field
    const plain = batchOf((k) => `{"s":"v${k}","i":${k}}`);
    const first = decoder.decode(pretty);
    expect(first.byteRead).toBe(0);
    expect(first).toEqual({ ...exact.decode(pretty), byteRead: 0 });
    for (let b = 0; b < BYTE_READER_REST; b++) {
      const out = decoder.decode(plain);
      expect(out.byteRead).toBe(0);
      expect(out).toEqual({ ...exact.decode(plain), byteRead: 0 });
    }
    expect(decoder.decode(plain).byteRead).toBe(BYTE_READER_TRIAL);
  });

  it('leaves a schema with a DECIMAL inside a container to the exact path', () => {
    const sch = fields({ id: 'BIGINT', prices: 'ARRAY<DECIMAL(10, 2)>' });
    expect(byteReaderRefusal(sch)).toMatch(/prices/);
    expect(createJsonByteReader(sch)).toBeNull();
    expect(createJsonDecoder(sch, { maxRecordBytes: 100 }).decode(packRawBatch('t', 0, [{ offset: 0, timestamp: 0, value: '{"id":1}' }])).byteRead).toBe(0);
  });

  it('is on by default and off by STREAMBERG_JSON_BYTE_READER=off', () => {
    expect(byteReaderEnabledByEnv({})).toBe(true);
    for (const off of ['off', '0', 'false', ' OFF ']) expect(byteReaderEnabledByEnv({ STREAMBERG_JSON_BYTE_READER: off })).toBe(false);
    expect(byteReaderEnabledByEnv({ STREAMBERG_JSON_BYTE_READER: 'on' })).toBe(true);
    const raw = packRawBatch('t', 0, [{ offset: 0, timestamp: 0, value: '{"s":"a","i":1}' }]);
    const before = process.env.STREAMBERG_JSON_BYTE_READER;
    try {
      process.env.STREAMBERG_JSON_BYTE_READER = 'off';
      expect(createJsonDecoder(schema, { maxRecordBytes: 100 }).decode(raw).byteRead).toBe(0);
      delete process.env.STREAMBERG_JSON_BYTE_READER;
      expect(createJsonDecoder(schema, { maxRecordBytes: 100 }).decode(raw).byteRead).toBe(1);
    } finally {
      if (before === undefined) delete process.env.STREAMBERG_JSON_BYTE_READER;
      else process.env.STREAMBERG_JSON_BYTE_READER = before;
    }
  });
});
