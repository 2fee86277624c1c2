import { describe, expect, it } from 'vitest';
import { formatSpread, percentile, ratio, spread } from '../../benchmarks/harness/stats.js';

describe('spread', () => {
  it('gives the median and min–max of an odd count, whatever the order', () => {
    expect(spread([30, 10, 20])).toEqual({ median: 20, min: 10, max: 30, n: 3 });
  });

  it('takes the lower middle of an even count for figures where higher is better, the upper where lower is', () => {
    expect(spread([4, 1, 3, 2])!.median).toBe(2);
    expect(spread([4, 1, 3, 2], false)!.median).toBe(3);
  });

  it('leaves out missing and non-finite values, and is null when none is left', () => {
    expect(spread([null, 5, undefined, Number.NaN, Infinity])).toEqual({ median: 5, min: 5, max: 5, n: 1 });
    expect(spread([null, undefined])).toBeNull();
    expect(spread([])).toBeNull();
  });
});

describe('percentile', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted

  it('is the nearest rank: the smallest value with p % of the values at or below it', () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile(hundred, 0)).toBe(1);
    expect(percentile([7, 1, 3], 50)).toBe(3);
    expect(percentile([7, 1, 3], 67)).toBe(7);
  });

  it('handles lists too long to spread into arguments', () => {
    const many = Array.from({ length: 300_000 }, (_, i) => i);
    expect(percentile(many, 100)).toBe(299_999);
    expect(percentile(many, 50)).toBe(149_999);
  });

  it('refuses an empty list and a p outside 0–100', () => {
    expect(() => percentile([], 50)).toThrow(/no values/);
    expect(() => percentile([1], 101)).toThrow(/0–100/);
    expect(() => percentile([1], Number.NaN)).toThrow(/0–100/);
  });
});

describe('formatSpread and ratio', () => {
  it('prints the median with its range, scaled, or the median alone when all runs agree', () => {
    expect(formatSpread({ median: 193_400, min: 145_000, max: 205_600, n: 3 }, 0, 1000)).toBe('193 (145–206)');
    expect(formatSpread({ median: 8.7, min: 8.7, max: 8.7, n: 1 }, 1)).toBe('8.7');
    expect(formatSpread(null)).toBe('—');
  });

  it('divides medians, and has no figure when either side is missing or zero', () => {
    expect(ratio({ median: 300, min: 0, max: 0, n: 1 }, { median: 100, min: 0, max: 0, n: 1 })).toBe(3);
    expect(ratio(null, { median: 1, min: 1, max: 1, n: 1 })).toBeNull();
    expect(ratio({ median: 1, min: 1, max: 1, n: 1 }, { median: 0, min: 0, max: 0, n: 1 })).toBeNull();
  });
});
