// Java's lenient readers of date text, which Flink 1.19's string functions call where one might
// expect a strict parser:
//
//   SimpleDateFormat.parse   UNIX_TIMESTAMP, TO_DATE(s, format), CONVERT_TZ and DATE_FORMAT of
//                            text (DateTimeUtils.internalParseTimestampMillis / parseTimestampTz /
//                            formatTimestampString)
//   Timestamp.valueOf,       TO_TIMESTAMP(s, format) when the format does not match
//   Date.valueOf             (DateTimeUtils.parseTimestampData's fallback)
//
// SimpleDateFormat in its default lenient mode reads a prefix of the text (the rest is ignored),
// numbers of any width where the next pattern field is not a number (`yyyy` takes '20240229'
// whole before a '-'), a '-' sign on any number, and values past their field's range rolled over
// by its calendar (month 13 is January of the next year, day 0 the last day of the month
// before, hour 25 the next day). Its calendar is GregorianCalendar: dates before 1582-10-15 are
// Julian dates, so '1500-03-01' is the instant of the proleptic 1500-03-11. Each of these was
// checked against Java 17's SimpleDateFormat, which PyFlink 1.19.3 runs.
//
// Hazards, not followed: a day-of-week name (E) is read and then ignored, as Java ignores it
// whenever the pattern also names the day of the month before it; a year past the int range
// wraps in Java and is not followed here; zone fields are refused by the pattern compiler.

import { civilFromDays, daysFromCivil, type Civil } from '../time.js';
import { tokenizeDatePattern, type DateToken } from './date-format.js';

const MILLIS_PER_DAY = 86_400_000;
/** 1582-10-15, GregorianCalendar's default cutover, as days since 1970-01-01. */
const GREGORIAN_CUTOVER_DAY = -141_427;

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Fields whose next neighbour makes a number obey its pattern width (SimpleDateFormat.shouldObeyCount). */
function isNumericField(t: DateToken | undefined): boolean {
  if (t === undefined || t.kind !== 'field') return false;
  if (t.letter === 'M') return t.width <= 2;
  return 'ydHmsSDhKku'.includes(t.letter);
}

function floorDiv(a: number, b: number): number {
  return Math.floor(a / b);
}

/** Days since 1970-01-01 of a Julian calendar date (month 1-12, any day offset past the first). */
function julianDays(y: number, m: number, d: number): number {
  const a = floorDiv(14 - m, 12);
  const yy = y + 4800 - a;
  const mm = m + 12 * a - 3;
  return d + floorDiv(153 * mm + 2, 5) + 365 * yy + floorDiv(yy, 4) - 32083 - 2440588;
}

/** GregorianCalendar's day for a lenient year, 0-based month and day of month. */
function hybridDays(year: number, month0: number, day: number): number {
  const y = year + floorDiv(month0, 12);
  const m = month0 - floorDiv(month0, 12) * 12 + 1;
  const g = daysFromCivil(y, m, 1) + day - 1;
  return g >= GREGORIAN_CUTOVER_DAY ? g : julianDays(y, m, 1) + day - 1;
}

/** DecimalFormat's integer parse as SimpleDateFormat uses it: an optional '-', then ASCII digits. */
function readNumber(text: string, at: number, end: number): { value: number; next: number } | null {
  let k = at;
  const negative = text[k] === '-';
  if (negative) k++;
  const from = k;
  while (k < end && text.charCodeAt(k) >= 48 && text.charCodeAt(k) <= 57) k++;
  if (k === from) return null;
  const digits = text.slice(from, k);
  // Long, then Number.intValue(): the low 32 bits (a text of more digits than a long is a
  // Double in Java, which saturates; both are years no table holds).
  const big = BigInt(digits) * (negative ? -1n : 1n);
  const value = digits.length > 18 ? Number(big < 0n ? -2147483648n : 2147483647n) : Number(BigInt.asIntN(32, big));
  return { value, next: k };
}

/** The longest of `names` (case-insensitively) at `at`, as SimpleDateFormat.matchString. */
function matchName(text: string, at: number, names: string[]): { index: number; next: number } | null {
  let best: { index: number; next: number } | null = null;
  names.forEach((name, index) => {
    if ((best === null || name.length > best.next - at) && text.slice(at, at + name.length).toLowerCase() === name.toLowerCase()) best = { index, next: at + name.length };
  });
  return best;
}

interface Fields {
  year?: number;
  month0?: number;
  day?: number;
  dayOfYear?: number;
  hourOfDay?: number;
  hour?: number;
  pm?: number;
  minute?: number;
  second?: number;
  milli?: number;
  bc?: boolean;
  /** The order fields were set in, for the calendar's choice between competing fields. */
  order: string[];
  twoDigitYear: boolean;
}

/** Java's defaultCenturyStart: a two-digit year lands in the 100 years from 80 years ago. */
function centuryStart(nowMillis: number): { year: number; millis: number } {
  const d = new Date(nowMillis);
  d.setUTCFullYear(d.getUTCFullYear() - 80);
  return { year: d.getUTCFullYear(), millis: d.getTime() };
}

/**
 * A SimpleDateFormat parser for `pattern` (letters as date-format.ts takes them): text → the wall
 * clock it names in milliseconds since 1970-01-01 00:00, which the caller places in a zone; null
 * where Java throws ParseException. `julian`: dates before 1582-10-15 are Julian, as the instant
 * Java computes (UNIX_TIMESTAMP, TO_DATE); false keeps the fields as read, as Java's text does
 * when the same calendar writes them back (DATE_FORMAT of text, CONVERT_TZ: '1500-03-01' stays).
 */
export function simpleDateParser(pattern: string, nowMillis = Date.now(), julian = true): (text: string) => number | null {
  const tokens = tokenizeDatePattern(pattern);
  const century = centuryStart(nowMillis);
  return (text) => {
    const f: Fields = { order: [], twoDigitYear: false };
    let at = 0;
    for (let k = 0; k < tokens.length; k++) {
      const t = tokens[k]!;
      if (t.kind === 'lit') {
        if (text.slice(at, at + t.text.length) !== t.text) return null;
        at += t.text.length;
        continue;
      }
      const start = at;
      while (at < text.length && (text[at] === ' ' || text[at] === '\t')) at++;
      if (at >= text.length) return null;
      const numeric = t.letter === 'M' ? t.width <= 2 : !'aEG'.includes(t.letter);
      if (!numeric) {
        // Names are matched where the field starts: blanks before a name fail the parse, as in Java.
        const names = t.letter === 'M' ? [...MONTHS, ...MONTHS.map((m) => m.slice(0, 3))] : t.letter === 'E' ? [...DAYS, ...DAYS.map((d) => d.slice(0, 3))] : t.letter === 'a' ? ['AM', 'PM'] : ['BC', 'AD'];
        const hit = matchName(text, start, names);
        if (hit === null) return null;
        if (t.letter === 'M') set(f, 'month0', hit.index % 12);
        else if (t.letter === 'a') set(f, 'pm', hit.index);
        else if (t.letter === 'G') set(f, 'bc', hit.index === 0);
        at = hit.next;
        continue;
      }
      // Before another number field the width is obeyed, counted from where the field began
      // (blanks included), so 'yyyyMMdd' splits '20240229'.
      const end = isNumericField(tokens[k + 1]) ? start + t.width : text.length;
      if (end > text.length) return null;
      const n = readNumber(text, at, end);
      if (n === null) return null;
      let v = n.value;
      switch (t.letter) {
        case 'y':
          if (t.width <= 2 && n.next - at === 2 && /^\d\d$/.test(text.slice(at, n.next))) {
            const ambiguous = century.year % 100;
            f.twoDigitYear = v === ambiguous;
            v += Math.floor(century.year / 100) * 100 + (v < ambiguous ? 100 : 0);
          }
          set(f, 'year', v);
          break;
        case 'M': set(f, 'month0', v - 1); break;
        case 'd': set(f, 'day', v); break;
        case 'D': set(f, 'dayOfYear', v); break;
        case 'H': set(f, 'hourOfDay', v); break;
        case 'k': set(f, 'hourOfDay', v === 24 ? 0 : v); break;
        case 'h': set(f, 'hour', v === 12 ? 0 : v); break;
        case 'K': set(f, 'hour', v); break;
        case 'm': set(f, 'minute', v); break;
        case 's': set(f, 'second', v); break;
        case 'S': set(f, 'milli', v); break;
        default: break; // 'u', the day number of the week: read, then ignored as E is.
      }
      at = n.next;
    }
    let wall = resolve(f, 0, julian);
    // The year equal to the ambiguous two digits is the later century if the earlier one falls
    // before the century start (SimpleDateFormat.parse's ambiguousYear).
    if (f.twoDigitYear && wall < century.millis) wall = resolve(f, 100, julian);
    return wall;
  };
}

function set(f: Fields, field: Exclude<keyof Fields, 'order' | 'twoDigitYear'>, v: number | boolean): void {
  (f as unknown as Record<string, unknown>)[field] = v;
  f.order = f.order.filter((x) => x !== field);
  f.order.push(field);
}

/** The calendar's reading of the fields (Calendar.selectFields, lenient), in wall milliseconds. */
function resolve(f: Fields, addYears: number, julian: boolean): number {
  let year = (f.year ?? 1970) + addYears;
  if (f.bc === true) year = 1 - year;
  const last = (a: string, b: string) => f.order.indexOf(a) > f.order.indexOf(b);
  const daysOf = julian ? hybridDays : prolepticDays;
  const days = f.dayOfYear !== undefined && (f.day === undefined || last('dayOfYear', 'day')) && (f.month0 === undefined || last('dayOfYear', 'month0'))
    ? daysOf(year, 0, f.dayOfYear)
    : daysOf(year, f.month0 ?? 0, f.day ?? 1);
  // HOUR_OF_DAY unless HOUR and AM_PM were both set after it; HOUR alone counts from midnight.
  const hour12 = f.hour !== undefined && (f.hourOfDay === undefined || (f.pm !== undefined && last('hour', 'hourOfDay') && last('pm', 'hourOfDay')));
  const hourOfDay = hour12 ? f.hour! + 12 * (f.pm ?? 0) : (f.hourOfDay ?? 0);
  return days * MILLIS_PER_DAY + ((hourOfDay * 60 + (f.minute ?? 0)) * 60 + (f.second ?? 0)) * 1000 + (f.milli ?? 0);
}

/** The Julian calendar date of a day since 1970-01-01. */
function julianCivil(days: number): Civil {
  const c = days + 2440588 + 32082;
  const dd = floorDiv(4 * c + 3, 1461);
  const e = c - floorDiv(1461 * dd, 4);
  const mm = floorDiv(5 * e + 2, 153);
  return { year: dd - 4800 + floorDiv(mm, 10), month: mm + 3 - 12 * floorDiv(mm, 10), day: e - floorDiv(153 * mm + 2, 5) + 1 };
}

/**
 * A wall clock in milliseconds as SimpleDateFormat writes it by 'yyyy-MM-dd HH:mm:ss': a
 * GregorianCalendar date (Julian before 1582-10-15) and a year before 1 as its year of era (the
 * astronomical year -5 is 6 BC, written 0006).
 */
export function javaWallText(wallMs: number): string {
  const days = floorDiv(wallMs, MILLIS_PER_DAY);
  const { year: y, month: m, day: d } = days >= GREGORIAN_CUTOVER_DAY ? civilFromDays(days) : julianCivil(days);
  const ms = wallMs - days * MILLIS_PER_DAY;
  const p2 = (n: number) => String(n).padStart(2, '0');
  const year = String(y > 0 ? y : 1 - y).padStart(4, '0');
  return `${year}-${p2(m)}-${p2(d)} ${p2(Math.floor(ms / 3_600_000))}:${p2(Math.floor(ms / 60_000) % 60)}:${p2(Math.floor(ms / 1000) % 60)}`;
}

/**
 * Days of a lenient date read back field by field, as Timestamp.toLocalDateTime and
 * Date.toLocalDate do: the numbers stay as written (no Julian shift), only rolled over.
 */
function prolepticDays(year: number, month0: number, day: number): number {
  return daysFromCivil(year + floorDiv(month0, 12), month0 - floorDiv(month0, 12) * 12 + 1, 1) + day - 1;
}

/** Java's Integer.parseInt over part of a text: an optional sign, then digits; NaN where Java throws. */
function javaInt(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) return NaN;
  const n = Number(s);
  return n >= -2147483648 && n <= 2147483647 ? n : NaN;
}

/**
 * java.sql.Timestamp.valueOf: `yyyy-[m]m-[d]d hh:mm:ss[.f…]` after trimming, month 1-12 and day
 * 1-31 checked, every other value rolled over by the lenient Date constructor (Feb 30 is Mar 1,
 * hour 24 the next day). Wall-clock microseconds (nanoseconds past them are dropped), or null.
 */
export function sqlTimestampValueOf(text: string): number | null {
  const s = text.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '');
  const space = s.indexOf(' ');
  if (space < 0) return null;
  const dash1 = s.indexOf('-');
  const dash2 = s.indexOf('-', dash1 + 1);
  const colon1 = s.indexOf(':', space + 1);
  const colon2 = s.indexOf(':', colon1 + 1);
  const period = s.indexOf('.', colon2 + 1);
  if (!(dash1 === 4 && dash2 > 0 && dash2 < space - 1 && dash2 - dash1 > 1 && dash2 - dash1 <= 3 && space - dash2 > 1 && space - dash2 <= 3)) return null;
  const y = javaInt(s.slice(0, dash1));
  const mo = javaInt(s.slice(dash1 + 1, dash2));
  const d = javaInt(s.slice(dash2 + 1, space));
  if (!(mo >= 1 && mo <= 12 && d >= 1 && d <= 31)) return null;
  const len = s.length;
  if (!(colon1 > 0 && colon2 > 0 && colon2 < len - 1)) return null;
  const h = javaInt(s.slice(space + 1, colon1));
  const mi = javaInt(s.slice(colon1 + 1, colon2));
  let sec: number;
  let nanos = 0;
  if (period > 0 && period < len - 1) {
    sec = javaInt(s.slice(colon2 + 1, period));
    const frac = s.slice(period + 1);
    if (frac.length > 9 || !/^\d/.test(frac)) return null;
    nanos = javaInt(frac) * 10 ** (9 - frac.length);
  } else if (period > 0) return null;
  else sec = javaInt(s.slice(colon2 + 1));
  if ([y, h, mi, sec, nanos].some(Number.isNaN)) return null;
  const days = prolepticDays(y, mo - 1, d);
  return (days * MILLIS_PER_DAY + ((h * 60 + mi) * 60 + sec) * 1000) * 1000 + Math.floor(nanos / 1000);
}

/** java.sql.Date.valueOf: `yyyy-[m]m-[d]d` exactly (no blanks), month 1-12, day 1-31 rolled over. Days, or null. */
export function sqlDateValueOf(s: string): number | null {
  const dash1 = s.indexOf('-');
  const dash2 = s.indexOf('-', dash1 + 1);
  const len = s.length;
  if (!(dash1 === 4 && dash2 > 0 && dash2 < len - 1 && dash2 - dash1 > 1 && dash2 - dash1 <= 3 && len - dash2 > 1 && len - dash2 <= 3)) return null;
  const y = javaInt(s.slice(0, dash1));
  const mo = javaInt(s.slice(dash1 + 1, dash2));
  const d = javaInt(s.slice(dash2 + 1));
  if (Number.isNaN(y) || !(mo >= 1 && mo <= 12 && d >= 1 && d <= 31)) return null;
  return prolepticDays(y, mo - 1, d);
}
