// Regression: DECIMAL values went through doubles, so `12345678901234567.89` in a DECIMAL(20, 2)
// column was stored as 12345678901234568.00, and an Avro decimal nested in ROW/ARRAY/MAP was read
// at the column's scale instead of the writer's (100× too large). Every format, every depth,
// through the real decoders and transforms, read back from the Arrow batch they produce.

import type * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { compileSqlTransform, transformFor } from '../../src/transform/batch-transform.js';
import { packRawBatch } from '../../src/kafka/raw-batch.js';
import { avroTypeOf } from '../../src/schema/avro-schema.js';
import { decimalAt } from '../../src/iceberg/stats.js';
import { createAvroDecoder } from '../../src/transform/decode/avro-decoder.js';
import { createCsvDecoder } from '../../src/transform/decode/csv-decoder.js';
import { createJsonDecoder } from '../../src/transform/decode/json-decoder.js';
import { BaseTransformer, type Row } from '../../src/transform/transformer.js';
import { fields, pipeline, rowsOf } from './helpers.js';

const NOW = 1767225600000;
const raw = (values: (string | Uint8Array)[]) => packRawBatch('t', 0, values.map((value, k) => ({ offset: k, timestamp: NOW, value })));

/** The unscaled values of a top-level Decimal128 column, exactly; null for a null. */
function unscaled(batch: arrow.RecordBatch, name: string): (bigint | null)[] {
  const data = batch.getChild(name)!.data[0]!;
  return Array.from({ length: data.length }, (_, i) => (data.nullCount > 0 && !batch.getChild(name)!.isValid(i) ? null : decimalAt(data.values as Uint32Array, i)));
}

/** Unscaled values of the Decimal128 leaf under a nested column, at its child path (child indexes). */
function nestedUnscaled(batch: arrow.RecordBatch, name: string, path: number[]): bigint[] {
  let data = batch.getChild(name)!.data[0]!;
  for (const k of path) data = data.children[k]!;
  return Array.from({ length: data.length }, (_, i) => decimalAt(data.values as Uint32Array, i));
}

describe('DECIMAL(20, 2) through a pass-through SQL transform, exactly', () => {
  const config = pipeline({ topic: 't', source: { amt: 'DECIMAL(20, 2)', req: 'DECIMAL(20, 2) NOT NULL' }, sink: { amt: 'DECIMAL(20, 2)', req: 'DECIMAL(20, 2) NOT NULL' } });
  const sql = 'SELECT amt, req FROM kafka_t';

  it('JSON numbers and JSON strings keep every digit', () => {
    const out = compileSqlTransform(config, sql).run(raw([
      '{"amt": 12345678901234567.89, "req": 1}',
      '{"amt": "12345678901234567.89", "req": "1"}',
      '{"amt": 99999999999999999.99, "req": -99999999999999999.99}',
      '{"amt": 0.005, "req": -0.005}',
      '{"amt": 1.2345e3, "req": 0}',
    ]), NOW);
    expect(out.deadLetters).toBeNull();
    expect(unscaled(out.rows, 'amt')).toEqual([1234567890123456789n, 1234567890123456789n, 9999999999999999999n, 1n, 123450n]);
    expect(unscaled(out.rows, 'req')).toEqual([100n, 100n, -9999999999999999999n, -1n, 0n]);
  });

  it('beyond the precision: NULL in a nullable column (Flink), a dead letter naming field and value when NOT NULL', () => {
    const out = compileSqlTransform(config, sql).run(raw([
      '{"amt": 123456789012345678901, "req": 2}',
      '{"amt": 3, "req": 123456789012345678901.5}',
      '{"amt": 4, "req": "1e25"}',
    ]), NOW);
    expect(unscaled(out.rows, 'amt')).toEqual([null]);
    expect(unscaled(out.rows, 'req')).toEqual([200n]);
    expect(rowsOf(out.deadLetters!).map((d) => [d.source_offset, d.error_message])).toEqual([
      [1n, 'field req: 123456789012345678901.5 does not fit DECIMAL(20, 2) NOT NULL (at most 18 digits before the point), and the field is NOT NULL'],
      [2n, 'field req: 1e25 does not fit DECIMAL(20, 2) NOT NULL (at most 18 digits before the point), and the field is NOT NULL'],
    ]);
  });

  it('a wider SQL result written into the column: NULL past its precision, or a dead letter naming column and value when NOT NULL', () => {
    const out = compileSqlTransform(config, 'SELECT amt + amt AS amt, req + req AS req FROM kafka_t').run(raw([
      '{"amt": 999999999999999999.99, "req": 1.25}',
      '{"amt": 1, "req": 999999999999999999.99}',
    ]), NOW);
    expect(unscaled(out.rows, 'amt')).toEqual([null]);
    expect(unscaled(out.rows, 'req')).toEqual([250n]);
    expect(rowsOf(out.deadLetters!).map((d) => [d.source_offset, d.error_message])).toEqual([
      [1n, 'column req: 1999999999999999999.98 does not fit DECIMAL(20, 2) NOT NULL, and the column is NOT NULL'],
    ]);
  });

  it('JSON decimals nested in ROW, ARRAY and MAP keep every digit, and are written nested', () => {
    const nested = pipeline({
      topic: 't',
      source: { r: 'ROW<amt DECIMAL(20, 2)>', a: 'ARRAY<DECIMAL(20, 2)>', m: 'MAP<STRING, DECIMAL(20, 2)>' },
      sink: { r: 'ROW<amt DECIMAL(20, 2)>', a: 'ARRAY<DECIMAL(20, 2)>', m: 'MAP<STRING, DECIMAL(20, 2)>' },
    });
    const out = compileSqlTransform(nested, 'SELECT r, a, m FROM kafka_t').run(raw([
      '{"r": {"amt": 12345678901234567.89}, "a": [99999999999999999.99, "12345678901234567.89"], "m": {"k": 12345678901234567.89}}',
    ]), NOW);
    expect(out.deadLetters).toBeNull();
    expect(nestedUnscaled(out.rows, 'r', [0])).toEqual([1234567890123456789n]);
    expect(nestedUnscaled(out.rows, 'a', [0])).toEqual([9999999999999999999n, 1234567890123456789n]);
    expect(nestedUnscaled(out.rows, 'm', [0, 1])).toEqual([1234567890123456789n]);
  });

  it('CAST of a container holding a DECIMAL to STRING writes the exact digits', () => {
    const cfg = pipeline({ topic: 't', source: { r: 'ROW<amt DECIMAL(20, 2), n INT>', a: 'ARRAY<DECIMAL(5, 1)>' }, sink: { s: 'STRING', t: 'STRING' } });
    const out = compileSqlTransform(cfg, 'SELECT CAST(r AS STRING) AS s, CAST(a AS STRING) AS t FROM kafka_t').run(raw(['{"r": {"amt": 12345678901234567.89, "n": 1}, "a": [1.25, null]}']), NOW);
    expect(out.deadLetters).toBeNull();
    expect(rowsOf(out.rows)).toEqual([{ s: '{"amt":12345678901234567.89,"n":1}', t: '[1.3,null]' }]);
  });

  it('beside a nested DECIMAL, other long numbers read as they always have', () => {
    const source = fields({ r: 'ROW<amt DECIMAL(20, 2), d DOUBLE, b BYTES, s STRING>' });
    const decode = (json: string) => createJsonDecoder(source, { maxRecordBytes: 10_000 }).decode(raw([json]));
    const ok = decode('{"r": {"amt": 12345678901234567.89, "d": 0.1000000000000000055511, "s": "x", "extra": {"n": 12345678901234567.89}}}');
    expect(ok.deadLetters).toEqual([]);
    expect(ok.columns[0]).toEqual([{ amt: 1234567890123456789n, d: 0.1, b: null, s: 'x' }]);
    // A long number where BYTES are declared is still refused, not read as base64 text.
    const bad = decode('{"r": {"amt": 1, "b": 12345678901234567890}}');
    expect(bad.deadLetters.map((d) => d.message)).toEqual([expect.stringMatching(/^field r: .*cannot be read as BYTES/)]);
  });

  it('CSV text keeps every digit', () => {
    const csv = createCsvDecoder(fields({ id: 'INT', amt: 'DECIMAL(20, 2)' }), undefined, { maxRecordBytes: 10_000 });
    const out = csv.decode(raw(['1,12345678901234567.89\n', '2,99999999999999999.99\n']));
    expect(out.columns[1]).toEqual([1234567890123456789n, 9999999999999999999n]);
  });
});

describe('Avro decimals at every depth take the writer’s scale', () => {
  const dec4 = { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 4 };
  const writer = {
    type: 'record',
    name: 'Order',
    namespace: 'com.example',
    fields: [
      { name: 'top', type: dec4 },
      { name: 'r', type: { type: 'record', name: 'Amount', fields: [{ name: 'amt', type: dec4 }] } },
      { name: 'rs', type: { type: 'array', items: { type: 'record', name: 'Line', fields: [{ name: 'amt', type: ['null', dec4] }] } } },
      { name: 'a', type: { type: 'array', items: dec4 } },
      { name: 'm', type: ['null', { type: 'map', values: dec4 }] },
    ],
  };
  const bytes = (u: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(u);
    return b;
  };
  const source = fields({
    top: 'DECIMAL(10, 2)',
    r: 'ROW<amt DECIMAL(10, 2)>',
    rs: 'ARRAY<ROW<amt DECIMAL(10, 2)>>',
    a: 'ARRAY<DECIMAL(10, 2)>',
    m: 'MAP<STRING, DECIMAL(10, 2)>',
  });

  it('writer scale 4 into scale-2 columns: 12.3456 → 12.35 (HALF_UP), -0.0050 → -0.01, not 100× too large', () => {
    const value = avroTypeOf(writer).toBuffer({ top: bytes(123456), r: { amt: bytes(123456) }, rs: [{ amt: bytes(-50) }], a: [bytes(123456), bytes(-50)], m: { k: bytes(123449) } });
    const out = createAvroDecoder(source, { schema: writer }, { maxRecordBytes: 10_000 }).decode(raw([value]));
    expect(out.deadLetters).toEqual([]);
    expect(out.columns.map((c) => c[0])).toEqual([1235n, { amt: 1235n }, [{ amt: -1n }], [1235n, -1n], new Map([['k', 1234n]])]);
  });
});

describe('Avro fixed decimals', () => {
  it('a writer carrying decimals as fixed resolves against the derived bytes reader, at the top and nested', () => {
    const money = { type: 'fixed', name: 'Money', size: 8, logicalType: 'decimal', precision: 18, scale: 4 };
    const writer = {
      type: 'record',
      name: 'Payment',
      fields: [
        { name: 'amt', type: money },
        { name: 'r', type: { type: 'record', name: 'Fee', fields: [{ name: 'fee', type: ['null', { type: 'fixed', name: 'Fee4', size: 4, logicalType: 'decimal', precision: 9, scale: 4 }] }] } },
      ],
    };
    const fixed = (u: bigint, size: number) => {
      const b = Buffer.alloc(size);
      if (size === 8) b.writeBigInt64BE(u);
      else b.writeInt32BE(Number(u));
      return b;
    };
    const value = avroTypeOf(writer).toBuffer({ amt: fixed(-1234567890123456n, 8), r: { fee: fixed(5n, 4) } });
    const source = fields({ amt: 'DECIMAL(18, 2)', r: 'ROW<fee DECIMAL(9, 2)>' });
    const out = createAvroDecoder(source, { schema: writer }, { maxRecordBytes: 10_000 }).decode(raw([value]));
    expect(out.deadLetters).toEqual([]);
    // -123456789012.3456 → -123456789012.35; 0.0005 → 0.00 (HALF_UP: 0.0005 is below the half of 0.01).
    expect(out.columns.map((c) => c[0])).toEqual([-12345678901235n, { fee: 0n }]);
  });
});

describe('TypeScript row transformers see decimal text and may return text, a bigint or a number', () => {
  class Doubler extends BaseTransformer {
    seen: unknown[] = [];
    map(row: Row): Row {
      this.seen.push(row.amt, row.r);
      const r = row.r as { amt: string };
      return { amt: row.amt, twice: BigInt(String(row.amt).replace('.', '')) * 2n === 2469135780246913578n ? '24691357802469135.78' : 'wrong', whole: 12345678901234567890n, approx: 0.125, r: { amt: r.amt } };
    }
  }
  const config = pipeline({
    topic: 't',
    source: { amt: 'DECIMAL(20, 2)', r: 'ROW<amt DECIMAL(20, 2)>' },
    sink: { amt: 'DECIMAL(20, 2)', twice: 'DECIMAL(20, 2)', whole: 'DECIMAL(22, 2)', approx: 'DECIMAL(5, 2)', r: 'ROW<amt DECIMAL(20, 2)>' },
  });

  it('exact both ways, at the top and nested', () => {
    const t = new Doubler(config);
    const out = transformFor(config, t, 'rows', null).run(raw(['{"amt": 12345678901234567.89, "r": {"amt": 99999999999999999.99}}']), NOW);
    expect(t.seen).toEqual(['12345678901234567.89', { amt: '99999999999999999.99' }]);
    expect(out.deadLetters).toBeNull();
    expect(unscaled(out.rows, 'amt')).toEqual([1234567890123456789n]);
    expect(unscaled(out.rows, 'twice')).toEqual([2469135780246913578n]);
    expect(unscaled(out.rows, 'whole')).toEqual([1234567890123456789000n]);
    expect(unscaled(out.rows, 'approx')).toEqual([13n]);
    expect(nestedUnscaled(out.rows, 'r', [0])).toEqual([9999999999999999999n]);
  });

  it('a returned value beyond the column is the record’s dead letter, naming the column', () => {
    class Big extends BaseTransformer {
      map(): Row {
        return { amt: '1', twice: '1', whole: '1', approx: '1000.5', r: null };
      }
    }
    const out = transformFor(config, new Big(config), 'rows', null).run(raw(['{"amt": 1}']), NOW);
    expect(out.rows.numRows).toBe(0);
    expect(rowsOf(out.deadLetters!).map((d) => d.error_message)).toEqual(["map() returned '1000.5' for column approx, which does not fit DECIMAL(5, 2)"]);
  });
});
