import { describe, expect, it } from 'vitest';
import { javaDoubleString, javaFloatString } from '../../../src/transform/sql/cast.js';
import { compileError, evalSql, one } from './eval.js';

const T = (iso: string) => Date.parse(iso + 'Z') * 1000;

describe('CAST', () => {
  it('STRING → INT / BIGINT: blanks trimmed, fraction truncated, bad text fails the row, NULL stays NULL', () => {
    expect(evalSql('CAST(s AS INT)', [{ s: ' 42 ' }, { s: '-7.9' }, { s: 'x1' }, { s: '3000000000' }, {}]).values).toEqual([
      42, -7, { error: "cannot CAST 'x1' AS INT" }, { error: "cannot CAST '3000000000' AS INT" }, null,
    ]);
    expect(one('CAST(s AS BIGINT)', { s: '3000000000' })).toBe(3000000000);
  });
  it('TRY_CAST gives NULL instead of failing', () => {
    expect(evalSql('TRY_CAST(s AS INT)', [{ s: 'x' }, { s: '5' }]).values).toEqual([null, 5]);
  });
  it('numbers ↔ numbers and booleans', () => {
    expect(one('CAST(d AS INT)', { d: -2.7 })).toBe(-2);
    expect(one('CAST(i AS DOUBLE)', { i: 3 })).toBe(3);
    expect(one('CAST(d AS DECIMAL(4, 1))', { d: 12.349 })).toBe(123n); // DECIMAL values are unscaled bigints
    expect(one('CAST(d AS DECIMAL(4, 1))', { d: 12345 })).toBeNull(); // overflow is NULL in Flink
    expect(one('CAST(d AS FLOAT)', { d: 0.1 })).toBe(Math.fround(0.1));
    expect(one('CAST(i AS BOOLEAN)', { i: 0 })).toBe(false);
    expect(one('CAST(f AS INT)', { f: true })).toBe(1);
  });
  it('STRING → BOOLEAN', () => {
    expect(evalSql('CAST(s AS BOOLEAN)', [{ s: 'TRUE' }, { s: 'no' }, { s: 'maybe' }]).values).toEqual([true, false, { error: "cannot CAST 'maybe' AS BOOLEAN" }]);
  });
  it('to STRING as Flink prints values', () => {
    expect(one('CAST(i AS STRING)', { i: -5 })).toBe('-5');
    expect(one('CAST(d AS STRING)', { d: 1 })).toBe('1.0');
    expect(one('CAST(d AS VARCHAR)', { d: 1e20 })).toBe('1.0E20');
    expect(one('CAST(f AS STRING)', { f: true })).toBe('TRUE');
    expect(one('CAST(`dec` AS STRING)', { dec: 150n })).toBe('1.50');
    expect(one('CAST(ts AS STRING)', { ts: T('2024-02-03T15:50:00.120') })).toBe('2024-02-03 15:50:00.120');
    expect(one('CAST(dt AS STRING)', { dt: 19756 })).toBe('2024-02-03');
    expect(one('CAST(lt AS STRING)', { lt: T('2024-02-03T15:50:00') }, 'Asia/Kolkata')).toBe('2024-02-03 21:20:00.000');
  });
  it('STRING → DATE / TIMESTAMP / TIMESTAMP_LTZ', () => {
    expect(one('CAST(s AS DATE)', { s: '2024-02-03' })).toBe(19756);
    expect(one('CAST(s AS TIMESTAMP(3))', { s: '2024-02-03 15:50:00.123456' })).toBe(T('2024-02-03T15:50:00.123'));
    expect(one('CAST(s AS TIMESTAMP)', { s: '2024-02-03T15:50:00.123456' })).toBe(T('2024-02-03T15:50:00.123') + 456);
    expect(one('CAST(s AS TIMESTAMP_LTZ(3))', { s: '2024-02-03 21:20:00' }, 'Asia/Kolkata')).toBe(T('2024-02-03T15:50:00'));
    expect(one('CAST(s AS DATE)', { s: '2024-02-30' })).toEqual({ error: "cannot CAST '2024-02-30' AS DATE" });
  });
  it('TIME as Flink holds it: milliseconds whatever the precision, text read by DateTimeUtils.parseTime', () => {
    const time = (s: string) => one('TRY_CAST(s AS TIME(0))', { s });
    expect(time('12:34:56')).toBe(45_296_000_000);
    expect(time('7:5:3')).toBe(25_503_000_000);
    expect(time(' 12 : 34 ')).toBe(45_240_000_000);
    expect(time('00:00:00.1235')).toBe(124_000);
    expect(time('24:00:00')).toBe(0);
    expect(time('12:00:00+01:30')).toBe(48_600_000_000);
    for (const s of ['abc', '2024-02-29 12:34:56', '12:00-01:00', '', '12:x']) expect([s, time(s)]).toEqual([s, null]);
    expect(one('CAST(ts AS TIME(0))', { ts: T('2024-02-29T12:34:56.789') })).toBe(45_296_789_000);
    expect(one('CAST(ts AS TIME(0))', { ts: T('1969-12-31T23:59:59.999') })).toBe(86_399_999_000);
    expect(one("CAST(CAST('12:34:56' AS TIME(0)) AS TIMESTAMP(3))")).toBe(45_296_000_000);
  });
  it('STRING → BYTES: the UTF-8 bytes; the type is spelled BYTES in CAST', () => {
    expect(evalSql('CAST(s AS BYTES)', [{ s: 'é' }, {}])).toEqual({ type: 'BYTES', values: [new Uint8Array([0xc3, 0xa9]), null] });
    expect(one('CAST(CAST(s AS BYTES) AS STRING)', { s: 'é' })).toBe('é');
    expect(compileError('CAST(s AS JSONB)').message).toMatch(/JSONB is not a Flink SQL type/);
  });
  it('STRING → DATE reads text as Flink does: a bare number is a year, a missing month or day is 1', () => {
    const days = (s: string) => one('TRY_CAST(s AS DATE)', { s });
    expect(days('17')).toBe(-713318); // 0017-01-01
    expect(days(' 42 ')).toBe(-704187); // 0042-01-01
    expect(days('2024-2')).toBe(19754); // 2024-02-01
    expect(days('2024-2-3\t')).toBe(19756);
    expect(days('2024-02-03 anything after a blank')).toBe(19756);
    for (const s of ['2.5', '1e2', '-17', '2024-02-03T10:00', '2024-02-30', '2024- 2-3', '10000', '99999999999', '']) expect([s, days(s)]).toEqual([s, null]);
  });
  it('between timestamp kinds through the session time zone', () => {
    expect(one('CAST(lt AS TIMESTAMP(3))', { lt: T('2024-02-03T15:50:00') }, 'America/New_York')).toBe(T('2024-02-03T10:50:00'));
    expect(one('CAST(ts AS TIMESTAMP_LTZ(3))', { ts: T('2024-02-03T10:50:00') }, 'America/New_York')).toBe(T('2024-02-03T15:50:00'));
    expect(one('CAST(ts AS DATE)', { ts: T('2024-02-03T23:59:59') })).toBe(19756);
  });
  it('refuses conversions Flink does not define', () => {
    const e = compileError('CAST(dt AS INT)');
    expect(e.code).toBe('SQL_UNSUPPORTED');
    expect(e.message).toMatch(/CAST from DATE to INT/);
  });
});

describe('Java number text', () => {
  it('matches Double.toString and Float.toString', () => {
    expect(javaDoubleString(0.001)).toBe('0.001');
    expect(javaDoubleString(0.0001)).toBe('1.0E-4');
    expect(javaDoubleString(1234567.5)).toBe('1234567.5');
    expect(javaDoubleString(12345678)).toBe('1.2345678E7');
    expect(javaDoubleString(-0)).toBe('-0.0');
    expect(javaDoubleString(NaN)).toBe('NaN');
    expect(javaFloatString(Math.fround(0.1))).toBe('0.1');
  });
  it("FLOAT text: an integer float past 2^25 keeps the digits Java 17's FloatingDecimal keeps", () => {
    // Each as Java 17's Float.toString prints it; the first and the 1e15 are longer than the shortest.
    const java: Array<[number, string]> = [
      [2147483648, '2.14748365E9'], [16777217, '1.6777216E7'], [33554432, '3.3554432E7'], [33554436, '3.3554436E7'],
      [123456789, '1.23456792E8'], [1e10, '1.0E10'], [9.223372e18, '9.223372E18'], [-3e9, '-3.0E9'], [1.5e8, '1.5E8'],
      [987654321, '9.8765434E8'], [4294967296, '4.2949673E9'], [1e15, '9.9999999E14'], [67108868, '6.7108864E7'],
    ];
    expect(java.map(([f]) => [f, javaFloatString(Math.fround(f))])).toEqual(java);
  });
  it('FLOAT text: E-form text has two digits where one would read back (Java 17)', () => {
    const min = 2 ** -149;
    const java: Array<[number, string]> = [
      [min, '1.4E-45'], [2 * min, '2.8E-45'], [3 * min, '4.2E-45'], [5 * min, '7.0E-45'], [7 * min, '9.8E-45'],
      [6 * min, '8.4E-45'], [Math.fround(1e-40), '1.0E-40'], [Math.fround(1e-5), '1.0E-5'], [Math.fround(2e10), '2.0E10'],
      [Math.fround(3e-4), '3.0E-4'], [11 * min, '1.5E-44'],
    ];
    expect(java.map(([f]) => [f, javaFloatString(f)])).toEqual(java);
  });
});
