// ROUND on a DOUBLE far from zero, found by the Flink differential suite: ROUND(1e308, 0) gave
// 1e200, because the double's digits went through the decimal parser, which caps exponents at 200.
// Flink (SqlFunctionUtils.sround through BigDecimal.valueOf) returns such a double unchanged when
// it is already whole at the rounding place, and 0.0 for a negative zero (BigDecimal has none).
import { describe, expect, it } from 'vitest';
import { one } from './eval.js';

describe('ROUND on a large DOUBLE', () => {
  it('keeps a double already whole at the rounding place', () => {
    expect(one('ROUND(d, 0)', { d: 1e308 })).toBe(1e308);
    expect(one('ROUND(d, 2)', { d: -6.02214076e23 })).toBe(-6.02214076e23);
    expect(one('ROUND(d)', { d: 2 ** 53 + 2 })).toBe(2 ** 53 + 2);
  });

  it('gives 0.0, never -0.0, as BigDecimal has no negative zero', () => {
    expect(Object.is(one('ROUND(d, 0)', { d: -0.0 }), 0)).toBe(true);
    expect(Object.is(one('ROUND(d, 0)', { d: -0.2 }), 0)).toBe(true);
  });

  it('rounds to tens of a double beyond the decimal parser exponent limit', () => {
    expect(one('ROUND(d, -1)', { d: 1.5e250 })).toBe(1.5e250);
    expect(one('ROUND(d, -300)', { d: 1.5e300 })).toBe(2e300);
  });
});
