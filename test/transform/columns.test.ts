import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { parseSqlType } from '../../src/schema/sql-types.js';
import { buildColumn, Utf8ColumnBuilder } from '../../src/transform/columns.js';

const col = (values: unknown[], type: string, sel: Int32Array | null = null) =>
  arrow.makeVector(buildColumn(values, parseSqlType(type), sel, sel === null ? values.length : sel.length));

describe('column builders', () => {
  it('UTF-8 strings with nulls, multi-byte text and growth past the first buffer', () => {
    const long = 'é'.repeat(5000);
    const v = col(['a', null, 'ü😀', long, ''], 'STRING');
    expect(v.toArray()).toEqual(['a', null, 'ü😀', long, '']);
    expect(v.nullCount).toBe(1);
  });

  it('takes the selected rows only, in selection order', () => {
    expect(col(['a', 'b', 'c', 'd'], 'STRING', new Int32Array([3, 1])).toArray()).toEqual(['d', 'b']);
    expect([...col([1, 2, 3], 'INT', new Int32Array([2, 0])).toArray()]).toEqual([3, 1]);
  });

  it('numbers, booleans, dates with validity bitmaps', () => {
    const i = col([1, null, -3], 'INT');
    expect([i.get(0), i.get(1), i.get(2)]).toEqual([1, null, -3]);
    const b = col([5000000000, null], 'BIGINT');
    expect(b.get(0)).toBe(5000000000n);
    expect(b.get(1)).toBeNull();
    const f = col([true, false, null, true, true, true, true, true, false], 'BOOLEAN');
    expect(f.toArray()).toEqual([true, false, null, true, true, true, true, true, false]);
    const d = col([0.5, null], 'DOUBLE');
    expect(d.get(0)).toBe(0.5);
    const dt = col([19756], 'DATE');
    expect(dt.type).toBeInstanceOf(arrow.DateDay);
    expect((dt.data[0]!.values as Int32Array)[0]).toBe(19756);
  });

  it('timestamps as µs in TimestampMicrosecond', () => {
    const t = col([1706975400123000, null], 'TIMESTAMP(3)');
    expect(String(t.type)).toBe('Timestamp<MICROSECOND>');
    expect((t.data[0]!.values as BigInt64Array)[0]).toBe(1706975400123000n);
    expect(t.isValid(1)).toBe(false);
  });

  it('a far timestamp of precision below 6 is written as its exact milliseconds, not its double', () => {
    // 9999-12-31 23:59:59.999 as a double of µs is ...999008; its precision says it is ...999000.
    const last = 253402300799999 * 1000;
    expect(last).toBe(253402300799999008);
    const values = (type: string, v: number) => [...(col([v], type).data[0]!.values as BigInt64Array)];
    expect(values('TIMESTAMP(3)', last)).toEqual([253402300799999000n]);
    expect(values('TIMESTAMP_LTZ(3)', last)).toEqual([253402300799999000n]);
    expect(values('TIMESTAMP(0)', 253402300799 * 1_000_000)).toEqual([253402300799000000n]);
    // Precision 6 has no finer truth to go back to; a value rounding past 9999 stays as it is.
    expect(values('TIMESTAMP(6)', last)).toEqual([253402300799999008n]);
    expect(values('TIMESTAMP(3)', 253402300799999968)).toEqual([253402300799999968n]);
    const nested = arrow.makeVector(buildColumn([[last]], parseSqlType('ARRAY<TIMESTAMP(3)>'), null, 1));
    expect(Array.from(nested.get(0)!.toArray() as ArrayLike<unknown>, (d) => BigInt(d as number | bigint))).toEqual([253402300799999000n]);
  });

  it('decimals as 128-bit unscaled integers: bigints as they are, a stray double by its decimal text', () => {
    const v = col([1234n, -1.5, null, 99999999999999999999n], 'DECIMAL(20, 2)');
    const words = v.data[0]!.values as Uint32Array;
    expect([...words.subarray(0, 4)]).toEqual([1234, 0, 0, 0]);
    expect([...words.subarray(4, 8)]).toEqual([0xffffffff - 149, 0xffffffff, 0xffffffff, 0xffffffff]);
    expect(v.isValid(2)).toBe(false);
    const big = words.subarray(12, 16);
    expect(BigInt(big[0]!) + (BigInt(big[1]!) << 32n) + (BigInt(big[2]!) << 64n)).toBe(99999999999999999999n);
  });

  it('bytes and nested lists', () => {
    const b = col([new Uint8Array([1, 2]), null], 'BYTES');
    expect([...(b.get(0) as Uint8Array)]).toEqual([1, 2]);
    const l = col([[1, 2], null, []], 'ARRAY<INT>');
    expect([...(l.get(0) as arrow.Vector)]).toEqual([1, 2]);
    expect(l.get(1)).toBeNull();
    const nested = col([{ a: [5000000000, null] }, null], 'ROW<a ARRAY<BIGINT>>');
    expect([...(nested.get(0) as arrow.StructRow).toJSON().a].map((x) => x ?? null)).toEqual([5000000000n, null]);
    expect(nested.get(1)).toBeNull();
  });

  it('gives every batch its own buffers, none from the shared Buffer pool', () => {
    const a = new Utf8ColumnBuilder(1);
    a.append('x');
    const data = a.finish();
    expect(data.values.buffer.byteLength).toBeLessThan(8192);
    expect(data.values.buffer).not.toBe(Buffer.allocUnsafe(1).buffer);
  });
});
