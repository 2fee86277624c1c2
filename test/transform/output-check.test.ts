import { describe, expect, it } from 'vitest';
import { parseSqlType } from '../../src/schema/sql-types.js';
import { assignConversion, checkOutput, unwritableReason } from '../../src/transform/output-check.js';
import { NULL_TYPE } from '../../src/transform/sql/types.js';
import { SessionZone } from '../../src/transform/time.js';
import { fields } from './helpers.js';

const T = parseSqlType;
const utc = new SessionZone('UTC');
const berlin = new SessionZone('Europe/Berlin');
const us = (iso: string) => Date.parse(iso + 'Z') * 1000;

describe('assignConversion', () => {
  it('widens numbers and keeps identical types as they are', () => {
    expect(assignConversion(T('INT'), T('BIGINT'), utc)).toBeNull();
    expect(assignConversion(T('STRING'), T('STRING NOT NULL'), utc)).toBeNull();
    expect(assignConversion(NULL_TYPE, T('DATE'), utc)).toBeNull();
    expect(assignConversion(T('DOUBLE'), T('FLOAT'), utc)).toBeUndefined();
    expect(assignConversion(T('BIGINT'), T('INT'), utc)).toBeUndefined();
    expect(assignConversion(T('STRING'), T('INT'), utc)).toBeUndefined();
    expect(assignConversion(T('DATE'), T('TIMESTAMP(3)'), utc)).toBeUndefined();
  });

  it('writes an instant into TIMESTAMP(p) as the session wall clock, and back', () => {
    const toWall = assignConversion(T('TIMESTAMP_LTZ(3)'), T('TIMESTAMP(3)'), berlin)!;
    expect(toWall(us('2024-07-01T10:00:00'))).toBe(us('2024-07-01T12:00:00'));
    const toInstant = assignConversion(T('TIMESTAMP(3)'), T('TIMESTAMP_LTZ(3)'), berlin)!;
    expect(toInstant(us('2024-01-01T12:00:00'))).toBe(us('2024-01-01T11:00:00'));
  });

  it('truncates to a lower timestamp precision and bounds decimals', () => {
    expect(assignConversion(T('TIMESTAMP(6)'), T('TIMESTAMP(3)'), utc)!(1_234_567)).toBe(1_234_000);
    expect(assignConversion(T('TIMESTAMP(3)'), T('TIMESTAMP(6)'), utc)).toBeNull();
    const dec = assignConversion(T('INT'), T('DECIMAL(3, 1)'), utc)!;
    expect(dec(99)).toBe(990n);
    expect(dec(100)).toBeNull(); // Flink's implicit cast: NULL beyond the precision
    const notNull = assignConversion(T('INT'), T('DECIMAL(3, 1) NOT NULL'), utc, 'amt')!;
    expect(() => notNull(100)).toThrow('column amt: 100 does not fit DECIMAL(3, 1) NOT NULL, and the column is NOT NULL');
  });
});

describe('checkOutput', () => {
  it('matches by name regardless of select order and flags per-row NOT NULL checks', () => {
    const a = checkOutput('t', [{ name: 'y', type: T('STRING') }, { name: 'x', type: T('INT NOT NULL') }], fields({ x: 'BIGINT NOT NULL', y: 'STRING NOT NULL' }), utc);
    expect(a.map((x) => [x.sink.name, x.from, x.checkNotNull])).toEqual([['x', 1, false], ['y', 0, true]]);
  });

  it('reports a column produced twice', () => {
    expect(() => checkOutput('t', [{ name: 'x', type: T('INT') }, { name: 'x', type: T('INT') }], fields({ x: 'INT' }), utc)).toThrow(/column x is produced twice/);
  });

  it('knows which nested sink types it can write', () => {
    expect(unwritableReason(T('ARRAY<STRING>'))).toBeNull();
    expect(unwritableReason(T('MAP<STRING, ROW<a INT, b DOUBLE>>'))).toBeNull();
    expect(unwritableReason(T('ROW<a DECIMAL(5, 2)>'))).toBeNull();
    expect(unwritableReason(T('ROW<a DATE, b TIMESTAMP(6), c TIMESTAMP_LTZ(3), d TIME>'))).toBeNull();
    expect(unwritableReason(T('ROW<a BYTES>'))).toMatch(/BYTES inside ARRAY, MAP or ROW/);
    expect(unwritableReason(T('DECIMAL(5, 2)'))).toBeNull();
  });
});
