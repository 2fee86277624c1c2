import { describe, expect, it } from 'vitest';
import { civilFromDays, daysFromCivil, formatTimestamp, LAST_MICROS, microsToNumber, parseDateText, parseTimestampText, SessionZone, truncateToPrecision } from '../../src/transform/time.js';
import { END_MICROS } from '../../src/schema/calendar.js';

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

describe("Flink's years 0000–9999", () => {
  it('text with a year of other than four digits, or a sign, does not parse', () => {
    expect(parseTimestampText('280000-01-01 00:00:00')).toBeNull();
    expect(parseTimestampText('+10000-01-01T00:00:00')).toBeNull();
    expect(parseTimestampText('-0001-01-01 00:00:00')).toBeNull();
    expect(parseDateText('10000-01-01')).toBeNull();
    expect(parseDateText('-2024-01-01')).toBeNull();
    expect(parseDateText('0000-01-01')).toBe(-719528);
    expect(parseDateText('9999-12-31')).toBe(2932896);
    expect(parseTimestampText('0000-01-01 00:00:00')).toBe(-62167219200000000);
  });

  it('the last microsecond of 9999 stays in 9999, though it is no double', () => {
    const last = parseTimestampText('9999-12-31 23:59:59.999999')!;
    expect(last).toBeLessThan(END_MICROS);
    expect(last).toBe(LAST_MICROS);
    expect(formatTimestamp(last, 0)).toBe('9999-12-31 23:59:59');
    expect(microsToNumber(253402300799999999n)).toBe(LAST_MICROS);
    expect(microsToNumber(253402300800000000n)).toBe(END_MICROS);
  });
});

describe('session time zone', () => {
  it('refuses an unknown zone name with CONFIG_INVALID', () => {
    expect(() => new SessionZone('Mars/Olympus')).toThrow(/unknown session time zone 'Mars\/Olympus'/);
  });

  it('places year 0000 (1 BC) by its own offset, not one a year wide', () => {
    // Berlin's local mean time is +0:53:28 before 1893; Intl shows year 0 as "1" unless asked for the era.
    const z = new SessionZone('Europe/Berlin');
    const start = parseTimestampText('0000-01-01 12:00:00')!;
    expect(z.toWall(start) - start).toBe((53 * 60 + 28) * 1_000_000);
    expect(z.toInstant(z.toWall(start))).toBe(start);
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
