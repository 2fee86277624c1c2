import { describe, expect, it } from 'vitest';
import { avroSchemaOf, avroTypeOf } from '../../../src/schema/avro-schema.js';
import { confluentSchemaId, createAvroDecoder, createConfluentAvroDecoder, planFor } from '../../../src/transform/decode/avro-decoder.js';
import { createJsonDecoder } from '../../../src/transform/decode/json-decoder.js';
import { packRawBatch } from '../../../src/kafka/raw-batch.js';
import { SchemaCache, type SchemaLookup } from '../../../src/transform/decode/schema-registry.js';
import { StreamError } from '../../../src/errors.js';
import { fields, utcMicros } from '../helpers.js';

const schema = fields({ s: 'STRING', i: 'INT', b: 'BIGINT', d: 'DOUBLE', f: 'BOOLEAN', ts: 'TIMESTAMP(3)', dt: 'DATE', dec: 'DECIMAL(5, 2)' });

function encode(writerSchema: unknown, value: unknown): Buffer {
  return avroTypeOf(writerSchema).toBuffer(value);
}

function decodePlain(sch: ReturnType<typeof fields>, writer: unknown, values: (Uint8Array | null)[]) {
  const raw = packRawBatch('t', 0, values.map((value, k) => ({ offset: k, timestamp: 0, value })));
  return createAvroDecoder(sch, { schema: writer }, { maxRecordBytes: 10_000 }).decode(raw);
}

function record(fieldsJson: unknown[], name = 'Event'): Record<string, unknown> {
  return { type: 'record', name, namespace: 'com.example', fields: fieldsJson };
}

/** Decodes one value written with `writerFields` as source columns `reader`; the row's values or the dead letter. */
function readAs(reader: Record<string, string>, writerFields: unknown[], value: Record<string, unknown>): unknown[] | string {
  const writer = record(writerFields);
  const out = decodePlain(fields(reader), writer, [encode(writer, value)]);
  return out.count === 1 ? out.columns.map((c) => c[0]) : out.deadLetters[0]?.message ?? 'no row';
}

describe('avro decoder', () => {
  it('reads the schema derived from source_schema into the values the JSON decoder gives', () => {
    const writer = avroSchemaOf(schema);
    const unscaled = Buffer.from([0x04, 0xd2]); // 1234 → 12.34
    const bytes = encode(writer, { s: 'héllo', i: 7, b: 1706975400000n, d: 1.5, f: true, ts: BigInt(Date.parse('2024-02-03T12:30:00.123Z')), dt: 19782, dec: unscaled });
    const avro = decodePlain(schema, null, [bytes]);
    const json = createJsonDecoder(schema, { maxRecordBytes: 10_000 }).decode(
      packRawBatch('t', 0, [{ offset: 0, timestamp: 0, value: '{"s":"héllo","i":7,"b":1706975400000,"d":1.5,"f":true,"ts":"2024-02-03 12:30:00.123","dt":"2024-02-29","dec":12.34}' }]),
    );
    expect(avro.deadLetters).toEqual([]);
    expect(avro.columns.map((c) => c[0])).toEqual(json.columns.map((c) => c[0]));
    expect(avro.columns[5]![0]).toBe(utcMicros('2024-02-03T12:30:00.123'));
  });

  it('keeps a BIGINT beyond 2^53 exact', () => {
    expect(readAs({ b: 'BIGINT' }, [{ name: 'b', type: 'long' }], { b: 9007199254740993n })).toEqual([9007199254740993n]);
  });

  describe('resolution rules', () => {
    it('an added reader field takes its default (null) when the writer lacks it', () => {
      expect(readAs({ a: 'STRING', added: 'INT' }, [{ name: 'a', type: 'string' }], { a: 'x' })).toEqual(['x', null]);
    });
    it('a writer field the reader lacks is skipped', () => {
      expect(readAs({ a: 'STRING' }, [{ name: 'gone', type: 'long' }, { name: 'a', type: 'string' }], { gone: 5n, a: 'x' })).toEqual(['x']);
    });
    it('a NOT NULL reader field the writer lacks does not resolve', () => {
      const plan = planFor(fields({ a: 'STRING', must: 'INT NOT NULL' }), record([{ name: 'a', type: 'string' }]));
      expect(typeof plan).toBe('string');
      expect(plan).toMatch(/does not resolve against source_schema/);
    });
    it('promotes int → long, int → double, long → float, long → double, float → double', () => {
      expect(readAs({ v: 'BIGINT' }, [{ name: 'v', type: 'int' }], { v: 42 })).toEqual([42]);
      expect(readAs({ v: 'DOUBLE' }, [{ name: 'v', type: 'int' }], { v: 42 })).toEqual([42]);
      expect(readAs({ v: 'FLOAT' }, [{ name: 'v', type: 'long' }], { v: 3n })).toEqual([3]);
      expect(readAs({ v: 'DOUBLE' }, [{ name: 'v', type: 'long' }], { v: 1n << 40n })).toEqual([2 ** 40]);
      expect(readAs({ v: 'DOUBLE' }, [{ name: 'v', type: 'float' }], { v: 1.5 })).toEqual([1.5]);
    });
    it('does not narrow: long → int does not resolve', () => {
      expect(planFor(fields({ v: 'INT' }), record([{ name: 'v', type: 'long' }]))).toMatch(/does not resolve/);
    });
    it('reads string as bytes and bytes as string', () => {
      expect(readAs({ v: 'BYTES' }, [{ name: 'v', type: 'string' }], { v: 'hi' })).toEqual([new Uint8Array([104, 105])]);
      expect(readAs({ v: 'STRING' }, [{ name: 'v', type: 'bytes' }], { v: Buffer.from('hi') })).toEqual(['hi']);
    });
    it('reads a non-union writer into a nullable reader union, and a union writer branch by branch', () => {
      expect(readAs({ v: 'STRING' }, [{ name: 'v', type: 'string' }], { v: 'x' })).toEqual(['x']);
      expect(readAs({ v: 'STRING' }, [{ name: 'v', type: ['null', 'string'], default: null }], { v: null })).toEqual([null]);
      expect(readAs({ v: 'BIGINT' }, [{ name: 'v', type: ['null', 'int'] }], { v: 5 })).toEqual([5]);
    });
    it('matches fields by the reader alias the writer used', () => {
      // The writer renamed a → renamed_a and t → renamed_t, keeping the reader's names as aliases;
      // the timestamp's unit (micros, truncated to the column's millis) is the renamed writer field's.
      const t = Date.parse('2024-02-03T12:30:00.123Z');
      const writer = [
        { name: 'renamed_a', type: 'string', aliases: ['a'] },
        { name: 'renamed_t', type: { type: 'long', logicalType: 'timestamp-micros' }, aliases: ['t'] },
      ];
      expect(readAs({ a: 'STRING', t: 'TIMESTAMP(3)' }, writer, { renamed_a: 'x', renamed_t: BigInt(t) * 1000n + 456n })).toEqual(['x', t * 1000]);
      // A field of the reader's own name wins over another field's alias.
      const both = [{ name: 'a', type: 'string' }, { name: 'b', type: 'string', aliases: ['a'] }];
      expect(readAs({ a: 'STRING' }, both, { a: 'by name', b: 'by alias' })).toEqual(['by name']);
    });
  });

  describe('logical types', () => {
    it('timestamp-millis and -micros by the writer, truncated to the column precision', () => {
      const t = Date.parse('2024-02-03T12:30:00.123Z');
      expect(readAs({ ts: 'TIMESTAMP(6)' }, [{ name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' } }], { ts: BigInt(t) })).toEqual([t * 1000]);
      expect(readAs({ ts: 'TIMESTAMP(6)' }, [{ name: 'ts', type: { type: 'long', logicalType: 'timestamp-micros' } }], { ts: BigInt(t) * 1000n + 456n })).toEqual([t * 1000 + 456]);
      expect(readAs({ ts: 'TIMESTAMP(3)' }, [{ name: 'ts', type: { type: 'long', logicalType: 'timestamp-micros' } }], { ts: BigInt(t) * 1000n + 456n })).toEqual([t * 1000]);
      expect(readAs({ ts: 'TIMESTAMP_LTZ(3)' }, [{ name: 'ts', type: ['null', { type: 'long', logicalType: 'timestamp-millis' }] }], { ts: BigInt(t) })).toEqual([t * 1000]);
    });
    it('date, uuid and exact decimals', () => {
      expect(readAs({ d: 'DATE' }, [{ name: 'd', type: { type: 'int', logicalType: 'date' } }], { d: 19782 })).toEqual([19782]);
      expect(readAs({ u: 'STRING' }, [{ name: 'u', type: { type: 'string', logicalType: 'uuid' } }], { u: '123e4567-e89b-12d3-a456-426614174000' })).toEqual(['123e4567-e89b-12d3-a456-426614174000']);
      const dec = { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 3 };
      expect(readAs({ m: 'DECIMAL(10, 3)' }, [{ name: 'm', type: dec }], { m: Buffer.from([0xff, 0x85]) })).toEqual([-123n]);
      expect(readAs({ m: 'DECIMAL(10, 3)' }, [{ name: 'm', type: dec }], { m: Buffer.from([0x00, 0xbc, 0x61, 0x4e]) })).toEqual([12345678n]);
    });
    it('a decimal beyond the column precision is NULL as in Flink, and a dead letter when the column is NOT NULL', () => {
      const dec = { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 };
      expect(readAs({ m: 'DECIMAL(4, 2)' }, [{ name: 'm', type: dec }], { m: Buffer.from([0x01, 0x86, 0xa0]) })).toEqual([null]);
      expect(readAs({ m: 'DECIMAL(4, 2) NOT NULL' }, [{ name: 'm', type: dec }], { m: Buffer.from([0x01, 0x86, 0xa0]) })).toBe('field m: decimal 1000.00 does not fit DECIMAL(4, 2) NOT NULL, and the field is NOT NULL');
    });
  });

  describe('logical types at every depth, from the writer', () => {
    const t = Date.parse('2024-02-03T12:30:00.123Z');
    const millis = { type: 'long', logicalType: 'timestamp-millis' };
    const micros = { type: 'long', logicalType: 'timestamp-micros' };

    it('in a ROW: timestamp-millis into TIMESTAMP(6), local-timestamp-micros into TIMESTAMP(3), date, time-millis and -micros, uuid', () => {
      const inner = record(
        [
          { name: 'ts', type: millis },
          { name: 'local', type: { type: 'long', logicalType: 'local-timestamp-micros' } },
          { name: 'd', type: { type: 'int', logicalType: 'date' } },
          { name: 'tm', type: { type: 'int', logicalType: 'time-millis' } },
          { name: 'tu', type: { type: 'long', logicalType: 'time-micros' } },
          { name: 'u', type: { type: 'string', logicalType: 'uuid' } },
        ],
        'Inner',
      );
      const row = readAs(
        { r: 'ROW<ts TIMESTAMP(6), local TIMESTAMP(3), d DATE, tm TIME(3), tu TIME(6), u STRING>' },
        [{ name: 'r', type: ['null', inner] }],
        { r: { ts: BigInt(t), local: BigInt(t) * 1000n + 456n, d: 19782, tm: 45_000_123, tu: 45_000_123_456n, u: '123e4567-e89b-12d3-a456-426614174000' } },
      );
      expect(row).toEqual([{ ts: t * 1000, local: t * 1000, d: 19782, tm: 45_000_123_000, tu: 45_000_123_456, u: '123e4567-e89b-12d3-a456-426614174000' }]);
    });

    it('in an ARRAY and a MAP, and in a record referred to by name', () => {
      expect(readAs({ a: 'ARRAY<TIMESTAMP(6)>' }, [{ name: 'a', type: { type: 'array', items: millis } }], { a: [BigInt(t), BigInt(t) + 1n] })).toEqual([[t * 1000, (t + 1) * 1000]]);
      expect(readAs({ m: 'MAP<STRING, TIMESTAMP(3)>' }, [{ name: 'm', type: { type: 'map', values: ['null', micros] } }], { m: { k: BigInt(t) * 1000n + 999n } })).toEqual([new Map([['k', t * 1000]])]);
      const inner = { type: 'record', name: 'Stamp', fields: [{ name: 'at', type: millis }] };
      const value = readAs(
        { first: 'ROW<at TIMESTAMP(6)>', again: 'ARRAY<ROW<at TIMESTAMP(6)>>' },
        [{ name: 'first', type: inner }, { name: 'again', type: { type: 'array', items: 'com.example.Stamp' } }],
        { first: { at: BigInt(t) }, again: [{ at: BigInt(t) }] },
      );
      expect(value).toEqual([{ at: t * 1000 }, [{ at: t * 1000 }]]);
    });

    it('a nested value outside its range is the record’s dead letter', () => {
      const out = readAs({ a: 'ARRAY<DATE>' }, [{ name: 'a', type: { type: 'array', items: { type: 'int', logicalType: 'date' } } }], { a: [0, 3_000_000] });
      expect(out).toMatch(/^field a: .*day 3000000\) is outside the DATE range 0000-01-01 to 9999-12-31/);
    });
  });

  describe('dates and times in Flink\'s range (years 0000–9999)', () => {
    const ts = (v: bigint, logicalType = 'timestamp-millis', column = 'TIMESTAMP(3)') => readAs({ ts: column }, [{ name: 'ts', type: { type: 'long', logicalType } }], { ts: v });

    it('a timestamp past year 9999 is a dead letter naming the field and the value, not a wrapped or rounded time', () => {
      const year280000 = BigInt(Date.UTC(2000, 0, 1)) + 278_000n * 31_556_952_000n;
      expect(ts(year280000)).toBe("field ts: 8773779340800000 ms: 280000-01-01 00:00:00.000000 (8773779340800000000 µs since 1970-01-01) is outside the TIMESTAMP range 0000-01-01 00:00:00 to 9999-12-31 23:59:59.999999");
      expect(ts(9_223_372_036_854_775_807n, 'timestamp-micros')).toMatch(/^field ts: 9223372036854775807 µs: .* is outside the TIMESTAMP range/);
      expect(ts(-62_167_219_200_001n)).toMatch(/is outside the TIMESTAMP range/);
    });

    it('keeps the first and last instants of the range, the last one inside year 9999', () => {
      expect(ts(-62_167_219_200_000n)).toEqual([-62_167_219_200_000_000]);
      const last = ts(253_402_300_799_999_999n, 'timestamp-micros', 'TIMESTAMP(6)') as number[];
      expect(last[0]).toBeLessThan(253_402_300_800_000_000);
      expect(last[0]).toBeGreaterThan(253_402_300_799_999_900);
    });

    it('a date outside 0000–9999 and a time outside one day are dead letters', () => {
      expect(readAs({ d: 'DATE' }, [{ name: 'd', type: { type: 'int', logicalType: 'date' } }], { d: 2_932_897 })).toMatch(/^field d: 10000-01-01 \(day 2932897\) is outside the DATE range/);
      expect(readAs({ d: 'DATE' }, [{ name: 'd', type: { type: 'int', logicalType: 'date' } }], { d: 2_932_896 })).toEqual([2_932_896]);
      expect(readAs({ t: 'TIME(3)' }, [{ name: 't', type: { type: 'int', logicalType: 'time-millis' } }], { t: 86_400_000 })).toMatch(/^field t: 86400000 ms is not a time of day/);
    });
  });

  it('makes truncated, trailing and garbage values dead letters and goes on', () => {
    const writer = record([{ name: 'a', type: 'string' }, { name: 'n', type: 'long' }]);
    const good = encode(writer, { a: 'ok', n: 1n });
    const out = decodePlain(fields({ a: 'STRING', n: 'BIGINT' }), writer, [good.subarray(0, 3), Buffer.concat([good, Buffer.from([1])]), Buffer.from([0x7f, 0x7f]), good]);
    expect(out.count).toBe(1);
    expect(out.columns[0]).toEqual(['ok']);
    expect(out.deadLetters.map((d) => d.index)).toEqual([0, 1, 2]);
    for (const d of out.deadLetters) expect(d.message).toMatch(/^invalid Avro: /);
  });

  it('refuses at start an avro_schema that cannot resolve against source_schema', () => {
    expect(() => createAvroDecoder(fields({ a: 'INT' }), { schema: record([{ name: 'a', type: 'string' }]) }, { maxRecordBytes: 100 })).toThrow(StreamError);
  });
});

describe('confluent wire format', () => {
  const v1 = record([{ name: 'id', type: 'long' }, { name: 'name', type: 'string' }]);
  const v2 = record([{ name: 'id', type: 'long' }, { name: 'name', type: 'string' }, { name: 'score', type: 'double', default: 0 }]);
  const framed = (id: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([0, id >>> 24, (id >>> 16) & 255, (id >>> 8) & 255, id & 255]), body]);

  function registry(schemas: Record<number, unknown>) {
    const calls: number[] = [];
    const cache = new SchemaCache(async (id): Promise<SchemaLookup> => {
      calls.push(id);
      const s = schemas[id];
      return s === undefined ? { kind: 'missing', reason: `schema id ${id} is not known to the schema registry` } : { kind: 'found', schema: JSON.stringify(s) };
    });
    return { cache, calls };
  }

  it('reads the schema id from the header, and refuses AWS Glue framing by name', () => {
    expect(confluentSchemaId(framed(258, Buffer.alloc(0)))).toBe(258);
    expect(confluentSchemaId(Buffer.from([3, 0, 1, 2, 3]))).toMatch(/AWS Glue Schema Registry wire format/);
    expect(confluentSchemaId(Buffer.from([1, 0, 0, 0, 1]))).toMatch(/magic byte 0/);
    expect(confluentSchemaId(Buffer.from([0, 0]))).toMatch(/shorter than the Confluent wire-format header/);
  });

  it('decodes records of two schema versions, and makes unknown ids dead letters naming the id', async () => {
    const sch = fields({ id: 'BIGINT', name: 'STRING', score: 'DOUBLE' });
    const { cache, calls } = registry({ 1: v1, 2: v2 });
    const raw = packRawBatch('t', 0, [
      framed(1, avroTypeOf(v1).toBuffer({ id: 1n, name: 'a' })),
      framed(2, avroTypeOf(v2).toBuffer({ id: 2n, name: 'b', score: 2.5 })),
      framed(99, Buffer.from([2])),
      Buffer.from([3, 0, 0, 0, 0, 0]),
    ].map((value, k) => ({ offset: k, timestamp: 0, value })));
    await cache.ensure([1, 2, 99, 1]);
    expect(calls.sort()).toEqual([1, 2, 99]);
    const out = createConfluentAvroDecoder(sch, { schema: null }, { maxRecordBytes: 1000 }, cache).decode(raw);
    expect(out.columns).toEqual([[1, 2], ['a', 'b'], [null, 2.5]]);
    expect(out.deadLetters.map((d) => [d.index, d.message])).toEqual([
      [2, 'schema id 99: schema id 99 is not known to the schema registry'],
      [3, expect.stringMatching(/AWS Glue Schema Registry/)],
    ]);
  });

  it('makes a writer schema that cannot resolve a dead letter naming the id and the reason', async () => {
    const { cache } = registry({ 7: record([{ name: 'id', type: 'string' }]) });
    await cache.ensure([7]);
    const raw = packRawBatch('t', 0, [{ offset: 0, timestamp: 0, value: framed(7, avroTypeOf({ type: 'string' }).toBuffer('x')) }]);
    const out = createConfluentAvroDecoder(fields({ id: 'BIGINT' }), { schema: null }, { maxRecordBytes: 1000 }, cache).decode(raw);
    expect(out.deadLetters[0]!.message).toMatch(/^schema id 7: the writer schema does not resolve against source_schema/);
  });

  it('shares one fetch among concurrent ensures, and an unreachable registry fails the ensure without caching', async () => {
    let fail = true;
    let fetches = 0;
    const cache = new SchemaCache(async (): Promise<SchemaLookup> => {
      fetches++;
      await new Promise((r) => setTimeout(r, 5));
      if (fail) throw new StreamError('SCHEMA_REGISTRY_UNAVAILABLE', 'connection refused');
      return { kind: 'found', schema: JSON.stringify(v1) };
    });
    await expect(Promise.all([cache.ensure([1]), cache.ensure([1])])).rejects.toMatchObject({ code: 'SCHEMA_REGISTRY_UNAVAILABLE', retryable: true });
    expect(fetches).toBe(1);
    expect(cache.get(1)).toBeUndefined();
    fail = false;
    await cache.ensure([1]);
    expect(cache.get(1)?.kind).toBe('found');
    await cache.ensure([1]);
    expect(fetches).toBe(2);
  });

  it('forgets a missing id after a minute', async () => {
    let now = 0;
    let fetches = 0;
    const cache = new SchemaCache(async (): Promise<SchemaLookup> => {
      fetches++;
      return { kind: 'missing', reason: 'unknown' };
    }, () => now);
    await cache.ensure([5]);
    await cache.ensure([5]);
    expect(fetches).toBe(1);
    now = 60_001;
    await cache.ensure([5]);
    expect(fetches).toBe(2);
  });
});
