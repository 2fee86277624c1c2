// Calendar arithmetic and the date-part shorthands: TIMESTAMPADD, TIMESTAMPDIFF, FLOOR / CEIL(t
// TO unit), YEAR … SECOND, DAYOFWEEK, TO_DATE and CONVERT_TZ. Month arithmetic is Calcite's
// DateTimeUtils (addMonths clamps to the month's last day; subtractMonths counts the months
// addMonths can add without passing the later date), which Flink 1.19 runs. Every value and type
// below was checked against PyFlink 1.19.3.
//
// A TIMESTAMP_LTZ is an instant: its calendar is read, and written back, in the session time zone.

import { MICROS_PER_DAY, microsOfWallClock, parseDateText, parseTimestampText, wallClockOf, SessionZone } from '../time.js';
import { dateRangeReason, timestampRangeReason } from '../../schema/calendar.js';
import { ExpressionError, pos, type Compiled, type Scope } from './expression.js';
import { arity, INTEGER, nullableOf, requireKind, strict, STRING, TEMPORAL, type Impl } from './function-kit.js';
import { invalid, type AstNode } from './parse.js';
import { javaWallText, simpleDateParser } from './java-date-text.js';
import { simple, timestampType, withNullable } from './types.js';
import { TIME_FUNCTIONS, instantMillisOf, javaDateReader, javaOffsetMs } from './time-functions.js';

const MICROS: Record<string, number> = {
  MICROSECOND: 1,
  MILLISECOND: 1000,
  SECOND: 1_000_000,
  MINUTE: 60_000_000,
  HOUR: 3_600_000_000,
  DAY: MICROS_PER_DAY,
  WEEK: 7 * MICROS_PER_DAY,
};
const MONTHS: Record<string, number> = { MONTH: 1, QUARTER: 3, YEAR: 12 };
/** Units of TIMESTAMPADD / TIMESTAMPDIFF: Flink's parser has no MILLISECOND or MICROSECOND there. */
const ADD_UNITS = ['SECOND', 'MINUTE', 'HOUR', 'DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR'];

function unitOf(name: string, c: Compiled | undefined, units: readonly string[], scope: Scope, node: AstNode): string {
  const v = c?.constant ? c.eval(0) : null;
  const unit = typeof v === 'string' && v.startsWith('#') ? v.slice(1) : null;
  if (unit === null || !units.includes(unit)) throw invalid(`${name}: the unit must be one of ${units.join(', ')}${unit === null ? '' : `, found ${unit}`}`, pos(scope, node));
  return unit;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Calcite DateTimeUtils.addMonths on wall-clock µs: the day is clamped to the new month's last. */
export function addMonths(micros: number, months: number): number {
  const w = wallClockOf(micros);
  const total = w.year * 12 + (w.month - 1) + months;
  const year = Math.floor(total / 12);
  const month = total - year * 12 + 1;
  const day = Math.min(w.day, daysInMonth(year, month));
  return microsOfWallClock(year, month, day, w.hour, w.minute, w.second, w.micro);
}

/** Calcite DateTimeUtils.subtractMonths(t0, t1): whole months from t1 to t0 (negative when t0 < t1). */
export function subtractMonths(t0: number, t1: number): number {
  if (t0 < t1) return -subtractMonths(t1, t0);
  const d0 = Math.floor(t0 / MICROS_PER_DAY);
  const d1 = Math.floor(t1 / MICROS_PER_DAY);
  const time0 = t0 - d0 * MICROS_PER_DAY;
  const time1 = t1 - d1 * MICROS_PER_DAY;
  let m = Math.trunc((d0 - d1) / 31);
  for (;;) {
    const d2 = Math.floor(addMonths(d1 * MICROS_PER_DAY, m) / MICROS_PER_DAY);
    if (d2 >= d0) break;
    const d3 = Math.floor(addMonths(d1 * MICROS_PER_DAY, m + 1) / MICROS_PER_DAY);
    if (d3 > d0) break;
    m++;
  }
  if (Math.floor(addMonths(d1 * MICROS_PER_DAY, m) / MICROS_PER_DAY) === d0 && time0 < time1) m--;
  return m;
}

/** TIMESTAMP / TIMESTAMP_LTZ / DATE → wall-clock µs and back, in the session zone. */
function wallCodec(c: Compiled, zone: SessionZone): { toWall: (v: unknown) => number; fromWall: (w: number) => unknown } {
  switch (c.type.kind) {
    case 'timestamp_ltz':
      return { toWall: (v) => zone.toWall(v as number), fromWall: (w) => zone.toInstant(w) };
    case 'date':
      return { toWall: (v) => (v as number) * MICROS_PER_DAY, fromWall: (w) => Math.floor(w / MICROS_PER_DAY) };
    default:
      return { toWall: (v) => v as number, fromWall: (w) => w };
  }
}

function checked(name: string, micros: number): number {
  const why = timestampRangeReason(micros);
  if (why !== null) throw new ExpressionError(`${name}: ${why}`);
  return micros;
}

/**
 * TIMESTAMPADD(unit, n, t): t's type; a DATE stays a DATE for DAY and longer units and becomes
 * TIMESTAMP(6) for shorter ones (PyFlink 1.19.3: TIMESTAMPADD(HOUR, 1, DATE '2024-02-29') is
 * TIMESTAMP(6) 2024-02-29 01:00:00).
 */
const timestampAdd: Impl = (args, scope, node) => {
  arity('TIMESTAMPADD', args, 3, 3, scope, node);
  const unit = unitOf('TIMESTAMPADD', args[0], ADD_UNITS, scope, node);
  requireKind('TIMESTAMPADD', args[1]!, INTEGER, scope, node, 'the count');
  requireKind('TIMESTAMPADD', args[2]!, TEMPORAL, scope, node, 'the time');
  const t = args[2]!;
  const months = MONTHS[unit];
  const step = MICROS[unit]!;
  const subDay = months === undefined && step < MICROS_PER_DAY;
  const nullable = nullableOf(args.slice(1));
  const type = t.type.kind === 'date' && subDay ? timestampType(6, nullable) : t.type.kind === 'null' ? timestampType(3, true) : withNullable(t.type, nullable);
  const { toWall, fromWall } = wallCodec(t, scope.frame.zone);
  const back = type.kind === 'timestamp' && t.type.kind === 'date' ? (w: number) => w : fromWall;
  return strict(type, [args[1]!, t], (n: number | bigint, v: unknown) => {
    const w = toWall(v);
    const moved = months !== undefined ? addMonths(w, Number(n) * months) : w + Number(n) * step;
    return back(checked('TIMESTAMPADD', moved));
  });
};

/** TIMESTAMPDIFF(unit, t1, t2): INT, whole units from t1 to t2, toward zero. */
const timestampDiff: Impl = (args, scope, node) => {
  arity('TIMESTAMPDIFF', args, 3, 3, scope, node);
  const unit = unitOf('TIMESTAMPDIFF', args[0], ADD_UNITS, scope, node);
  requireKind('TIMESTAMPDIFF', args[1]!, TEMPORAL, scope, node, 'the first time');
  requireKind('TIMESTAMPDIFF', args[2]!, TEMPORAL, scope, node, 'the second time');
  const a = wallCodec(args[1]!, scope.frame.zone).toWall;
  const b = wallCodec(args[2]!, scope.frame.zone).toWall;
  const months = MONTHS[unit];
  const step = MICROS[unit]!;
  return strict(simple('int', nullableOf(args.slice(1))), [args[1]!, args[2]!], (x: unknown, y: unknown) => {
    const [t1, t2] = [a(x), b(y)];
    const n = months !== undefined ? Math.trunc(subtractMonths(t2, t1) / months) : Math.trunc((t2 - t1) / step);
    return n | 0;
  });
};

/** FLOOR / CEIL(t TO unit): t's type. WEEK starts on Sunday (Calcite's floor to week). */
export function floorCeilTo(name: 'FLOOR' | 'CEIL', args: Compiled[], scope: Scope, node: AstNode): Compiled {
  const unit = unitOf(name, args[1], Object.keys({ ...MICROS, ...MONTHS }), scope, node);
  requireKind(name, args[0]!, TEMPORAL, scope, node, 'the time');
  const t = args[0]!;
  const { toWall, fromWall } = wallCodec(t, scope.frame.zone);
  const up = name === 'CEIL';
  const floor = (w: number): number => {
    const months = MONTHS[unit];
    if (months !== undefined) {
      const c = wallClockOf(w);
      const month = Math.floor((c.month - 1) / months) * months + 1;
      return microsOfWallClock(c.year, month, 1, 0, 0, 0, 0);
    }
    // Day 0 (1970-01-01) was a Thursday: weeks counted from Sunday 1969-12-28.
    const origin = unit === 'WEEK' ? -4 * MICROS_PER_DAY : 0;
    const step = MICROS[unit]!;
    return Math.floor((w - origin) / step) * step + origin;
  };
  const next = (f: number): number => (MONTHS[unit] !== undefined ? addMonths(f, MONTHS[unit]!) : f + MICROS[unit]!);
  const type = t.type.kind === 'null' ? timestampType(3, true) : t.type;
  return strict(type, [t], (v: unknown) => {
    const w = toWall(v);
    const f = floor(w);
    return fromWall(checked(name, up && f !== w ? next(f) : f));
  });
}

/** YEAR(t) … SECOND(t): EXTRACT by another name, BIGINT. */
function part(unit: string): Impl {
  return (args, scope, node) => {
    arity(unit, args, 1, 1, scope, node);
    return TIME_FUNCTIONS.EXTRACT!([{ type: simple('string', false), constant: true, eval: () => unit }, args[0]!], scope, node);
  };
}

/**
 * TO_DATE(s [, format]): DATE, NULL when the text does not parse. Without a format, a timestamp's
 * text gives its date (PyFlink 1.19.3: TO_DATE('2024-02-29 10:11:12') is 2024-02-29). With one,
 * SimpleDateFormat reads the text leniently, in UTC (DateTimeUtils.parseDate(s, format)): a prefix
 * will do ('2024-01-31 10:00:00' with 'yyyy-MM-dd') and month 13 rolls over. Text it cannot read
 * at all is Long.MIN_VALUE milliseconds there, whose date overflows Java's int arithmetic into a
 * day near year 1,700,000, which no table here can hold: NULL instead (docs/FLINK-DIFFERENCES.md).
 */
const toDate: Impl = (args, scope, node) => {
  arity('TO_DATE', args, 1, 2, scope, node);
  requireKind('TO_DATE', args[0]!, STRING, scope, node);
  if (args.length === 1) {
    return strict(simple('date', true), args, (s: string) => {
      const d = parseDateText(s);
      if (d !== null) return d;
      const w = parseTimestampText(s);
      return w === null ? null : Math.floor(w / MICROS_PER_DAY);
    });
  }
  requireKind('TO_DATE', args[1]!, STRING, scope, node, 'the format');
  const read = javaDateReader('TO_DATE', args[1], scope, node);
  if (read === null) return { type: simple('date', true), constant: true, eval: () => null };
  return strict(simple('date', true), [args[0]!], (s: string) => {
    const ms = read(s);
    if (ms === null) return null;
    const days = Math.floor(ms / 86_400_000);
    if (dateRangeReason(days) !== null) throw new ExpressionError(`TO_DATE('${s.length > 40 ? s.slice(0, 40) + '…' : s}'): ${dateRangeReason(days)}`);
    return days;
  });
};

const zones = new Map<string, SessionZone>();

/** A zone by Java's TimeZone.getTimeZone rules: an unknown name is GMT (PyFlink 1.19.3). */
function zoneNamed(name: string): SessionZone {
  let z = zones.get(name);
  if (z === undefined) {
    const m = /^GMT([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(name);
    let iana = name;
    // Intl has no GMT+08:00; Etc/GMT-8 is the same offset (POSIX signs are inverted), whole hours only.
    if (m !== null) iana = m[3] === undefined || m[3] === '00' ? `Etc/GMT${m[1] === '+' ? '-' : '+'}${Number(m[2])}` : name;
    try {
      z = new SessionZone(iana);
    } catch {
      z = new SessionZone('UTC');
    }
    if (zones.size > 100) zones.clear();
    zones.set(name, z);
  }
  return z;
}

const CONVERT_TZ_FORMAT = 'yyyy-MM-dd HH:mm:ss';

/** CONVERT_TZ(text, from, to): 'yyyy-MM-dd HH:mm:ss' text of the same instant in zone `to`; NULL when the text does not parse. */
const convertTz: Impl = (args, scope, node) => {
  arity('CONVERT_TZ', args, 3, 3, scope, node);
  for (const a of args) requireKind('CONVERT_TZ', a, STRING, scope, node);
  // SimpleDateFormat reads the text leniently ('2024-01-31 10:00:00.5' will do, '2024-02-29'
  // will not: it has no time) in zone `from` and writes it in zone `to`, both by Java's zone
  // rules and GregorianCalendar (DateTimeUtils.convertTz; java-date-text.ts).
  const read = simpleDateParser(CONVERT_TZ_FORMAT);
  return strict(simple('string', true), args, (s: string, from: string, to: string) => {
    const w = read(s);
    if (w === null) return null;
    const instant = instantMillisOf(zoneNamed(from), w);
    return javaWallText(instant + javaOffsetMs(zoneNamed(to), instant));
  });
};

export const CALENDAR_FUNCTIONS: Record<string, Impl> = {
  TIMESTAMPADD: timestampAdd,
  TIMESTAMPDIFF: timestampDiff,
  YEAR: part('YEAR'),
  QUARTER: part('QUARTER'),
  MONTH: part('MONTH'),
  WEEK: part('WEEK'),
  DAYOFYEAR: part('DOY'),
  DAYOFMONTH: part('DAY'),
  DAYOFWEEK: part('DOW'),
  HOUR: part('HOUR'),
  MINUTE: part('MINUTE'),
  SECOND: part('SECOND'),
  TO_DATE: toDate,
  CONVERT_TZ: convertTz,
};
