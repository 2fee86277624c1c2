// Every scalar and nested source type decoded from JSON and written through SELECT * into a sink
// of the same types, checked value by value in the Arrow output.
import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { compileSqlTransform } from '../../src/transform/batch-transform.js';
import { packRawBatch } from '../../src/kafka/raw-batch.js';
import { pipeline } from './helpers.js';

const TYPES = {
  s: 'STRING', b: 'BOOLEAN', i: 'INT', l: 'BIGINT', f: 'FLOAT', d: 'DOUBLE', dec: 'DECIMAL(10, 3)', dt: 'DATE',
  tm: 'TIME(3)', ts: 'TIMESTAMP(6)', lt: 'TIMESTAMP_LTZ(3)', by: 'BYTES', arr: 'ARRAY<STRING>', m: 'MAP<STRING, INT>', r: 'ROW<x INT, y STRING>',
};

describe('all types through SELECT *', () => {
  it('decodes JSON and writes Arrow of the mapped types', () => {
    const config = pipeline({ topic: 't', source: TYPES, sink: TYPES });
    const t = compileSqlTransform(config, 'SELECT * FROM kafka_t');
    const value = JSON.stringify({
      s: 'x', b: false, i: -1, l: 9007199254740991, f: 0.5, d: -2.25, dec: '1234567.891', dt: '1999-12-31', tm: '23:59:58.5',
      ts: '2024-02-03 15:50:00.123456', lt: '2024-02-03T15:50:00.123Z', by: 'AQID', arr: ['p', null], m: { k: 3 }, r: { x: 7 },
    });
    const out = t.run(packRawBatch('t', 0, [{ offset: 0, timestamp: 0, value }, { offset: 1, timestamp: 0, value: '{}' }]), 0);
    expect(out.deadLetters).toBeNull();
    const rb = out.rows;
    const get = (name: string, i = 0) => rb.getChild(name)!.get(i);
    const raw64 = (name: string) => (rb.getChild(name)!.data[0]!.values as BigInt64Array)[0];
    expect(get('s')).toBe('x');
    expect(get('b')).toBe(false);
    expect(get('i')).toBe(-1);
    expect(get('l')).toBe(9007199254740991n);
    expect(get('f')).toBe(0.5);
    expect(get('d')).toBe(-2.25);
    expect([...(rb.getChild('dec')!.data[0]!.values as Uint32Array).subarray(0, 4)]).toEqual([1234567891, 0, 0, 0]);
    expect((rb.getChild('dt')!.data[0]!.values as Int32Array)[0]).toBe(10956);
    expect(raw64('tm')).toBe(86398500000n);
    expect(raw64('ts')).toBe(1706975400123456n);
    expect(raw64('lt')).toBe(1706975400123000n);
    expect([...(get('by') as Uint8Array)]).toEqual([1, 2, 3]);
    expect([...(get('arr') as arrow.Vector)]).toEqual(['p', null]);
    expect((get('m') as arrow.MapRow).toJSON()).toEqual({ k: 3 });
    expect((get('r') as arrow.StructRow).toJSON()).toEqual({ x: 7, y: null });
    for (const f of rb.schema.fields) expect(rb.getChild(f.name)!.isValid(1)).toBe(false);
    expect(rb.schema.fields.map((f) => String(f.type))).toEqual([
      'Utf8', 'Bool', 'Int32', 'Int64', 'Float32', 'Float64', 'Decimal[10e+3]', 'Date32<DAY>', 'Time64<MICROSECOND>',
      'Timestamp<MICROSECOND>', 'Timestamp<MICROSECOND, UTC>', 'Binary', 'List<Utf8>', 'Map<{key:Utf8, value:Int32}>', 'Struct<{x:Int32, y:Utf8}>',
    ]);
  });
});
