// `time ± INTERVAL …`. Expected values are PyFlink 1.19.3's for the same expressions over
// ts = TIMESTAMP '2024-01-31 10:00:00.123', lt = TIMESTAMP_LTZ '2024-03-31 23:30:00.5' and
// dt = DATE '2024-01-31', with table.local-time-zone UTC unless a test says otherwise.
import { describe, expect, it } from 'vitest';
import { compileError, evalSql, one } from './eval.js';

const T = (iso: string) => Date.parse(iso + 'Z') * 1000;
const D = (iso: string) => Date.parse(iso + 'T00:00:00Z') / 86_400_000;
const ROW = { ts: T('2024-01-31T10:00:00.123'), lt: T('2024-03-31T23:30:00.500'), dt: D('2024-01-31') };

describe('TIMESTAMP ± INTERVAL', () => {
  it('adds and subtracts day-time units, keeping the type; NULL in, NULL out', () => {
    expect(evalSql("ts + INTERVAL '1' HOUR", [ROW, {}])).toEqual({ type: 'TIMESTAMP(3)', values: [T('2024-01-31T11:00:00.123'), null] });
    expect(one("ts - INTERVAL '7' DAY", ROW)).toBe(T('2024-01-24T10:00:00.123'));
    expect(one("ts + INTERVAL '90' MINUTE", ROW)).toBe(T('2024-01-31T11:30:00.123'));
    expect(one("ts + INTERVAL '1.5' SECOND", ROW)).toBe(T('2024-01-31T10:00:01.623'));
    expect(one("ts + INTERVAL '10' SECOND", ROW)).toBe(T('2024-01-31T10:00:10.123'));
    expect(one("INTERVAL '1' HOUR + ts", ROW)).toBe(T('2024-01-31T11:00:00.123'));
  });
  it('months and years clamp the day to the month end, as Calcite addMonths does', () => {
    expect(one("ts + INTERVAL '1' MONTH", ROW)).toBe(T('2024-02-29T10:00:00.123'));
    expect(one("ts - INTERVAL '1' YEAR", ROW)).toBe(T('2023-01-31T10:00:00.123'));
  });
  it('ranges: YEAR TO MONTH and DAY TO SECOND', () => {
    expect(one("ts + INTERVAL '1-2' YEAR TO MONTH", ROW)).toBe(T('2025-03-31T10:00:00.123'));
    expect(one("ts + INTERVAL '1 02:03:04.5' DAY TO SECOND", ROW)).toBe(T('2024-02-01T12:03:04.623'));
  });
});

describe('TIMESTAMP_LTZ and DATE ± INTERVAL', () => {
  it('TIMESTAMP_LTZ keeps its type', () => {
    expect(evalSql("lt + INTERVAL '1' HOUR", [ROW])).toEqual({ type: 'TIMESTAMP_LTZ(3)', values: [T('2024-04-01T00:30:00.500')] });
    expect(one("lt + INTERVAL '1' MONTH", ROW)).toBe(T('2024-04-30T23:30:00.500'));
    expect(one("lt - INTERVAL '2' DAY", ROW)).toBe(T('2024-03-29T23:30:00.500'));
  });
  it('TIMESTAMP_LTZ moves months on the UTC instant, not the session zone\'s wall clock', () => {
    // Asia/Tokyo: 2024-01-30 20:00 UTC is 2024-01-31 05:00 there; Flink gives 2024-03-01 05:00
    // Tokyo time (2024-02-29 20:00 UTC), where a wall-clock month would give 2024-02-29 05:00.
    expect(one("TO_TIMESTAMP_LTZ(1706644800000, 3) + INTERVAL '1' MONTH", {}, 'Asia/Tokyo')).toBe(T('2024-02-29T20:00:00'));
    expect(one("TO_TIMESTAMP_LTZ(1706644800000, 3) + INTERVAL '1' DAY", {}, 'Asia/Tokyo')).toBe(T('2024-01-31T20:00:00'));
  });
  it('a DATE stays a DATE, moved by whole days toward zero for units below a day', () => {
    expect(evalSql("dt + INTERVAL '1' DAY", [ROW, {}])).toEqual({ type: 'DATE', values: [D('2024-02-01'), null] });
    expect(one("dt - INTERVAL '7' DAY", ROW)).toBe(D('2024-01-24'));
    expect(one("dt + INTERVAL '1' MONTH", ROW)).toBe(D('2024-02-29'));
    expect(one("dt + INTERVAL '1' HOUR", ROW)).toBe(D('2024-01-31'));
    expect(one("dt + INTERVAL '25' HOUR", ROW)).toBe(D('2024-02-01'));
    expect(one("dt - INTERVAL '1' HOUR", ROW)).toBe(D('2024-01-31'));
    expect(one("dt - INTERVAL '25' HOUR", ROW)).toBe(D('2024-01-30'));
    expect(one("DATE '2024-02-29' + INTERVAL '1' YEAR")).toBe(D('2025-02-28'));
  });
  it('negative literals, HOUR TO MINUTE, and a literal TIMESTAMP(0)', () => {
    expect(one("ts + INTERVAL '02:30' HOUR TO MINUTE", ROW)).toBe(T('2024-01-31T12:30:00.123'));
    expect(one("ts + INTERVAL '-1' DAY", ROW)).toBe(T('2024-01-30T10:00:00.123'));
    expect(one("ts - INTERVAL '-1' MONTH", ROW)).toBe(T('2024-02-29T10:00:00.123'));
    expect(evalSql("TIMESTAMP '2024-03-31 00:00:00' - INTERVAL '1' MONTH")).toEqual({ type: 'TIMESTAMP(0) NOT NULL', values: [T('2024-02-29T00:00:00')] });
  });
});

describe('what is refused', () => {
  it('an interval on its own or multiplied, naming what is accepted', () => {
    expect(compileError("INTERVAL '1' HOUR").message).toMatch(/only added to or subtracted from a TIMESTAMP, TIMESTAMP_LTZ or DATE/);
    expect(compileError("ts + INTERVAL '1' HOUR * 2").message).toMatch(/INTERVAL '2' HOUR, not INTERVAL '1' HOUR \* 2/);
  });
  it('an interval added to a number, and a malformed literal', () => {
    expect(compileError("i + INTERVAL '1' HOUR").message).toMatch(/adding INTERVAL '1' HOUR needs a TIMESTAMP, TIMESTAMP_LTZ or DATE, found INT/);
    expect(compileError("ts + INTERVAL '1-x' YEAR TO MONTH").message).toMatch(/INTERVAL '1-x' YEAR TO MONTH: the value must be 'years-months'/);
  });
});
