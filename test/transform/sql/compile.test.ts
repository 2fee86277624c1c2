import { describe, expect, it } from 'vitest';
import { compileError, evalSql, one } from './eval.js';

describe('literals and column references', () => {
  it('types literals as Flink does', () => {
    expect(evalSql('1').type).toBe('INT NOT NULL');
    expect(evalSql('5000000000').type).toBe('BIGINT NOT NULL');
    expect(evalSql('1.50').type).toBe('DECIMAL(3, 2) NOT NULL');
    expect(evalSql('1e3').type).toBe('DOUBLE NOT NULL');
    expect(evalSql("'it''s'").values).toEqual(["it's"]);
    expect(evalSql('TRUE').values).toEqual([true]);
    expect(evalSql('NULL').type).toBe('NULL');
    expect(one("DATE '2024-03-01'")).toBe(19783);
    expect(one("TIMESTAMP '2024-03-01 10:00:00'")).toBe(1709287200000000);
  });

  it('reads plain and backticked columns, case-sensitively', () => {
    expect(evalSql('`s`', [{ s: 'x' }, {}]).values).toEqual(['x', null]);
    expect(evalSql('t.s', [{ s: 'y' }]).values).toEqual(['y']);
    expect(compileError('S').message).toMatch(/unknown column S; did you mean s\?/);
    expect(compileError('nope').code).toBe('SQL_INVALID');
  });
});

describe('arithmetic', () => {
  const rows = [{ i: 7, j: 2 }, { i: 7 }, { i: -7, j: 2 }, { i: 2147483647, j: 1 }];
  it('+ - * / % on INT with NULLs, integer division truncating toward zero, INT overflow wrapping', () => {
    expect(evalSql('i + j', rows).values).toEqual([9, null, -5, -2147483648]);
    expect(evalSql('i - j', rows).values).toEqual([5, null, -9, 2147483646]);
    expect(evalSql('i * j', rows).values).toEqual([14, null, -14, 2147483647]);
    expect(evalSql('i / j', rows).values).toEqual([3, null, -3, 2147483647]);
    expect(evalSql('i % j', rows).values).toEqual([1, null, -1, 0]);
    expect(evalSql('i + j', rows).type).toBe('INT');
  });
  it('widens to BIGINT / DOUBLE and fails a row on integer division by zero', () => {
    expect(evalSql('i + b', [{ i: 1, b: 5000000000 }]).values).toEqual([5000000001]);
    expect(evalSql('i + b', [{}]).type).toBe('BIGINT');
    expect(evalSql('d / 0', [{ d: 1 }]).values).toEqual([Infinity]);
    expect(evalSql('i / 2.0').type).toMatch(/^DECIMAL/);
    expect(evalSql('i / j', [{ i: 1, j: 0 }]).values).toEqual([{ error: 'division by zero' }]);
    // Past 2^53 the result is computed exactly in 64 bits, and wraps on overflow as Java's long does.
    expect(evalSql('b * 3', [{ b: 4_000_000_000_000_000 }]).values).toEqual([12_000_000_000_000_000n]);
    expect(evalSql('b * b', [{ b: 4_000_000_000 }]).values).toEqual([16_000_000_000_000_000_000n - 2n ** 64n]);
    expect(evalSql('b + 1', [{ b: 9_223_372_036_854_775_807n }]).values).toEqual([-(2n ** 63n)]);
    expect(evalSql('b / 2', [{ b: 9_007_199_254_740_993n }]).values).toEqual([4503599627370496]);
    expect(evalSql('b + d', [{ b: 9_007_199_254_740_993n, d: 0.5 }]).values).toEqual([9007199254740992.5]);
  });
  it('types decimal arithmetic as Flink does', () => {
    expect(evalSql('`dec` + `dec`').type).toBe('DECIMAL(11, 2)');
    expect(evalSql('`dec` * 1.5').type).toBe('DECIMAL(12, 3)');
    expect(evalSql('`dec` / i').type).toBe('DECIMAL(21, 13)');
    expect(evalSql('`dec` % 3').type).toBe('DECIMAL(10, 2)');
    expect(evalSql('`dec` + d').type).toBe('DOUBLE');
    expect(evalSql('`dec` * 1.5', [{ dec: 250n }]).values).toEqual([3750n]);
  });
  it('unary minus and NULL operands', () => {
    expect(evalSql('-i', [{ i: 3 }, {}]).values).toEqual([-3, null]);
    expect(one('1 + NULL')).toBeNull();
    expect(compileError("s + 1").message).toMatch(/\+ needs numbers/);
  });
});

describe('comparison and logic (three-valued)', () => {
  it('= <> < <= > >= with NULL giving NULL', () => {
    const rows = [{ i: 1, j: 2 }, { i: 2, j: 2 }, { i: 3 }];
    expect(evalSql('i = j', rows).values).toEqual([false, true, null]);
    expect(evalSql('i <> j', rows).values).toEqual([true, false, null]);
    expect(evalSql('i != j', rows).values).toEqual([true, false, null]);
    expect(evalSql('i < j', rows).values).toEqual([true, false, null]);
    expect(evalSql('i <= j', rows).values).toEqual([true, true, null]);
    expect(evalSql('i > j', rows).values).toEqual([false, false, null]);
    expect(evalSql('i >= j', rows).values).toEqual([false, true, null]);
    expect(evalSql("s < s2", [{ s: 'a', s2: 'b' }]).values).toEqual([true]);
    expect(evalSql("ts > '2024-01-01 00:00:00'", [{ ts: 1704067200001000 }, { ts: 1704067200000000 }]).values).toEqual([true, false]);
    expect(compileError("s = 1").message).toMatch(/cannot compare STRING with INT/);
  });
  it('AND / OR / NOT use Kleene logic', () => {
    const rows = [{ f: true, g: true }, { f: true, g: false }, { f: true }, { f: false }, {}];
    expect(evalSql('f AND g', rows).values).toEqual([true, false, null, false, null]);
    expect(evalSql('f OR g', rows).values).toEqual([true, true, true, null, null]);
    expect(evalSql('NOT f', rows).values).toEqual([false, false, false, true, null]);
    expect(evalSql('NOT (f AND g)', rows).values).toEqual([false, true, null, true, null]);
  });
  it('IS [NOT] NULL, IS [NOT] TRUE/FALSE, IS [NOT] DISTINCT FROM never return NULL', () => {
    const rows = [{ i: 1, f: true }, {}];
    expect(evalSql('i IS NULL', rows).values).toEqual([false, true]);
    expect(evalSql('i IS NOT NULL', rows).values).toEqual([true, false]);
    expect(evalSql('f IS TRUE', rows).values).toEqual([true, false]);
    expect(evalSql('f IS NOT FALSE', rows).values).toEqual([true, true]);
    expect(evalSql('i IS DISTINCT FROM j', rows).values).toEqual([true, false]);
    expect(evalSql('i IS NOT DISTINCT FROM j', rows).values).toEqual([false, true]);
  });
  it('IN / NOT IN with NULL on either side', () => {
    const rows = [{ i: 1 }, { i: 5 }, {}];
    expect(evalSql('i IN (1, 2)', rows).values).toEqual([true, false, null]);
    expect(evalSql('i NOT IN (1, 2)', rows).values).toEqual([false, true, null]);
    expect(evalSql('i IN (1, NULL)', rows).values).toEqual([true, null, null]);
    expect(evalSql('i NOT IN (1, NULL)', rows).values).toEqual([false, null, null]);
    expect(evalSql('i IN (j, 5)', [{ i: 5 }, { i: 3, j: 3 }, { i: 4 }]).values).toEqual([true, true, null]);
  });
  it('BETWEEN / NOT BETWEEN', () => {
    const rows = [{ i: 1 }, { i: 5 }, { i: 10 }, { i: 11 }, {}];
    expect(evalSql('i BETWEEN 5 AND 10', rows).values).toEqual([false, true, true, false, null]);
    expect(evalSql('i NOT BETWEEN 5 AND 10', rows).values).toEqual([true, false, false, true, null]);
    expect(evalSql('i BETWEEN j AND 10', [{ i: 11 }, { i: 7 }]).values).toEqual([false, null]);
  });
  it('BETWEEN SYMMETRIC takes its bounds in either order; ASYMMETRIC is the plain form', () => {
    const rows = [{ i: 1 }, { i: 5 }, { i: 10 }, { i: 11 }, {}];
    expect(evalSql('i BETWEEN SYMMETRIC 10 AND 5', rows).values).toEqual([false, true, true, false, null]);
    expect(evalSql('i NOT BETWEEN SYMMETRIC 10 AND 5', rows).values).toEqual([true, false, false, true, null]);
    expect(evalSql('i BETWEEN ASYMMETRIC 10 AND 5', rows).values).toEqual([false, false, false, false, null]);
    // A bound that is an expression, parenthesised or not, and a BETWEEN inside AND.
    expect(evalSql('i BETWEEN SYMMETRIC (j + 1) * 2 AND abs(-5) AND i > 0', [{ i: 5, j: 3 }, { i: 9, j: 3 }]).values).toEqual([true, false]);
    // A NULL bound: the plain form can be FALSE, the symmetric one only NULL (Calcite's OR of two ANDs).
    expect(evalSql('i BETWEEN j AND 5', [{ i: 9 }]).values).toEqual([false]);
    expect(evalSql('i BETWEEN SYMMETRIC j AND 5', [{ i: 9 }]).values).toEqual([null]);
  });
  it('LIKE / NOT LIKE with % _ and ESCAPE, NULL giving NULL', () => {
    const rows = [{ s: 'abc' }, { s: 'a%c' }, { s: 'xbc' }, { s: 'ab\nc' }, {}];
    expect(evalSql("s LIKE 'a%'", rows).values).toEqual([true, true, false, true, null]);
    expect(evalSql("s LIKE '_bc'", rows).values).toEqual([true, false, true, false, null]);
    expect(evalSql("s NOT LIKE 'a%'", rows).values).toEqual([false, false, true, false, null]);
    expect(evalSql("s LIKE 'a!%c' ESCAPE '!'", rows).values).toEqual([false, true, false, false, null]);
    expect(evalSql("s LIKE 'A%'", rows).values[0]).toBe(false);
    expect(evalSql('s LIKE s2', [{ s: 'abc', s2: 'a_c' }, { s: 'abc' }]).values).toEqual([true, null]);
  });
});

describe('CASE', () => {
  it('searched CASE takes the first TRUE branch; NULL conditions fall through; no ELSE gives NULL', () => {
    const rows = [{ i: 1 }, { i: 2 }, { i: 3 }, {}];
    expect(evalSql("CASE WHEN i = 1 THEN 'one' WHEN i < 3 THEN 'small' END", rows).values).toEqual(['one', 'small', null, null]);
    expect(evalSql("CASE WHEN i > 1 THEN 'big' ELSE 'other' END", rows).values).toEqual(['other', 'big', 'big', 'other']);
  });
  it('simple CASE compares with =', () => {
    expect(evalSql("CASE i WHEN 1 THEN 'a' WHEN 2 THEN 'b' ELSE 'z' END", [{ i: 2 }, {}]).values).toEqual(['b', 'z']);
  });
  it('evaluates only the branch taken, so a CAST in another branch cannot fail the row', () => {
    const rows = [{ s: 'x' }, { s: '12' }];
    expect(evalSql("CASE WHEN s = 'x' THEN 0 ELSE CAST(s AS INT) END", rows).values).toEqual([0, 12]);
  });
  it('widens branch types and rejects incompatible ones', () => {
    expect(evalSql('CASE WHEN f THEN i ELSE b END').type).toBe('BIGINT');
    expect(compileError("CASE WHEN f THEN 1 ELSE 'x' END").message).toMatch(/incompatible types/);
  });
});
