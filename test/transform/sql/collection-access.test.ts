// ROW field access, ARRAY / MAP subscripts, CARDINALITY and ELEMENT over nested source columns
// (eval.ts: p ROW<ts TIMESTAMP(3), q ROW<r INT>>, arr ARRAY<INT>, m MAP<STRING, INT>), held as
// the decoders hold them. Semantics are Flink 1.19's documented ones, results checked in PyFlink
// 1.19.3 where noted.
import { describe, expect, it } from 'vitest';
import { compileError, evalSql, one, SCHEMA } from './eval.js';
import { assignConversion } from '../../../src/transform/output-check.js';
import { parseSqlType } from '../../../src/schema/sql-types.js';
import { compileSelect } from '../../../src/transform/sql/select.js';
import { SessionZone } from '../../../src/transform/time.js';
import { fields } from '../helpers.js';

const TS = Date.parse('2024-03-15T13:45:30.123Z') * 1000;
const P = { p: { ts: TS, q: { r: 7 } } };

describe('ROW field access', () => {
  it('p.ts reads the field, typed as the field and nullable with the row (was refused as another table)', () => {
    expect(evalSql('p.ts', [P, { p: null }, { p: { ts: null, q: null } }])).toEqual({ type: 'TIMESTAMP(3)', values: [TS, null, null] });
  });
  it('deeper paths, with or without the table name, and backticks', () => {
    expect(evalSql('p.q.r', [P, { p: { ts: 1, q: null } }])).toEqual({ type: 'INT', values: [7, null] });
    expect(one('t.p.q.r', P)).toBe(7);
    expect(one('`p`.`ts`', P)).toBe(TS);
  });
  it('a field value takes part in functions as any column does', () => {
    expect(one('HOUR(p.ts)', P)).toBe(13);
    expect(one('p.q.r + 1', P)).toBe(8);
    expect(one("DATE_FORMAT(p.ts, 'yyyy-MM-dd')", P)).toBe('2024-03-15');
  });
  it('names what is wrong: a missing field (with the fields there are), a non-ROW, an unknown table', () => {
    expect(compileError('p.tz').message).toMatch(/p has no field tz; its fields are ts, q \(names are case-sensitive\)/);
    expect(compileError('p.q.x').message).toMatch(/p\.q has no field x; its fields are r/);
    expect(compileError('s.x').message).toMatch(/s is STRING, not a ROW, so it has no field x/);
    expect(compileError('other.s').message).toMatch(/column other\.s names a table other than the source t, and other is not a source column/);
  });
  it('positions in errors after a deep path still point into the SQL as written', () => {
    // SELECT p.q.r + HOUR(s) …: HOUR is at column 16 as written, though the parser saw p.`q.r`.
    expect(compileError('p.q.r + HOUR(s)').message).toMatch(/HOUR|EXTRACT/);
    expect(compileError('p.q.r + HOUR(s)').message).toMatch(/at line 1, column 16$/);
  });
  it('a catalog.db.table name in FROM is left alone by the field-path reading', () => {
    const frame = { cols: [], nowMicros: 0, zone: new SessionZone('UTC') };
    const sel = compileSelect('SELECT p.q.r AS r FROM cat.db.t', ['t', 'cat.db.t'], fields({ p: 'ROW<q ROW<r INT>>' }), frame);
    expect(sel.items[0]!.expr.type.kind).toBe('int');
  });
});

describe('subscripts', () => {
  it('arr[n] is 1-based; outside 1..length is NULL', () => {
    const rows = [{ arr: [10, 20, 30] }];
    expect(evalSql('arr[2]', rows)).toEqual({ type: 'INT', values: [20] });
    expect([one('arr[4]', rows[0]), one('arr[0]', rows[0]), one('arr[1]', {}), one('arr[1]', { arr: [null] })]).toEqual([null, null, null, null]);
  });
  it("m['k'] is the value, NULL for a missing key", () => {
    const m = new Map([['a', 1], ['b', 2]]);
    expect(evalSql("m['b']", [{ m }])).toEqual({ type: 'INT', values: [2] });
    expect(one("m['z']", { m })).toBeNull();
    expect(one("m['a']", {})).toBeNull();
  });
  it('refuses a subscript on a scalar and a wrong key type', () => {
    expect(compileError('s[1]').message).toMatch(/s is STRING; only an ARRAY or a MAP takes \[ \]/);
    expect(compileError("arr['x']").message).toMatch(/arr\[…\]: an ARRAY index must be INT, found STRING/);
  });
});

describe('CARDINALITY and ELEMENT', () => {
  it('CARDINALITY counts elements or entries (INT); NULL for NULL', () => {
    expect(evalSql('CARDINALITY(arr)', [{ arr: [1, null, 3] }, {}])).toEqual({ type: 'INT', values: [3, null] });
    expect(one('CARDINALITY(m)', { m: new Map([['a', 1], ['b', 2]]) })).toBe(2);
    expect(compileError('CARDINALITY(s)').message).toMatch(/CARDINALITY: argument must be ARRAY or MAP, found STRING/);
  });
  it('ELEMENT: the sole element, NULL when empty, more than one is the record\'s error (Flink: "Array has more than one element")', () => {
    expect(evalSql('ELEMENT(arr)', [{ arr: [5] }, { arr: [] }, {}]).values).toEqual([5, null, null]);
    expect(one('ELEMENT(arr)', { arr: [5, 6] })).toEqual({ error: 'ELEMENT: the array has 2 elements; it must have at most one' });
  });
});

describe('ARRAY_CONTAINS', () => {
  // PyFlink 1.19.3, arr = [10, 20, 30], i = 2.
  it('BOOLEAN; NULL for a NULL array; a NULL value looks for a NULL element', () => {
    expect(evalSql('ARRAY_CONTAINS(arr, 20)', [{ arr: [10, 20, 30] }, {}])).toEqual({ type: 'BOOLEAN', values: [true, null] });
    expect(one('ARRAY_CONTAINS(arr, i)', { arr: [10, 20, 30], i: 2 })).toBe(false);
    expect(one('ARRAY_CONTAINS(arr, CAST(NULL AS INT))', { arr: [10, 20, 30] })).toBe(false);
    expect(one('ARRAY_CONTAINS(arr, CAST(NULL AS INT))', { arr: [1, null] })).toBe(true);
    expect(one('ARRAY_CONTAINS(arr, 2)', { arr: [1, null] })).toBe(false);
  });
  it('refuses a value of another type, as Flink does', () => {
    expect(compileError('ARRAY_CONTAINS(arr, 20.0)').message).toMatch(/ARRAY_CONTAINS: the value must be the element type INT, found DECIMAL\(3, 1\)/);
  });
});

describe('subscripts that are expressions, and constructors', () => {
  // PyFlink 1.19.3 over arr = [10, 20, 30], i = 2, s = 'a,b,c', and a row of NULLs.
  const R = [{ arr: [10, 20, 30], i: 2, s: 'a,b,c', m: new Map([['a,b,c', 5]]) }, {}];
  it('arr[i], arr[i + 5], m[s], nested', () => {
    expect(evalSql('arr[i]', R)).toEqual({ type: 'INT', values: [20, null] });
    expect(evalSql('arr[i + 5]', R).values).toEqual([null, null]);
    expect(evalSql('m[s]', R).values).toEqual([5, null]);
    expect(evalSql('arr[m[s] - 3]', R).values).toEqual([20, null]);
  });
  it('ARRAY[…]: never NULL itself, elements at their common type', () => {
    // Flink: ARRAY<INT NOT NULL> NOT NULL; elements are typed nullable here so a sink ARRAY<INT> takes it.
    expect(evalSql('ARRAY[1, 2]', R)).toEqual({ type: 'ARRAY<INT> NOT NULL', values: [[1, 2], [1, 2]] });
    expect(evalSql('ARRAY[i, 2]', R)).toEqual({ type: 'ARRAY<INT> NOT NULL', values: [[2, 2], [null, 2]] });
    expect(evalSql('ARRAY[i, NULL]', R).values).toEqual([[2, null], [null, null]]);
    expect(evalSql("ARRAY['a', s]", R).values).toEqual([['a', 'a,b,c'], ['a', null]]);
    expect(evalSql('ARRAY[1, 2][2]', R)).toEqual({ type: 'INT', values: [2, 2] });
    expect(one('CARDINALITY(ARRAY[1, 2, 3])')).toBe(3);
  });
  it('a constructed ARRAY or MAP goes into a sink column declared with nullable elements', () => {
    const utc = new SessionZone('UTC');
    const a = compileSelect('SELECT ARRAY[i, 2] AS a, MAP[s, i] AS m FROM t', ['t'], SCHEMA, { cols: [], nowMicros: 0, zone: utc });
    expect(assignConversion(a.items[0]!.expr.type, parseSqlType('ARRAY<INT>'), utc)).toBeNull();
    expect(assignConversion(a.items[1]!.expr.type, parseSqlType('MAP<STRING, INT>'), utc)).toBeNull();
  });
  it('MAP[…]: a NULL key is kept; a subscript on it', () => {
    expect(evalSql('MAP[s, i]', R)).toEqual({ type: 'MAP<STRING, INT> NOT NULL', values: [new Map([['a,b,c', 2]]), new Map([[null, null]])] });
    expect(one("MAP['a', 1]['a']")).toBe(1);
    expect(compileError("MAP['a', 1, 'b']").message).toMatch(/MAP takes keys and values in pairs, found 3 argument\(s\)/);
    expect(compileError("ARRAY[1, 'a']").message).toMatch(/ARRAY: the elements have no common type \(INT, STRING\)/);
  });
});

describe('a field of an array element', () => {
  // PyFlink 1.19.3 over ar = [ROW(1, 'a'), NULL] as ARRAY<ROW<x INT, y STRING>>, i = 2.
  const utc = new SessionZone('UTC');
  const F = fields({ ar: 'ARRAY<ROW<x INT, y STRING>>', i: 'INT' });
  function run(sql: string): { type: string; values: unknown[] } {
    const frame = { cols: [] as unknown[][], nowMicros: 0, zone: utc };
    const sel = compileSelect(`SELECT ${sql} AS r FROM t`, ['t'], F, frame);
    frame.cols = [[[{ x: 1, y: 'a' }, null], null], [2, null]];
    const e = sel.items[0]!.expr;
    return { type: e.type.kind, values: [e.eval(0), e.eval(1)] };
  }
  it('arr[1].x, arr[i].x: NULL for a NULL element, an index past the end, or a NULL array', () => {
    expect(run('ar[1].x')).toEqual({ type: 'int', values: [1, null] });
    expect(run('ar[2].y').values).toEqual([null, null]);
    expect(run('ar[3].x').values).toEqual([null, null]);
    expect(run('ar[i].x').values).toEqual([null, null]);
    expect(run('ar[i - 1].y').values).toEqual(['a', null]);
  });
  it('names a field the element does not have', () => {
    expect(() => run('ar[1].z')).toThrow(/ar\[…\] has no field z; its fields are x, y/);
  });
});
