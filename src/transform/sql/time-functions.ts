// Date and time functions. TIMESTAMP_LTZ values are instants; where a function needs a wall
// clock (formatting, EXTRACT) it reads it in the session time zone, as Flink does.

import { coerced } from './decimal-ops.js';
import { compileDatePattern, DatePatternError, type DatePattern } from './date-format.js';
import { simpleDateParser, sqlDateValueOf, sqlTimestampValueOf } from './java-date-text.js';
import { MICROS_PER_DAY, daysFromCivil, parseTimestampText, truncateToPrecision, wallClockOf, type SessionZone } from '../time.js';
import { ExpressionError, constant, pos, type Compiled, type Scope } from './expression.js';
import { timestampRangeReason } from '../../schema/calendar.js';
import { arity, constantArg, requireKind, strict, STRING, TEMPORAL, type Impl } from './function-kit.js';
import { invalid, unsupported, type AstNode } from './parse.js';
import { ltzType, simple, timestampType, typeName, withNullable } from './types.js';

/** TIMESTAMP / TIMESTAMP_LTZ / DATE / STRING argument → wall-clock micros in the session zone. */
function wallOf(name: string, c: Compiled, scope: Scope, node: AstNode): (v: unknown) => number | null {
  const zone = scope.frame.zone;
  switch (c.type.kind) {
    case 'timestamp':
      return (v) => v as number;
    case 'timestamp_ltz':
      return (v) => zone.toWall(v as number);
    case 'date':
      return (v) => (v as number) * MICROS_PER_DAY;
    case 'string':
      return (v) => parseTimestampText(v as string);
    case 'null':
      return () => null;
    default:
      throw invalid(`${name}: expected a TIMESTAMP, DATE or STRING, found ${typeName(c.type)}`, pos(scope, node));
  }
}

function datePattern(name: string, c: Compiled | undefined, scope: Scope, node: AstNode, fallback: string): DatePattern | null {
  const text = c === undefined ? fallback : (constantArg(name, c, scope, node, 'the format') as string | null);
  if (text === null) return null;
  try {
    return compileDatePattern(text);
  } catch (e) {
    if (e instanceof DatePatternError) throw invalid(`${name}: ${e.message}`, pos(scope, node));
    throw e;
  }
}

const DEFAULT_FORMAT = 'yyyy-MM-dd HH:mm:ss';

/** A SimpleDateFormat reader of the format argument (java-date-text.ts), or null for a NULL format. */
export function javaDateReader(name: string, c: Compiled | undefined, scope: Scope, node: AstNode, fallback = DEFAULT_FORMAT): ((text: string) => number | null) | null {
  const text = c === undefined ? fallback : (constantArg(name, c, scope, node, 'the format') as string | null);
  if (text === null) return null;
  try {
    return simpleDateParser(text);
  } catch (e) {
    if (e instanceof DatePatternError) throw invalid(`${name}: ${e.message}`, pos(scope, node));
    throw e;
  }
}

/** Far enough inside Date's range (±8.64e15 ms) for Intl to place it in a zone. */
const ZONED_LIMIT_MS = 8.6e15;
const HOUR_MS = 3_600_000;
/** 1900-01-01T00:00Z: java.util.TimeZone keeps no zone history before it. */
const UTC_1900_MS = -2_208_988_800_000;

/**
 * A zone's offset (ms) at an instant as java.util.TimeZone gives it, which Java's Calendar and
 * SimpleDateFormat use: before 1900 the 1900 offset (no local mean time: New York is -05:00 in
 * 1500, not -04:56:02).
 */
export function javaOffsetMs(zone: SessionZone, instantMs: number): number {
  if (zone.isUtc) return 0;
  return zone.offsetAt(Math.max(Math.min(instantMs, ZONED_LIMIT_MS), UTC_1900_MS) * 1000) / 1000;
}

/**
 * The instant (epoch ms) of a wall clock in milliseconds, as Java's Calendar places it in
 * `zone`: by the offset in force after the last transition whose new wall clock it has reached.
 * So a wall clock in a spring-forward gap takes the offset before it (02:30 in New York on
 * 2024-03-10 is 07:30Z, 03:30 EDT) and one in a fall-back overlap the offset after it (01:30 on
 * 2024-11-03 is 06:30Z, EST). A transition is looked for within a day of the wall clock, to the
 * hour, as the zone's offsets are cached by the hour.
 */
export function instantMillisOf(zone: SessionZone, wallMs: number): number {
  if (zone.isUtc) return wallMs;
  const before = javaOffsetMs(zone, wallMs - 86_400_000);
  const after = javaOffsetMs(zone, wallMs + 86_400_000);
  if (before === after) return wallMs - before;
  let lo = wallMs - 86_400_000;
  let hi = wallMs + 86_400_000;
  while (hi - lo > HOUR_MS) {
    const mid = Math.floor((lo + hi) / 2 / HOUR_MS) * HOUR_MS;
    if (mid <= lo || mid >= hi) break;
    if (javaOffsetMs(zone, mid) === before) lo = mid;
    else hi = mid;
  }
  const transition = Math.floor(hi / HOUR_MS) * HOUR_MS;
  return wallMs >= transition + after ? wallMs - after : wallMs - before;
}

/** Java's Long.MIN_VALUE, which UNIX_TIMESTAMP returns for text it cannot parse. */
const LONG_MIN = -9223372036854775808n;

/** DateTimeUtils.parseTimestampData's fallback: the trimmed text as Timestamp.valueOf or Date.valueOf reads it. */
function valueOfFallback(text: string): number | null {
  const t = text.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '');
  if (t.includes(' ')) return sqlTimestampValueOf(t);
  const d = sqlDateValueOf(t);
  return d === null ? null : d * MICROS_PER_DAY;
}

/** ISO-8601 week number (Monday first; week 1 holds January 4th), as Flink's EXTRACT(WEEK …). */
function isoWeek(epochDay: number): number {
  const dow = (((epochDay + 3) % 7) + 7) % 7; // 0 = Monday
  const thursday = epochDay - dow + 3;
  const year = wallClockOf(thursday * MICROS_PER_DAY).year;
  return Math.floor((thursday - daysFromCivil(year, 1, 1)) / 7) + 1;
}

const EXTRACT: Record<string, (micros: number) => number> = {
  YEAR: (m) => wallClockOf(m).year,
  QUARTER: (m) => Math.floor((wallClockOf(m).month - 1) / 3) + 1,
  MONTH: (m) => wallClockOf(m).month,
  WEEK: (m) => isoWeek(Math.floor(m / MICROS_PER_DAY)),
  DAY: (m) => wallClockOf(m).day,
  DOY: (m) => { const w = wallClockOf(m); return w.epochDay - daysFromCivil(w.year, 1, 1) + 1; },
  // Flink (Calcite): Sunday = 1 … Saturday = 7.
  DOW: (m) => ((((Math.floor(m / MICROS_PER_DAY) + 4) % 7) + 7) % 7) + 1,
  HOUR: (m) => wallClockOf(m).hour,
  MINUTE: (m) => wallClockOf(m).minute,
  SECOND: (m) => wallClockOf(m).second,
  MILLISECOND: (m) => { const w = wallClockOf(m); return w.second * 1000 + Math.floor(w.micro / 1000); },
  MICROSECOND: (m) => { const w = wallClockOf(m); return w.second * 1_000_000 + w.micro; },
};

export const TIME_FUNCTIONS: Record<string, Impl> = {
  TO_TIMESTAMP_LTZ: (args, scope, node) => {
    arity('TO_TIMESTAMP_LTZ', args, 2, 2, scope, node);
    requireKind('TO_TIMESTAMP_LTZ', args[0]!, ['int', 'bigint', 'decimal', 'double', 'float'], scope, node);
    const precision = constantArg('TO_TIMESTAMP_LTZ', args[1]!, scope, node, 'the precision');
    // Flink 1.19 plans other precisions (6, 9) but fails the job on its first row ("The precision
    // value '6' for function TO_TIMESTAMP_LTZ(numeric, precision) is unsupported", PyFlink 1.19.3).
    if (precision !== 0 && precision !== 3) throw invalid(`TO_TIMESTAMP_LTZ: precision must be 0 (seconds) or 3 (milliseconds), found ${String(precision)}; Flink 1.19 accepts other precisions in SQL but fails the job on them at run time`, pos(scope, node));
    const scale = precision === 0 ? 1_000_000 : 1000;
    // Flink builds any instant from any number; past year 9999 it would not reach the table
    // intact, so the record is refused here with the number that caused it. A DECIMAL (an
    // unscaled bigint) takes part as its nearest double, as a DOUBLE would.
    return strict(withNullable(ltzType(3), args[0]!.type.nullable), [coerced(args[0]!, simple('double'), false)], (n: number | bigint) => {
      const micros = Math.round(Number(n) * scale);
      const why = timestampRangeReason(micros);
      if (why !== null) throw new ExpressionError(`TO_TIMESTAMP_LTZ(${String(n)}, ${String(precision)}): ${why}`);
      return truncateToPrecision(micros, 3);
    });
  },
  TO_TIMESTAMP: (args, scope, node) => {
    arity('TO_TIMESTAMP', args, 1, 2, scope, node);
    requireKind('TO_TIMESTAMP', args[0]!, STRING, scope, node);
    const fmt = datePattern('TO_TIMESTAMP', args[1], scope, node, DEFAULT_FORMAT);
    if (fmt === null) return constant(timestampType(3), null);
    // Flink returns NULL for text that does not match; the default format also takes fractions.
    // With a format, text the format does not read is read again as java.sql.Timestamp.valueOf
    // (text with a blank) or Date.valueOf would (DateTimeUtils.parseTimestampData's fallback):
    // TO_TIMESTAMP('2024-02-29 12:34:56', 'yyyyMMdd') is 2024-02-29 12:34:56 in Flink 1.19.
    const parse = args[1] === undefined ? (s: string) => parseTimestampText(s) : (s: string) => fmt.parse(s) ?? valueOfFallback(s);
    return strict(timestampType(3, true), [args[0]!], (s: string) => {
      const w = parse(s);
      return w === null || timestampRangeReason(w) !== null ? null : truncateToPrecision(w, 3);
    });
  },
  FROM_UNIXTIME: (args, scope, node) => {
    arity('FROM_UNIXTIME', args, 1, 2, scope, node);
    requireKind('FROM_UNIXTIME', args[0]!, ['int', 'bigint', 'decimal', 'double', 'float'], scope, node);
    const fmt = datePattern('FROM_UNIXTIME', args[1], scope, node, DEFAULT_FORMAT);
    if (fmt === null) return constant(simple('string'), null);
    const zone = scope.frame.zone;
    return strict(withNullable(simple('string'), args[0]!.type.nullable), [coerced(args[0]!, simple('double'), false)], (sec: number | bigint) => {
      // Checked before the zone sees it: Intl cannot place an instant past year 275760.
      const micros = Math.trunc(Number(sec)) * 1_000_000;
      const why = timestampRangeReason(micros);
      if (why !== null) throw new ExpressionError(`FROM_UNIXTIME(${String(sec)}): ${why}`);
      return fmt.format(zone.toWall(micros));
    });
  },
  UNIX_TIMESTAMP: (args, scope, node) => {
    arity('UNIX_TIMESTAMP', args, 0, 2, scope, node);
    const frame = scope.frame;
    if (args.length === 0) return { type: simple('bigint', false), constant: false, eval: () => Math.floor(frame.nowMicros / 1_000_000) };
    requireKind('UNIX_TIMESTAMP', args[0]!, STRING, scope, node);
    const read = javaDateReader('UNIX_TIMESTAMP', args[1], scope, node);
    if (read === null) return constant(simple('bigint'), null);
    const zone = frame.zone;
    // SimpleDateFormat reads the text leniently (java-date-text.ts); text it cannot read at all
    // is Long.MIN_VALUE, as Flink returns it, and the seconds are the milliseconds divided toward
    // zero, as Java's long division does.
    return strict(simple('bigint', true), [args[0]!], (s: string) => {
      const w = read(s);
      if (w === null) return LONG_MIN;
      const seconds = Math.trunc(instantMillisOf(zone, w) / 1000);
      return Number.isSafeInteger(seconds) ? seconds : BigInt(seconds);
    });
  },
  CURRENT_TIMESTAMP: (args, scope, node) => {
    arity('CURRENT_TIMESTAMP', args, 0, 0, scope, node);
    const frame = scope.frame;
    return { type: ltzType(3, false), constant: false, eval: () => truncateToPrecision(frame.nowMicros, 3) };
  },
  NOW: (args, scope, node) => TIME_FUNCTIONS.CURRENT_TIMESTAMP!(args, scope, node),
  LOCALTIMESTAMP: (args, scope, node) => {
    arity('LOCALTIMESTAMP', args, 0, 0, scope, node);
    const frame = scope.frame;
    return { type: timestampType(3, false), constant: false, eval: () => truncateToPrecision(frame.zone.toWall(frame.nowMicros), 3) };
  },
  CURRENT_DATE: (args, scope, node) => {
    arity('CURRENT_DATE', args, 0, 0, scope, node);
    const frame = scope.frame;
    return { type: simple('date', false), constant: false, eval: () => Math.floor(frame.zone.toWall(frame.nowMicros) / MICROS_PER_DAY) };
  },
  DATE_FORMAT: (args, scope, node) => {
    arity('DATE_FORMAT', args, 2, 2, scope, node);
    requireKind('DATE_FORMAT', args[0]!, [...TEMPORAL, 'string'], scope, node);
    const fmt = datePattern('DATE_FORMAT', args[1], scope, node, DEFAULT_FORMAT);
    if (fmt === null) return constant(simple('string'), null);
    // Text is read by SimpleDateFormat, leniently ('2024-13-01 00:00:00' is 2025-01-01), and
    // written back, both in UTC whatever the session zone (DateTimeUtils.formatTimestampString's
    // two-argument form), so the wall clock read is the one written. Hazards: Java writes with
    // SimpleDateFormat, which differs from the formatter here in a few letters ('u' is the day of
    // the week there; 'S' and 'SS' are milliseconds, unpadded), and writes a year before 1 as
    // its year of era (-5 as 0006), where a year outside 0000-9999 is NULL here.
    const read = args[0]!.type.kind === 'string' ? simpleDateParser(DEFAULT_FORMAT, Date.now(), false) : null;
    const wall = read === null ? wallOf('DATE_FORMAT', args[0]!, scope, node) : (v: unknown) => {
      const w = read(v as string);
      return w === null || timestampRangeReason(w * 1000) !== null ? null : w * 1000;
    };
    return strict(simple('string', true), [args[0]!], (v: unknown) => {
      const w = wall(v);
      return w === null ? null : fmt.format(w);
    });
  },
  EXTRACT: (args, scope, node) => {
    const unit = String(args[0]!.eval(0)).toUpperCase();
    const f = EXTRACT[unit];
    if (f === undefined) throw unsupported(`EXTRACT(${unit} FROM …)`, pos(scope, node), `units are ${Object.keys(EXTRACT).join(', ')}`);
    requireKind('EXTRACT', args[1]!, TEMPORAL, scope, node);
    if (args[1]!.type.kind === 'date' && ['HOUR', 'MINUTE', 'SECOND', 'MILLISECOND', 'MICROSECOND'].includes(unit)) {
      throw invalid(`EXTRACT(${unit} FROM …) needs a TIMESTAMP, found DATE`, pos(scope, node));
    }
    const wall = wallOf('EXTRACT', args[1]!, scope, node);
    return strict(withNullable(simple('bigint'), args[1]!.type.nullable), [args[1]!], (v: unknown) => f(wall(v)!));
  },
};
