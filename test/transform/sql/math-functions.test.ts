// Math built-ins and MOD / %. Every expected value and type here is PyFlink 1.19.3's answer to the
// same expression (batch TableEnvironment over VALUES), not this compiler's output.
import { describe, expect, it } from 'vitest';
import { compileError, evalSql, one } from './eval.js';

// A CAST to DECIMAL is nullable here (an overflow is NULL), where Flink types it NOT NULL and then
// fails on the NULL: the types below differ from Flink's only in that NOT NULL.
const DEC = 'CAST(-12.345 AS DECIMAL(10, 3))';

describe('MOD and %', () => {
  it('an integer remainder has the divisor type: BIGINT % INT is INT (was BIGINT)', () => {
    expect(evalSql('MOD(b, 3)', [{ b: 10000000000 }, {}])).toEqual({ type: 'INT', values: [1, null] });
    expect(evalSql('b % 3', [{ b: 10000000000 }]).type).toBe('INT');
    expect(evalSql('MOD(i, CAST(-3 AS BIGINT))', [{ i: 7 }])).toEqual({ type: 'BIGINT', values: [1] });
    expect(evalSql('MOD(-7, 3)')).toEqual({ type: 'INT NOT NULL', values: [-1] });
    expect(one('MOD(-7, -3)')).toBe(-1);
  });
  it('a BIGINT dividend beyond 2^53 is taken exactly into an INT remainder', () => {
    expect(one('MOD(b, 7)', { b: 9007199254740993n })).toBe(Number(9007199254740993n % 7n));
  });
  it('DECIMAL remainder keeps the decimal type; division by zero is the record\'s error', () => {
    expect(evalSql(`MOD(${DEC}, 5)`)).toEqual({ type: 'DECIMAL(10, 3)', values: [-2345n] });
    expect(one('MOD(i, j)', { i: 7, j: 0 })).toEqual({ error: 'division by zero' });
  });
});

describe('math functions', () => {
  it('POWER, SQRT, LN, LOG10, EXP are DOUBLE, with NaN and -Infinity where java.lang.Math gives them', () => {
    expect(evalSql('POWER(i, 2)', [{ i: 7 }, {}])).toEqual({ type: 'DOUBLE', values: [49, null] });
    expect(one('POWER(2, -1)')).toBe(0.5);
    expect(one(`POWER(${DEC}, 2)`)).toBe(152.39902500000002);
    expect(one('SQRT(d)', { d: 2.5 })).toBe(1.5811388300841898);
    expect(one('SQRT(-1)')).toBeNaN();
    expect(one('LN(0)')).toBe(-Infinity);
    expect(one('LN(-1)')).toBeNaN();
    expect(one('LN(i)', { i: 7 })).toBe(1.9459101490553132);
    expect(one('LOG10(1000)')).toBe(3);
    expect(one('EXP(1)')).toBe(2.718281828459045);
    expect(one(`EXP(${DEC})`)).toBe(4.351456244655325e-6);
    expect(evalSql('EXP(1)').type).toBe('DOUBLE NOT NULL');
    // LOG(x) is LN(x), LOG(b, x) the logarithm to base b (Flink 1.19 documentation).
    expect(one('LOG(EXP(1))')).toBe(1);
    expect(one('LOG(2, 8)')).toBe(3);
    expect(evalSql('PI()')).toEqual({ type: 'DOUBLE NOT NULL', values: [Math.PI] });
    expect(compileError("SQRT(s)").message).toMatch(/SQRT: argument must be INT or BIGINT or DECIMAL or FLOAT or DOUBLE, found STRING/);
  });
  it('SIGN keeps the argument type, a DECIMAL at its scale', () => {
    expect(evalSql('SIGN(i)', [{ i: 7 }])).toEqual({ type: 'INT', values: [1] });
    expect(evalSql('SIGN(b)', [{ b: 10000000000 }])).toEqual({ type: 'BIGINT', values: [1] });
    expect(evalSql(`SIGN(${DEC})`)).toEqual({ type: 'DECIMAL(10, 3)', values: [-1000n] });
    expect(one('SIGN(-2.5E0)')).toBe(-1);
  });
  it('TRUNCATE cuts toward zero; a DECIMAL is typed as ROUND types it', () => {
    expect(evalSql(`TRUNCATE(${DEC}, 1)`)).toEqual({ type: 'DECIMAL(9, 1)', values: [-123n] });
    expect(evalSql(`TRUNCATE(${DEC})`)).toEqual({ type: 'DECIMAL(8, 0)', values: [-12n] });
    expect(evalSql('TRUNCATE(CAST(123.456 AS DECIMAL(6, 3)), -1)')).toEqual({ type: 'DECIMAL(4, 0)', values: [120n] });
    expect(evalSql('TRUNCATE(1234, -2)')).toEqual({ type: 'INT NOT NULL', values: [1200] });
    expect(one('TRUNCATE(i, -1)', { i: 7 })).toBe(0);
    expect(one('TRUNCATE(d)', { d: 2.5 })).toBe(2);
    expect(one('TRUNCATE(-2.57E0, 1)')).toBe(-2.5);
    expect(one('TRUNCATE(d, 1)', {})).toBeNull();
  });
});

describe('numeric CAST narrowing, as Java casts do it', () => {
  it('integers keep their low bits (was a dead letter)', () => {
    expect(one('CAST(2147483648 AS INT)')).toBe(-2147483648);
    expect(one('CAST(3000000000 AS INT)')).toBe(-1294967296);
    expect(one('CAST(b AS INT)', { b: 10000000000 })).toBe(1410065408);
    expect(one('CAST(b * 1000000000 AS INT)', { b: 10000000000 })).toBe(-1981284352);
    expect(one('TRY_CAST(2147483648 AS INT)')).toBe(-2147483648);
  });
  it('doubles truncate and saturate, NaN is 0', () => {
    expect(one('CAST(1e300 AS BIGINT)')).toBe(9223372036854775807n);
    expect(one('CAST(-1e300 AS INT)')).toBe(-2147483648);
    expect(one('CAST(1e10 AS INT)')).toBe(2147483647);
    expect(one("CAST(CAST('NaN' AS DOUBLE) AS INT)")).toBe(0);
    expect(one('CAST(3.7E0 AS INT)')).toBe(3);
    expect(one('CAST(-3.7E0 AS BIGINT)')).toBe(-3);
  });
  it("a DECIMAL's integer part keeps its low bits", () => {
    expect(one('CAST(CAST(99999999999.99 AS DECIMAL(13, 2)) AS INT)')).toBe(1215752191);
    expect(one('CAST(CAST(-2.5 AS DECIMAL(3, 1)) AS INT)')).toBe(-2);
  });
  it('text that overflows is still the record\'s error, as Flink fails on it', () => {
    expect(one("CAST('99999999999' AS INT)")).toHaveProperty('error');
    expect(one("CAST('1e300' AS BIGINT)")).toHaveProperty('error');
  });
});
