// Calendar arithmetic for the transform layer without Date objects on the hot path.
//
// Representation (shared by the decoder, the SQL functions and the column builders):
// - DATE: days since 1970-01-01.
// - TIMESTAMP(p): microseconds since 1970-01-01 00:00 of the wall clock, no zone attached.
// - TIMESTAMP_LTZ(p): microseconds since the epoch instant.
// Both fit a double exactly for years 1685..2255 (|µs| < 2^53 ≈ 285 years either side of 1970);
// further out a double holds them to 2–32 µs. Values are kept to Flink's years 0000–9999
// (calendar.ts): text of other years does not parse, and a number outside them is refused by
// whoever makes it (decoders, SQL functions, transformer results) and, last, by the column builder.
// Converting between the two needs the session time zone (Flink `table.local-time-zone`).

import { StreamError } from '../errors.js';
import { END_MICROS, END_MICROS_BIG, MAX_YEAR, MICROS_PER_DAY, MIN_YEAR, civilFromDays, daysFromCivil, type Civil } from '../schema/calendar.js';

export const MICROS_PER_SECOND = 1_000_000;
export { MICROS_PER_DAY, civilFromDays, daysFromCivil, type Civil } from '../schema/calendar.js';

/**
 * The largest double below 10000-01-01 (one ulp, 32 µs, under END_MICROS). A wall clock in the
 * last 16 µs of 9999 rounds up to 10000-01-01 as a double; it is held as this value instead, so a
 * valid year-9999 value never turns into an out-of-range one. Values that far from 1970 are held
 * to 32 µs anyway (see the note on precision above).
 */
export const LAST_MICROS = END_MICROS - 32;

/** Exact micros (as Avro longs and BigInt64 columns carry them) → this layer's double, range kept. */
export function microsToNumber(micros: bigint): number {
  const n = Number(micros);
  return n >= END_MICROS && micros < END_MICROS_BIG ? LAST_MICROS : n;
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

/** A date of Flink's years (0000–9999): every text parser refuses other years. */
export function validDate(y: number, m: number, d: number): boolean {
  return y >= MIN_YEAR && y <= MAX_YEAR && m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}

/** Micros of a wall clock whose date passed validDate, never rounded past 9999 (see LAST_MICROS). */
export function parsedWallMicros(y: number, mo: number, d: number, h: number, mi: number, s: number, micro: number): number {
  return Math.min(microsOfWallClock(y, mo, d, h, mi, s, micro), LAST_MICROS);
}

// Years are four digits, as Flink's parsers (java.time's ISO_LOCAL_DATE) read them without a sign.
const DATE_RE = /^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$/;
// Flink's SQL timestamp text (`yyyy-MM-dd HH:mm:ss[.f…]`) and ISO-8601 (`T` separator); a trailing
// `Z` is accepted because Flink's JSON format writes TIMESTAMP_LTZ values that way.
const TIMESTAMP_RE = /^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,9}))?)?)?(Z)?\s*$/;
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
  return parsedWallMicros(y, mo, d, h, mi, s, fractionMicros(m[7]));
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
        // Without the era, year 0 (1 BC) reads as year 1 and its offset comes out a year wide.
        era: 'short',
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
    let bc = false;
    for (const p of this.fmt.formatToParts(new Date(ms))) {
      if (p.type === 'era') bc = p.value === 'BC';
      else if (p.type !== 'literal') parts[p.type] = Number(p.value);
    }
    const year = bc ? 1 - parts.year! : parts.year!;
    const wall = microsOfWallClock(year, parts.month!, parts.day!, parts.hour!, parts.minute!, parts.second!, 0);
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
