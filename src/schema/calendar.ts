// The proleptic Gregorian calendar as integer arithmetic, and the range of Flink's DATE and
// TIMESTAMP types (0000-01-01 to 9999-12-31 23:59:59.999999). Shared by the transform layer, which
// keeps out-of-range values out of the tables as dead letters, and the Iceberg writer, whose
// partition transforms and bounds must work on any 64-bit value without JavaScript's Date (which
// ends at year 275760 and throws a RangeError past it).

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

/** The civil date of a day count; exact for any |days| below 2^53 / 146097 (far past any int64 timestamp). */
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

/** Flink's years: text with another year count does not parse, and values outside them are refused. */
export const MIN_YEAR = 0;
export const MAX_YEAR = 9999;

/** 0000-01-01 and 9999-12-31 as days since 1970-01-01: the DATE range. */
export const MIN_EPOCH_DAY = -719_528;
export const MAX_EPOCH_DAY = 2_932_896;

/**
 * The TIMESTAMP range in microseconds: [MIN_MICROS, END_MICROS), END_MICROS being 10000-01-01.
 * Both bounds are doubles exactly, so a comparison with a rounded value is never off by one ulp;
 * the exclusive upper bound matters because 9999-12-31 23:59:59.999999 itself is no double.
 */
export const MIN_MICROS = MIN_EPOCH_DAY * MICROS_PER_DAY;
export const END_MICROS = (MAX_EPOCH_DAY + 1) * MICROS_PER_DAY;
export const MIN_MICROS_BIG = BigInt(MIN_MICROS);
export const END_MICROS_BIG = BigInt(END_MICROS);

export function dateInRange(days: number): boolean {
  return days >= MIN_EPOCH_DAY && days <= MAX_EPOCH_DAY;
}

/** Whether micros (a double or an exact bigint) is a TIMESTAMP of years 0000–9999. */
export function timestampInRange(micros: number | bigint): boolean {
  return typeof micros === 'bigint' ? micros >= MIN_MICROS_BIG && micros < END_MICROS_BIG : micros >= MIN_MICROS && micros < END_MICROS;
}

// High 32-bit words strictly between these are inside the TIMESTAMP range whatever the low word.
const MIN_HI = Math.floor(MIN_MICROS / 2 ** 32);
const END_HI = Math.floor(END_MICROS / 2 ** 32);

/**
 * timestampInRange of an int64 given as its 32-bit words, as Arrow buffers hold them: the high
 * word alone decides unless the value is within 2^32 µs (71 minutes) of either end, so a scan of
 * a column builds no BigInt per value.
 */
export function timestampWordsInRange(lo: number, hi: number): boolean {
  return (hi > MIN_HI && hi < END_HI) || timestampInRange((BigInt(hi) << 32n) | BigInt(lo >>> 0));
}

function pad(n: number, width: number): string {
  const s = String(Math.abs(n));
  return (n < 0 ? '-' : '') + (s.length >= width ? s : '0'.repeat(width - s.length) + s);
}

/** `yyyy-MM-dd` of any day count, years past 9999 or before 0 included (for messages and paths). */
export function dateText(days: number): string {
  const c = civilFromDays(days);
  return `${pad(c.year, 4)}-${pad(c.month, 2)}-${pad(c.day, 2)}`;
}

/** `yyyy-MM-dd HH:mm:ss.ffffff` of any micros value, exact for bigint, for error messages. */
export function timestampText(micros: number | bigint): string {
  const big = typeof micros === 'bigint' ? micros : BigInt(Math.trunc(micros));
  const day = BigInt(MICROS_PER_DAY);
  let days = big / day;
  let rest = big % day;
  if (rest < 0n) {
    days -= 1n;
    rest += day;
  }
  const r = Number(rest);
  const h = Math.floor(r / 3_600_000_000);
  const mi = Math.floor(r / 60_000_000) % 60;
  const s = Math.floor(r / 1_000_000) % 60;
  return `${dateText(Number(days))} ${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(r % 1_000_000, 6)}`;
}

export const DATE_RANGE_TEXT = '0000-01-01 to 9999-12-31';
export const TIMESTAMP_RANGE_TEXT = '0000-01-01 00:00:00 to 9999-12-31 23:59:59.999999';

/** Why a DATE value is not in range, or null. */
export function dateRangeReason(days: number): string | null {
  if (dateInRange(days)) return null;
  return Number.isSafeInteger(days) ? `${dateText(days)} (day ${days}) is outside the DATE range ${DATE_RANGE_TEXT}` : `${String(days)} is not a DATE (days since 1970-01-01 in ${DATE_RANGE_TEXT})`;
}

/** Why a TIMESTAMP value (micros) is not in range, or null. */
export function timestampRangeReason(micros: number | bigint): string | null {
  if (timestampInRange(micros)) return null;
  if (typeof micros === 'number' && !Number.isFinite(micros)) return `${String(micros)} is not a TIMESTAMP`;
  return `${timestampText(micros)} (${String(micros)} µs since 1970-01-01) is outside the TIMESTAMP range ${TIMESTAMP_RANGE_TEXT}`;
}
