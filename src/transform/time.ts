// Calendar arithmetic for the transform layer without Date objects on the hot path.
//
// Representation (shared by the decoder, the SQL functions and the column builders):
// - DATE: days since 1970-01-01.
// - TIMESTAMP(p): microseconds since 1970-01-01 00:00 of the wall clock, no zone attached.
// - TIMESTAMP_LTZ(p): microseconds since the epoch instant.
// Both fit a double exactly for years 1678..2262 (|µs| < 2^53 ≈ 285 years either side of 1970).
// Converting between the two needs the session time zone (Flink `table.local-time-zone`).

import { StreamError } from '../errors.js';

export const MICROS_PER_SECOND = 1_000_000;
export const MICROS_PER_DAY = 86_400_000_000;

/** Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant, "chrono-compatible date algorithms"). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export interface Civil {
  year: number;
  month: number;
  day: number;
}

export function civilFromDays(z: number): Civil {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp + (mp < 10 ? 3 : -9);
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

export interface WallClock extends Civil {
  hour: number;
  minute: number;
  second: number;
  /** Microseconds within the second. */
  micro: number;
  /** Days since 1970-01-01. */
  epochDay: number;
}

export function wallClockOf(micros: number): WallClock {
  const epochDay = Math.floor(micros / MICROS_PER_DAY);
  let rest = micros - epochDay * MICROS_PER_DAY;
  const hour = Math.floor(rest / 3_600_000_000);
  rest -= hour * 3_600_000_000;
  const minute = Math.floor(rest / 60_000_000);
  rest -= minute * 60_000_000;
  const second = Math.floor(rest / MICROS_PER_SECOND);
  const micro = rest - second * MICROS_PER_SECOND;
  return { ...civilFromDays(epochDay), hour, minute, second, micro, epochDay };
}

export function microsOfWallClock(y: number, mo: number, d: number, h: number, mi: number, s: number, micro: number): number {
  return daysFromCivil(y, mo, d) * MICROS_PER_DAY + ((h * 60 + mi) * 60 + s) * MICROS_PER_SECOND + micro;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

export function validDate(y: number, m: number, d: number): boolean {
  return m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}

const DATE_RE = /^\s*(-?\d{4,})-(\d{1,2})-(\d{1,2})\s*$/;
// Flink's SQL timestamp text (`yyyy-MM-dd HH:mm:ss[.f…]`) and ISO-8601 (`T` separator); a trailing
// `Z` is accepted because Flink's JSON format writes TIMESTAMP_LTZ values that way.
const TIMESTAMP_RE = /^\s*(-?\d{4,})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,9}))?)?)?(Z)?\s*$/;
const TIME_RE = /^\s*(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,9}))?)?\s*$/;

/** `yyyy-MM-dd` → days since epoch, or null when it is not a valid date. */
export function parseDateText(text: string): number | null {
  const m = DATE_RE.exec(text);
  if (m === null) return null;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  return validDate(y, mo, d) ? daysFromCivil(y, mo, d) : null;
}

function fractionMicros(frac: string | undefined): number {
  if (frac === undefined) return 0;
  return Number((frac + '000000').slice(0, 6));
}

/** Timestamp text → wall-clock micros, or null. Digits beyond microseconds are truncated. */
export function parseTimestampText(text: string): number | null {
  const m = TIMESTAMP_RE.exec(text);
  if (m === null) return null;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const h = m[4] === undefined ? 0 : Number(m[4]);
  const mi = m[5] === undefined ? 0 : Number(m[5]);
  const s = m[6] === undefined ? 0 : Number(m[6]);
  if (!validDate(y, mo, d) || h > 23 || mi > 59 || s > 59) return null;
  return microsOfWallClock(y, mo, d, h, mi, s, fractionMicros(m[7]));
}

/** `HH:mm[:ss[.f…]]` → micros of the day, or null. */
export function parseTimeText(text: string): number | null {
  const m = TIME_RE.exec(text);
  if (m === null) return null;
  const h = Number(m[1]);
  const mi = Number(m[2]);
  const s = m[3] === undefined ? 0 : Number(m[3]);
  if (h > 23 || mi > 59 || s > 59) return null;
  return ((h * 60 + mi) * 60 + s) * MICROS_PER_SECOND + fractionMicros(m[4]);
}

export function pad(n: number, width: number): string {
  const s = String(Math.abs(n));
  const padded = s.length >= width ? s : '0'.repeat(width - s.length) + s;
  return n < 0 ? '-' + padded : padded;
}

export function formatDate(days: number): string {
  const c = civilFromDays(days);
  return `${pad(c.year, 4)}-${pad(c.month, 2)}-${pad(c.day, 2)}`;
}

/** Flink's CAST(ts AS STRING): `yyyy-MM-dd HH:mm:ss` plus exactly `precision` fraction digits. */
export function formatTimestamp(micros: number, precision: number): string {
  const w = wallClockOf(micros);
  let out = `${pad(w.year, 4)}-${pad(w.month, 2)}-${pad(w.day, 2)} ${pad(w.hour, 2)}:${pad(w.minute, 2)}:${pad(w.second, 2)}`;
  if (precision > 0) out += '.' + (pad(w.micro, 6) + '000').slice(0, precision);
  return out;
}

export function formatTime(microsOfDay: number, precision: number): string {
  return formatTimestamp(microsOfDay, precision).slice(11);
}

/** Truncates micros to `precision` fractional digits (0..6), as a TIMESTAMP(p) column stores them. */
export function truncateToPrecision(micros: number, precision: number): number {
  if (precision >= 6) return micros;
  const unit = PRECISION_UNITS[precision]!;
  return micros - (((micros % unit) + unit) % unit);
}

const PRECISION_UNITS = [1_000_000, 100_000, 10_000, 1000, 100, 10];

/**
 * A session time zone: converts instants to wall clocks and back. UTC (the default) is the
 * identity; other IANA zones go through Intl once per distinct hour and are cached, because
 * Intl formatting costs microseconds per call.
 */
export class SessionZone {
  readonly isUtc: boolean;
  private readonly fmt: Intl.DateTimeFormat | null;
  private readonly offsetCache = new Map<number, number>();

  constructor(readonly name: string) {
    this.isUtc = /^(UTC|GMT|Z|Etc\/UTC|Etc\/GMT|\+00:00)$/i.test(name);
    this.fmt = this.isUtc ? null : SessionZone.formatter(name);
  }

  private static formatter(name: string): Intl.DateTimeFormat {
    try {
      return new Intl.DateTimeFormat('en-US', {
        timeZone: name,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch (e) {
      throw new StreamError('CONFIG_INVALID', `unknown session time zone '${name}': expected an IANA name such as UTC or Europe/Berlin`, { cause: e });
    }
  }

  /** Offset (µs) of the zone from UTC at the given instant. */
  offsetAt(instantMicros: number): number {
    if (this.fmt === null) return 0;
    const hourKey = Math.floor(instantMicros / 3_600_000_000);
    const cached = this.offsetCache.get(hourKey);
    if (cached !== undefined) return cached;
    const ms = hourKey * 3_600_000;
    const parts: Record<string, number> = {};
    for (const p of this.fmt.formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
    const wall = microsOfWallClock(parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!, parts.second!, 0);
    const offset = wall - ms * 1000;
    if (this.offsetCache.size > 10_000) this.offsetCache.clear();
    this.offsetCache.set(hourKey, offset);
    return offset;
  }

  /** TIMESTAMP_LTZ → TIMESTAMP: the wall clock in this zone at the instant. */
  toWall(instantMicros: number): number {
    return this.fmt === null ? instantMicros : instantMicros + this.offsetAt(instantMicros);
  }

  /**
   * TIMESTAMP → TIMESTAMP_LTZ. A wall clock inside a DST gap or overlap has no single instant;
   * like java.time's ZonedDateTime.of, this takes the offset valid just before the transition.
   */
  toInstant(wallMicros: number): number {
    if (this.fmt === null) return wallMicros;
    const guess = wallMicros - this.offsetAt(wallMicros);
    return wallMicros - this.offsetAt(guess);
  }
}
