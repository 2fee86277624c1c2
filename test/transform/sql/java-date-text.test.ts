// Java's lenient date readers, each case as Java 17's SimpleDateFormat, Timestamp.valueOf and
// Date.valueOf give it (UTC), which Flink 1.19's UNIX_TIMESTAMP, TO_DATE, CONVERT_TZ, DATE_FORMAT
// of text and TO_TIMESTAMP's fallback call.
import { describe, expect, it } from 'vitest';
import { simpleDateParser, sqlDateValueOf, sqlTimestampValueOf } from '../../../src/transform/sql/java-date-text.js';
import { one } from './eval.js';

/** 2026-12-05, so two-digit years fall in 1946-2045 as they did when Java was asked. */
const NOW = Date.UTC(2026, 11, 5);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe('SimpleDateFormat.parse, lenient', () => {
  const cases: Array<[string, string, string | null]> = [
    ['1970-01-01 00:00:00.5', 'yyyy-MM-dd HH:mm:ss', '1970-01-01T00:00:00.000Z'],
    ['2024-13-01 00:00:00', 'yyyy-MM-dd HH:mm:ss', '2025-01-01T00:00:00.000Z'],
    ['not a time', 'yyyy-MM-dd HH:mm:ss', null],
    ['2024-02-29 12:34:56', 'yyyyMMdd', '2023-12-02T00:00:00.000Z'],
    ['20240229', 'yyyyMMdd', '2024-02-29T00:00:00.000Z'],
    ['20240229', 'yyyy-MM-dd HH:mm:ss', null],
    ['2024-02-29', 'yyyy-MM-dd HH:mm:ss', null],
    ['2024-2-9 1:2:3', 'yyyy-MM-dd HH:mm:ss', '2024-02-09T01:02:03.000Z'],
    [' 2024-02-29 12:00:00', 'yyyy-MM-dd HH:mm:ss', '2024-02-29T12:00:00.000Z'],
    ['2024-02-29  12:00:00', 'yyyy-MM-dd HH:mm:ss', '2024-02-29T12:00:00.000Z'],
    ['2024-02-30 25:61:61', 'yyyy-MM-dd HH:mm:ss', '2024-03-02T02:02:01.000Z'],
    ['2024-02-29 12:34:56.5', 'yyyy-MM-dd HH:mm:ss.SSS', '2024-02-29T12:34:56.005Z'],
    ['2024-02-29 12:34:56.12345', 'yyyy-MM-dd HH:mm:ss.SSS', '2024-02-29T12:35:08.345Z'],
    ['24-02-29', 'yy-MM-dd', '2024-02-29T00:00:00.000Z'],
    ['50-02-29', 'yy-MM-dd', '1950-03-01T00:00:00.000Z'],
    ['2024-Feb-29', 'yyyy-MMM-dd', '2024-02-29T00:00:00.000Z'],
    ['2024-february-29', 'yyyy-MMM-dd', '2024-02-29T00:00:00.000Z'],
    ['12:00 PM', 'hh:mm a', '1970-01-01T12:00:00.000Z'],
    ['12:00 AM', 'hh:mm a', '1970-01-01T00:00:00.000Z'],
    ['1e2-01-01', 'yyyy-MM-dd', null],
    ['+2024-01-01', 'yyyy-MM-dd', null],
    ['2024-01-01', "yyyy-MM-dd'T'", null],
    ['2024/01/01', 'yyyy-MM-dd', null],
    ['2024-0-0', 'yyyy-MM-dd', '2023-11-30T00:00:00.000Z'],
    ['2024-1-1x', 'yyyy-MM-dd', '2024-01-01T00:00:00.000Z'],
    ['2024 -01-01', 'yyyy-MM-dd', null],
    ['2024- 01-01', 'yyyy-MM-dd', '2024-01-01T00:00:00.000Z'],
    ['20240229123456', 'yyyyMMddHHmmss', '2024-02-29T12:34:56.000Z'],
    ['2024022912345', 'yyyyMMddHHmmss', '2024-02-29T12:34:05.000Z'],
    ['2024-060', 'yyyy-DDD', '2024-02-29T00:00:00.000Z'],
    ['2024-02-29 12:34:56', 'yyyy-MM-dd', '2024-02-29T00:00:00.000Z'],
    // GregorianCalendar: before 1582-10-15 the fields are a Julian date.
    ['1500-03-01 00:00:00', 'yyyy-MM-dd HH:mm:ss', '1500-03-11T00:00:00.000Z'],
    ['1582-10-10 00:00:00', 'yyyy-MM-dd HH:mm:ss', '1582-10-20T00:00:00.000Z'],
  ];
  for (const [text, pattern, want] of cases) {
    it(`'${text}' by '${pattern}'`, () => expect(iso(simpleDateParser(pattern, NOW)(text))).toBe(want));
  }
});

describe('java.sql.Timestamp.valueOf and Date.valueOf', () => {
  it('read yyyy-[m]m-[d]d hh:mm:ss[.f…], rolling day and time over', () => {
    const ts = (s: string) => { const m = sqlTimestampValueOf(s); return m === null ? null : new Date(m / 1000).toISOString() + (m % 1000 === 0 ? '' : `+${m % 1000}µs`); };
    expect(ts('2024-02-29 12:34:56')).toBe('2024-02-29T12:34:56.000Z');
    expect(ts('1970-01-01 00:00:00.5')).toBe('1970-01-01T00:00:00.500Z');
    expect(ts('2024-2-9 1:2:3')).toBe('2024-02-09T01:02:03.000Z');
    expect(ts('2024-02-30 24:00:00')).toBe('2024-03-02T00:00:00.000Z');
    expect(ts(' 2024-02-29 12:00:00.123456789 ')).toBe('2024-02-29T12:00:00.123Z+456µs');
    expect(ts('2024-02-29 12:00:-5')).toBe('2024-02-29T11:59:55.000Z');
    for (const bad of ['2024-13-01 00:00:00', 'not a time', '2024-02-29 12:00', '2024-02-29 12:00:00.', '+2024-02-29 12:00:00', '2024-02-29 12:00:00.1234567891']) expect([bad, ts(bad)]).toEqual([bad, null]);
    expect(sqlDateValueOf('2024-02-29')).toBe(19782);
    expect(sqlDateValueOf('2024-2-30')).toBe(19783);
    for (const bad of ['20240229', ' 2024-02-29', '2024-02-29 ']) expect([bad, sqlDateValueOf(bad)]).toEqual([bad, null]);
  });
});

describe('the functions that read text this way', () => {
  it('UNIX_TIMESTAMP is Long.MIN_VALUE for text it cannot read, and reads the rest leniently', () => {
    expect(one("UNIX_TIMESTAMP('not a time')")).toBe(-9223372036854775808n);
    expect(one("UNIX_TIMESTAMP('2024-13-01 00:00:00')")).toBe(1735689600);
    expect(one("UNIX_TIMESTAMP('2024-02-29 12:34:56', 'yyyyMMdd')")).toBe(1701475200);
    expect(one("UNIX_TIMESTAMP('1970-01-01 05:30:00')", {}, 'Asia/Kolkata')).toBe(0);
  });
  it('TO_TIMESTAMP(s, format) falls back to Timestamp.valueOf / Date.valueOf', () => {
    expect(one("TO_TIMESTAMP('2024-02-29 12:34:56', 'yyyyMMdd')")).toBe(Date.UTC(2024, 1, 29, 12, 34, 56) * 1000);
    expect(one("TO_TIMESTAMP('2024-2-9', 'yyyyMMdd')")).toBe(Date.UTC(2024, 1, 9) * 1000);
    expect(one("TO_TIMESTAMP('2024-13-01 00:00:00', 'yyyyMMdd')")).toBeNull();
  });
  it('TO_DATE(s, format), CONVERT_TZ and DATE_FORMAT of text read leniently', () => {
    expect(one("TO_DATE('2024-01-31 10:00:00', 'yyyy-MM-dd')")).toBe(19753);
    expect(one("TO_DATE('not a date', 'yyyy-MM-dd')")).toBeNull();
    expect(one("CONVERT_TZ('2024-02-29', 'UTC', 'Asia/Tokyo')")).toBeNull();
    expect(one("CONVERT_TZ('2024-01-31 10:00:00.5', 'UTC', 'Asia/Tokyo')")).toBe('2024-01-31 19:00:00');
    expect(one("DATE_FORMAT('2024-13-01 00:00:00', 'yyyy/MM/dd')")).toBe('2025/01/01');
    // Read and written back by the same calendar, a date before 1582 keeps its fields.
    expect(one("DATE_FORMAT('1500-03-01 00:00:00', 'yyyy-MM-dd')")).toBe('1500-03-01');
    expect(one("CONVERT_TZ('1500-03-01 00:00:00', 'UTC', 'UTC')")).toBe('1500-03-01 00:00:00');
    expect(one("UNIX_TIMESTAMP('1500-03-01 00:00:00')")).toBe(-14825808000);
  });
  it("a wall clock is placed in a zone by Java's rules: the standard offset in a gap or an overlap, no local mean time before 1900", () => {
    // Each as PyFlink 1.19.3 gives it with table.local-time-zone America/New_York.
    const ny = (sql: string) => one(sql, {}, 'America/New_York');
    expect(ny("UNIX_TIMESTAMP('2024-03-10 02:30:00')")).toBe(1710055800);
    expect(ny("UNIX_TIMESTAMP('2024-11-03 01:30:00')")).toBe(1730615400);
    expect(ny("UNIX_TIMESTAMP('1500-03-01 00:00:00')")).toBe(-14825790000);
    expect(ny("DATE_FORMAT('2024-03-10 02:30:00', 'yyyy-MM-dd HH:mm:ss')")).toBe('2024-03-10 02:30:00');
    expect(one("CONVERT_TZ('2024-03-10 02:30:00', 'America/New_York', 'Asia/Tokyo')")).toBe('2024-03-10 16:30:00');
    expect(one("CONVERT_TZ('2024-11-03 01:30:00', 'America/New_York', 'Asia/Tokyo')")).toBe('2024-11-03 15:30:00');
    expect(one("CONVERT_TZ('1500-03-01 00:00:00', 'America/New_York', 'Asia/Tokyo')")).toBe('1500-03-01 14:00:00');
    // Written in the Julian calendar, where 1500 has a February 29th, and a year before 1 by its era.
    expect(one("CONVERT_TZ('1500-03-01 00:00:00', 'UTC', 'America/New_York')")).toBe('1500-02-29 19:00:00');
    expect(one("CONVERT_TZ('-5-01-01 00:00:00', 'UTC', 'America/New_York')")).toBe('0007-12-31 19:00:00');
  });
});
