import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration, parseSize } from '../../src/config/units.js';

describe('durations', () => {
  it.each([
    ['60s', 60_000],
    ['500ms', 500],
    ['1.5 min', 90_000],
    ['2h', 7_200_000],
    ['250', 250],
    [1000, 1000],
  ])('%s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['soon', '5 parsecs', '-1s', ''])('rejects %j', (text) => expect(parseDuration(text)).toBeUndefined());

  it('formats in the largest whole unit', () => {
    expect([60_000, 90_000, 3_600_000, 1500].map(formatDuration)).toEqual(['1min', '90s', '1h', '1500ms']);
  });
});

describe('sizes', () => {
  it.each([
    ['64mb', 64 * 1024 * 1024],
    ['512 KiB', 512 * 1024],
    ['1g', 1024 ** 3],
    [4096, 4096],
  ])('%s', (text, bytes) => expect(parseSize(text)).toBe(bytes));

  it.each(['lots', '1.5x', 1.5])('rejects %j', (v) => expect(parseSize(v)).toBeUndefined());
});
