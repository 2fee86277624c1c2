// Calendar built-ins. Expected values and types are PyFlink 1.19.3's for the same expressions
// over ts = TIMESTAMP '2024-03-15 13:45:30.123', dt = DATE '2024-02-29' and lt, the same instant
// as a TIMESTAMP_LTZ(3), with table.local-time-zone UTC unless a test says otherwise.
import { describe, expect, it } from 'vitest';
import { compileError, evalSql, one } from './eval.js';

const T = (iso: string) => Date.parse(iso + 'Z') * 1000;
const D = (iso: string) => Date.parse(iso + 'T00:00:00Z') / 86_400_000;
const ROW = { ts: T('2024-03-15T13:45:30.123'), dt: D('2024-02-29'), lt: T('2024-03-15T13:45:30.123') };

describe('TIMESTAMPADD', () => {
  it('adds units to TIMESTAMP, DATE and TIMESTAMP_LTZ; months clamp to the month end', () => {
    expect(evalSql('TIMESTAMPADD(HOUR, 25, ts)', [ROW])).toEqual({ type: 'TIMESTAMP(3)', values: [T('2024-03-16T14:45:30.123')] });
    expect(one("TIMESTAMPADD(MONTH, 1, TIMESTAMP '2024-01-31 10:00:00')")).toBe(T('2024-02-29T10:00:00'));
    expect(evalSql('TIMESTAMPADD(DAY, -1, dt)', [ROW])).toEqual({ type: 'DATE', values: [D('2024-02-28')] });
    expect(one('TIMESTAMPADD(YEAR, 1, dt)', ROW)).toBe(D('2025-02-28'));
    expect(one('TIMESTAMPADD(WEEK, 1, ts)', ROW)).toBe(T('2024-03-22T13:45:30.123'));
    expect(one('TIMESTAMPADD(QUARTER, 1, ts)', ROW)).toBe(T('2024-06-15T13:45:30.123'));
    expect(one('TIMESTAMPADD(MINUTE, i, ts)', ROW)).toBeNull();
    expect(evalSql('TIMESTAMPADD(SECOND, 1, lt)', [ROW])).toEqual({ type: 'TIMESTAMP_LTZ(3)', values: [T('2024-03-15T13:45:31.123')] });
  });
  it('a DATE plus a unit shorter than a day is a TIMESTAMP(6)', () => {
    expect(evalSql('TIMESTAMPADD(HOUR, 1, dt)', [ROW])).toEqual({ type: 'TIMESTAMP(6)', values: [T('2024-02-29T01:00:00')] });
  });
  it('refuses a unit Flink does not take there, naming those it does', () => {
    expect(compileError('TIMESTAMPADD(MILLISECOND, 1, ts)').message).toMatch(/TIMESTAMPADD: the unit must be one of SECOND, MINUTE, HOUR, DAY, WEEK, MONTH, QUARTER, YEAR, found MILLISECOND/);
  });
});

describe('TIMESTAMPDIFF', () => {
  it('whole units toward zero, months as Calcite counts them, INT', () => {
    expect(evalSql("TIMESTAMPDIFF(DAY, ts, TIMESTAMP '2024-03-10 14:00:00')", [ROW])).toEqual({ type: 'INT', values: [-4] });
    expect(one("TIMESTAMPDIFF(MONTH, TIMESTAMP '2024-01-31 00:00:00', TIMESTAMP '2024-02-29 00:00:00')")).toBe(1);
    expect(one("TIMESTAMPDIFF(MONTH, TIMESTAMP '2024-03-31 00:00:00', TIMESTAMP '2024-02-29 00:00:00')")).toBe(-1);
    expect(one("TIMESTAMPDIFF(HOUR, ts, TIMESTAMP '2024-03-15 15:45:30.000')", ROW)).toBe(1);
    expect(one("TIMESTAMPDIFF(YEAR, dt, DATE '2025-02-28')", ROW)).toBe(1);
    expect(one("TIMESTAMPDIFF(WEEK, dt, DATE '2024-03-20')", ROW)).toBe(2);
    expect(one('TIMESTAMPDIFF(DAY, dt, ts)', ROW)).toBe(15);
    expect(one('TIMESTAMPDIFF(SECOND, lt, lt)', ROW)).toBe(0);
    expect(compileError('TIMESTAMPDIFF(MINUTE, ts, i)').message).toMatch(/TIMESTAMPDIFF: the second time must be TIMESTAMP or TIMESTAMP_LTZ or DATE, found INT/);
  });
});

describe('FLOOR / CEIL … TO unit', () => {
  it('keeps the argument type; weeks start on Sunday', () => {
    const cases: Array<[string, number]> = [
      ['FLOOR(ts TO HOUR)', T('2024-03-15T13:00:00')],
      ['CEIL(ts TO HOUR)', T('2024-03-15T14:00:00')],
      ['FLOOR(ts TO MONTH)', T('2024-03-01T00:00:00')],
      ['CEIL(ts TO YEAR)', T('2025-01-01T00:00:00')],
      ['FLOOR(ts TO WEEK)', T('2024-03-10T00:00:00')],
      ['FLOOR(ts TO SECOND)', T('2024-03-15T13:45:30')],
      ['FLOOR(ts TO QUARTER)', T('2024-01-01T00:00:00')],
      ['CEIL(ts TO MILLISECOND)', T('2024-03-15T13:45:30.123')],
      ["CEIL(TIMESTAMP '2024-03-15 13:00:00' TO HOUR)", T('2024-03-15T13:00:00')],
    ];
    for (const [sql, want] of cases) expect([sql, one(sql, ROW)]).toEqual([sql, want]);
    expect(evalSql('FLOOR(dt TO MONTH)', [ROW])).toEqual({ type: 'DATE', values: [D('2024-02-01')] });
    expect(one('CEIL(dt TO MONTH)', ROW)).toBe(D('2024-03-01'));
    expect(evalSql('FLOOR(ts TO HOUR)', [ROW]).type).toBe('TIMESTAMP(3)');
  });
  it('a TIMESTAMP_LTZ is floored on the session zone\'s calendar', () => {
    // 13:45 UTC is 22:45 in Tokyo: the Tokyo day began at 15:00 UTC the day before.
    expect(one('FLOOR(lt TO DAY)', ROW, 'Asia/Tokyo')).toBe(T('2024-03-14T15:00:00'));
    expect(one('FLOOR(lt TO DAY)', ROW)).toBe(T('2024-03-15T00:00:00'));
  });
});

describe('date parts, TO_DATE, CONVERT_TZ', () => {
  it('YEAR … SECOND and DAYOFWEEK are BIGINT (EXTRACT); Sunday is 1', () => {
    const cases: Array<[string, number]> = [
      ['DAYOFWEEK(dt)', 5], ['DAYOFWEEK(ts)', 6], ['HOUR(ts)', 13], ['MINUTE(ts)', 45], ['SECOND(ts)', 30],
      ['YEAR(dt)', 2024], ['MONTH(ts)', 3], ['DAYOFMONTH(dt)', 29], ['HOUR(lt)', 13], ['DAYOFYEAR(dt)', 60], ['QUARTER(dt)', 1], ['WEEK(dt)', 9],
    ];
    for (const [sql, want] of cases) expect([sql, one(sql, ROW)]).toEqual([sql, want]);
    expect(evalSql('HOUR(ts)', [ROW, {}])).toEqual({ type: 'BIGINT', values: [13, null] });
  });
  it('TO_DATE: NULL for text that is not a date; a timestamp text gives its date', () => {
    expect(evalSql("TO_DATE('2024-02-29')")).toEqual({ type: 'DATE', values: [D('2024-02-29')] });
    expect(one("TO_DATE('2024-02-30')")).toBeNull();
    expect(one("TO_DATE('20240301', 'yyyyMMdd')")).toBe(D('2024-03-01'));
    expect(one("TO_DATE('x')")).toBeNull();
    expect(one('TO_DATE(s)', {})).toBeNull();
    expect(one("TO_DATE('2024-02-29 10:11:12')")).toBe(D('2024-02-29'));
  });
  it('CONVERT_TZ: text to text, seconds only, an unknown zone read as GMT', () => {
    expect(evalSql("CONVERT_TZ('2024-03-15 13:45:30', 'UTC', 'America/Los_Angeles')")).toEqual({ type: 'STRING', values: ['2024-03-15 06:45:30'] });
    expect(one("CONVERT_TZ('2024-03-15 13:45:30', 'GMT+08:00', 'Asia/Tokyo')")).toBe('2024-03-15 14:45:30');
    expect(one("CONVERT_TZ('x', 'UTC', 'UTC')")).toBeNull();
    expect(one("CONVERT_TZ('2024-03-15 13:45:30.5', 'UTC', 'Europe/Berlin')")).toBe('2024-03-15 14:45:30');
    expect(one("CONVERT_TZ('2024-03-15 13:45:30', 'Nowhere/Zone', 'UTC')")).toBe('2024-03-15 13:45:30');
  });
});
