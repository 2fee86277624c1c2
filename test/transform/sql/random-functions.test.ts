// RAND, RAND_INTEGER, CURRENT_ROW_TIMESTAMP. Seeded values are PyFlink 1.19.3's on successive
// rows of a streaming job (one generator per call site and operator).
import { describe, expect, it } from 'vitest';
import { compileError, evalSql, NOW_US } from './eval.js';

describe('RAND and RAND_INTEGER', () => {
  it('a seed gives java.util.Random\'s sequence, row after row, one per call site', () => {
    expect(evalSql('RAND(1)', [{}, {}, {}])).toEqual({ type: 'DOUBLE NOT NULL', values: [0.7308781907032909, 0.41008081149220166, 0.20771484130971707] });
    expect(evalSql('RAND(1) + RAND(1)').values).toEqual([1.4617563814065817]);
    expect(evalSql('RAND_INTEGER(1, 10)', [{}, {}, {}])).toEqual({ type: 'INT NOT NULL', values: [5, 8, 7] });
    expect(evalSql('RAND_INTEGER(7, 1000000)', [{}, {}, {}]).values).toEqual([164236, 249164, 829485]);
    expect(evalSql('RAND_INTEGER(1, 1000000)').values).toEqual([548985]);
  });
  it('unseeded: in range, of the type Flink gives', () => {
    const r = evalSql('RAND()', [{}, {}, {}]);
    expect(r.type).toBe('DOUBLE NOT NULL');
    for (const v of r.values as number[]) expect(v >= 0 && v < 1).toBe(true);
    const n = evalSql('RAND_INTEGER(10)', [{}, {}, {}]);
    expect(n.type).toBe('INT NOT NULL');
    for (const v of n.values as number[]) expect(Number.isInteger(v) && v >= 0 && v < 10).toBe(true);
  });
  it('a bound of 0 is the record\'s error; a column seed is refused', () => {
    expect(evalSql('RAND_INTEGER(0)').values).toEqual([{ error: 'RAND_INTEGER: the bound must be positive, found 0' }]);
    expect(compileError('RAND(i)').message).toMatch(/RAND: the seed must be a constant/);
  });
});

describe('CURRENT_ROW_TIMESTAMP', () => {
  it('TIMESTAMP_LTZ(3) NOT NULL, read from the clock rather than the batch\'s CURRENT_TIMESTAMP', () => {
    const r = evalSql('CURRENT_ROW_TIMESTAMP()');
    expect(r.type).toBe('TIMESTAMP_LTZ(3) NOT NULL');
    expect(r.values[0]).not.toBe(NOW_US);
    expect(typeof r.values[0]).toBe('number');
  });
});
