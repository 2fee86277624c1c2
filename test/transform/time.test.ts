import { describe, expect, it } from 'vitest';
import { civilFromDays, daysFromCivil, formatTimestamp, parseTimestampText, SessionZone, truncateToPrecision } from '../../src/transform/time.js';

describe('calendar arithmetic', () => {
  it('round-trips days and civil dates across centuries and leap days', () => {
    for (const [y, m, d] of [[1970, 1, 1], [2000, 2, 29], [1900, 3, 1], [2024, 12, 31], [1600, 1, 1]] as const) {
      const days = daysFromCivil(y, m, d);
      expect(days).toBe(Date.UTC(y, m - 1, d) / 86400000);
      expect(civilFromDays(days)).toEqual({ year: y, month: m, day: d });
    }
  });

  it('truncates toward the past at any precision, before 1970 too', () => {
    expect(truncateToPrecision(1_234_567, 3)).toBe(1_234_000);
    expect(truncateToPrecision(1_234_567, 0)).toBe(1_000_000);
    expect(truncateToPrecision(-1, 3)).toBe(-1000);
    expect(truncateToPrecision(-1_000, 3)).toBe(-1000);
    expect(truncateToPrecision(-1, 6)).toBe(-1);
  });

  it('parses and formats timestamp text', () => {
    const us = parseTimestampText('1969-12-31 23:59:59.999999')!;
    expect(us).toBe(-1);
    expect(formatTimestamp(us, 6)).toBe('1969-12-31 23:59:59.999999');
    expect(formatTimestamp(0, 0)).toBe('1970-01-01 00:00:00');
    expect(parseTimestampText('2024-02-30 00:00:00')).toBeNull();
    expect(parseTimestampText('2024-02-03')).toBe(Date.UTC(2024, 1, 3) * 1000);
  });
});

describe('session time zone', () => {
  it('refuses an unknown zone name with CONFIG_INVALID', () => {
    expect(() => new SessionZone('Mars/Olympus')).toThrow(/unknown session time zone 'Mars\/Olympus'/);
  });

  it('UTC is the identity', () => {
    const z = new SessionZone('UTC');
    expect(z.toWall(123)).toBe(123);
    expect(z.toInstant(123)).toBe(123);
  });

  it('follows daylight saving time in both directions', () => {
    const z = new SessionZone('Europe/Berlin');
    const winter = Date.UTC(2024, 0, 15, 12) * 1000;
    const summer = Date.UTC(2024, 6, 15, 12) * 1000;
    expect(z.toWall(winter) - winter).toBe(3_600_000_000);
    expect(z.toWall(summer) - summer).toBe(7_200_000_000);
    expect(z.toInstant(z.toWall(summer))).toBe(summer);
    expect(z.toInstant(z.toWall(winter))).toBe(winter);
  });
});
