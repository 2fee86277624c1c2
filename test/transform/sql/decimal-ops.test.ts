// DECIMAL in compiled SQL: exact values (unscaled bigints at the expression's scale), result types
// by Flink 1.19 LogicalTypeMerging, HALF_UP rounding, NULL on overflow.
import { describe, expect, it } from 'vitest';
import { compileError, evalSql, one } from './eval.js';

const D = (text: string, type: string) => `CAST('${text}' AS ${type})`;

describe('DECIMAL literals and CAST', () => {
  it('a literal with a point is an exact DECIMAL; an integer past BIGINT is DECIMAL(n, 0)', () => {
    expect(evalSql('12345678901234567.89')).toEqual({ type: 'DECIMAL(19, 2) NOT NULL', values: [1234567890123456789n] });
    expect(evalSql('123456789012345678901234')).toEqual({ type: 'DECIMAL(24, 0) NOT NULL', values: [123456789012345678901234n] });
    expect(one('9223372036854775807')).toBe(9223372036854775807n);
  });

  it('text → DECIMAL exactly, HALF_UP to the scale; NULL beyond the precision; bad text fails CAST, not TRY_CAST', () => {
    expect(evalSql('CAST(s AS DECIMAL(20, 2))', [{ s: '12345678901234567.89' }, { s: '99999999999999999.99' }, { s: '12345678901234567.894' }, { s: '12345678901234567.895' }, { s: ' -0.005 ' }]).values)
      .toEqual([1234567890123456789n, 9999999999999999999n, 1234567890123456789n, 1234567890123456790n, -1n]);
    expect(one('CAST(s AS DECIMAL(20, 2))', { s: '123456789012345678901' })).toBeNull();
    expect(one('CAST(s AS DECIMAL(5, 2))', { s: 'abc' })).toEqual({ error: "cannot CAST 'abc' AS DECIMAL(5, 2)" });
    expect(one('TRY_CAST(s AS DECIMAL(5, 2))', { s: 'abc' })).toBeNull();
  });

  it('between decimals: HALF_UP when the scale drops, NULL past the precision', () => {
    expect(one(`CAST(${D('1.2345', 'DECIMAL(10, 4)')} AS DECIMAL(10, 2))`)).toBe(123n);
    expect(one(`CAST(${D('1.2350', 'DECIMAL(10, 4)')} AS DECIMAL(10, 2))`)).toBe(124n);
    expect(one(`CAST(${D('-1.2350', 'DECIMAL(10, 4)')} AS DECIMAL(10, 2))`)).toBe(-124n);
    expect(one(`CAST(${D('123.45', 'DECIMAL(5, 2)')} AS DECIMAL(4, 2))`)).toBeNull();
  });

  it('DECIMAL → STRING, INT, BIGINT, DOUBLE without a double in between', () => {
    expect(one(`CAST(${D('12345678901234567.89', 'DECIMAL(20, 2)')} AS STRING)`)).toBe('12345678901234567.89');
    expect(one(`CAST(${D('-0.05', 'DECIMAL(20, 2)')} AS STRING)`)).toBe('-0.05');
    expect(one(`CAST(${D('-12.99', 'DECIMAL(5, 2)')} AS INT)`)).toBe(-12);
    expect(one(`CAST(${D('9223372036854775807.99', 'DECIMAL(30, 2)')} AS BIGINT)`)).toBe(9223372036854775807n);
    expect(one(`CAST(${D('0.1', 'DECIMAL(5, 1)')} AS DOUBLE)`)).toBe(0.1);
    expect(one('CAST(i AS DECIMAL(12, 2))', { i: -7 })).toBe(-700n);
    expect(one('CAST(d AS DECIMAL(10, 2))', { d: 0.145 })).toBe(15n);
  });
});

describe('DECIMAL arithmetic', () => {
  it('+ and - are exact, typed max(p1-s1, p2-s2) + max(s1, s2) + 1', () => {
    const sum = evalSql(`${D('12345678901234567.89', 'DECIMAL(20, 2)')} + CAST(s AS DECIMAL(20, 2))`, [{ s: '0.01' }]);
    expect(sum).toEqual({ type: 'DECIMAL(21, 2)', values: [1234567890123456790n] });
    expect(evalSql('`dec` + CAST(s AS DECIMAL(20, 4))', [{ dec: 9999999999n, s: '0.0001' }])).toEqual({ type: 'DECIMAL(21, 4)', values: [999999999901n] });
    expect(evalSql('`dec` - 1', [{ dec: 150n }]).values).toEqual([50n]);
    expect(one(`-${D('12345678901234567.89', 'DECIMAL(20, 2)')}`)).toBe(-1234567890123456789n);
  });

  it('* is exact at s1 + s2', () => {
    const r = evalSql(`${D('12345678901234567.89', 'DECIMAL(20, 2)')} * CAST(s AS DECIMAL(5, 3))`, [{ s: '1.001' }]);
    expect(r).toEqual({ type: 'DECIMAL(25, 5)', values: [1234567890123456789n * 1001n] });
  });

  it('/ rounds HALF_UP at scale max(6, s1 + p2 + 1); division by zero fails the record', () => {
    const r = evalSql(`CAST(s AS DECIMAL(10, 2)) / CAST(s2 AS DECIMAL(5, 0))`, [{ s: '10.00', s2: '3' }, { s: '20.00', s2: '3' }, { s: '-20.00', s2: '3' }, { s: '1', s2: '0' }]);
    expect(r.type).toBe('DECIMAL(16, 8)');
    expect(r.values).toEqual([333333333n, 666666667n, -666666667n, { error: 'division by zero' }]);
  });

  it('% keeps the dividend’s sign (BigDecimal.remainder)', () => {
    expect(evalSql('`dec` % 3', [{ dec: 1050n }, { dec: -1050n }])).toEqual({ type: 'DECIMAL(10, 2)', values: [150n, -150n] });
  });

  it('result types follow Flink 1.19 LogicalTypeMerging, adjusted to 38 digits', () => {
    expect(evalSql(`${D('1', 'DECIMAL(32, 8)')} + ${D('1', 'DECIMAL(38, 8)')}`).type).toBe('DECIMAL(38, 7)');
    expect(evalSql(`${D('1', 'DECIMAL(30, 20)')} + ${D('1', 'DECIMAL(28, 20)')}`).type).toBe('DECIMAL(31, 20)');
    expect(evalSql(`${D('1', 'DECIMAL(38, 10)')} * ${D('1', 'DECIMAL(38, 10)')}`).type).toBe('DECIMAL(38, 6)');
    expect(evalSql(`${D('1', 'DECIMAL(38, 10)')} / ${D('1', 'DECIMAL(38, 10)')}`).type).toBe('DECIMAL(38, 6)');
    // The sum of DECIMAL(32, 8) and DECIMAL(38, 8) is kept at scale 7, rounded HALF_UP.
    expect(one(`${D('0.00000005', 'DECIMAL(32, 8)')} + ${D('0', 'DECIMAL(38, 8)')}`)).toBe(1n);
  });

  it('a result beyond its precision is NULL, as Flink’s DecimalDataUtils gives it', () => {
    expect(evalSql(`CAST(s AS DECIMAL(38, 0)) * 10`, [{ s: '9'.repeat(38) }])).toEqual({ type: 'DECIMAL(38, 0)', values: [null] });
  });

  it('beside a DOUBLE the decimal is its nearest double', () => {
    expect(evalSql('`dec` + d', [{ dec: 150n, d: 0.25 }])).toEqual({ type: 'DOUBLE', values: [1.75] });
    // Epoch seconds as a DECIMAL: its value, not its unscaled digits.
    expect(one('TO_TIMESTAMP_LTZ(`dec`, 0)', { dec: 150n })).toBe(1_500_000);
    expect(one('FROM_UNIXTIME(`dec`)', { dec: 8640000n })).toBe('1970-01-02 00:00:00');
  });
});

describe('DECIMAL comparisons and merged types', () => {
  it('compares by value across scales and with integers and doubles', () => {
    expect(one(`${D('12345678901234567.89', 'DECIMAL(20, 2)')} > CAST(s AS DECIMAL(20, 2))`, { s: '12345678901234567.88' })).toBe(true);
    expect(one(`CAST(s AS DECIMAL(10, 2)) = CAST(s2 AS DECIMAL(10, 4))`, { s: '1.50', s2: '1.5000' })).toBe(true);
    expect(evalSql('`dec` > 5', [{ dec: 600n }, { dec: 400n }]).values).toEqual([true, false]);
    expect(one('`dec` = d', { dec: 150n, d: 1.5 })).toBe(true);
    expect(one('`dec` IN (1.5, 6)', { dec: 150n })).toBe(true);
    expect(one('`dec` IN (1.25, 6)', { dec: 150n })).toBe(false);
    expect(one('`dec` BETWEEN 1 AND 2', { dec: 150n })).toBe(true);
    expect(one('NULLIF(`dec`, 1.5)', { dec: 150n })).toBeNull();
  });

  it('CASE, COALESCE and IF bring every branch to the common DECIMAL type', () => {
    expect(evalSql("CASE WHEN f THEN `dec` ELSE CAST(s AS DECIMAL(10, 4)) END", [{ f: true, dec: 150n }, { f: false, s: '0.0001' }])).toEqual({ type: 'DECIMAL(12, 4)', values: [15000n, 1n] });
    expect(evalSql('COALESCE(`dec`, 0)', [{}, { dec: 150n }]).values).toEqual([0n, 150n]);
    expect(evalSql('IF(f, `dec`, 2)', [{ f: true, dec: 150n }, { f: false }]).values).toEqual([150n, 200n]);
  });
});

describe('ABS, ROUND, FLOOR, CEIL', () => {
  it('ABS keeps the type', () => {
    expect(evalSql(`ABS(${D('-12345678901234567.89', 'DECIMAL(20, 2)')})`)).toEqual({ type: 'DECIMAL(20, 2)', values: [1234567890123456789n] });
    expect(evalSql('ABS(i)', [{ i: -3 }, {}]).values).toEqual([3, null]);
  });

  it('ROUND is HALF_UP, typed by findRoundDecimalType', () => {
    expect(evalSql(`ROUND(${D('2.345', 'DECIMAL(10, 3)')}, 2)`)).toEqual({ type: 'DECIMAL(10, 2)', values: [235n] });
    expect(evalSql(`ROUND(${D('-2.5', 'DECIMAL(10, 1)')})`)).toEqual({ type: 'DECIMAL(10, 0)', values: [-3n] });
    expect(evalSql(`ROUND(${D('15', 'DECIMAL(10, 3)')}, -1)`)).toEqual({ type: 'DECIMAL(8, 0)', values: [20n] });
    expect(evalSql(`ROUND(${D('2.345', 'DECIMAL(10, 3)')}, 5)`).type).toBe('DECIMAL(10, 3)');
    expect(one('ROUND(d, 2)', { d: 2.675 })).toBe(2.68);
    expect(one('ROUND(d, -2)', { d: 149.5 })).toBe(100);
    expect(evalSql('ROUND(i, -1)', [{ i: 15 }, { i: -15 }]).values).toEqual([20, -20]);
  });

  it('FLOOR and CEIL give DECIMAL(p, 0)', () => {
    expect(evalSql(`FLOOR(${D('-1.5', 'DECIMAL(5, 1)')})`)).toEqual({ type: 'DECIMAL(5, 0)', values: [-2n] });
    expect(one(`CEIL(${D('-1.5', 'DECIMAL(5, 1)')})`)).toBe(-1n);
    expect(one(`CEIL(${D('1.01', 'DECIMAL(5, 2)')})`)).toBe(2n);
    expect(one(`FLOOR(${D('7', 'DECIMAL(5, 2)')})`)).toBe(7n);
    expect(one('FLOOR(d)', { d: 1.7 })).toBe(1);
    expect(compileError('FLOOR(s)').message).toMatch(/FLOOR: argument must be a number/);
  });
});
