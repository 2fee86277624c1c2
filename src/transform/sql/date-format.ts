// Java date-time patterns (`yyyy-MM-dd HH:mm:ss`, as Flink's DATE_FORMAT, FROM_UNIXTIME,
// TO_TIMESTAMP and UNIX_TIMESTAMP take them) compiled once into a formatter and a parser over
// wall-clock microseconds. Supported letters: y u M d D H h K k m s S a E G, quoted literals ('T',
// ''). Flink formats with java.time's DateTimeFormatter, so `u` is the year (not SimpleDateFormat's
// day of the week), as PyFlink 1.19.3 prints it; week fields (w W F, locale-dependent) and zone
// fields (z Z X, which fail a Flink job on a TIMESTAMP) are refused.
// Letters outside that set are refused when the pattern is compiled, not silently printed.

import { microsOfWallClock, pad, parsedWallMicros, validDate, wallClockOf } from '../time.js';

export type DateToken = { kind: 'lit'; text: string } | { kind: 'field'; letter: string; width: number };
type Token = DateToken;

const SUPPORTED = new Set(['y', 'u', 'M', 'd', 'D', 'H', 'h', 'K', 'k', 'm', 's', 'S', 'a', 'E', 'G']);
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

export class DatePatternError extends Error {}

/** A pattern's literals and fields; a letter outside the supported set is a DatePatternError. */
export function tokenizeDatePattern(pattern: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === "'") {
      const end = pattern.indexOf("'", i + 1);
      if (end < 0) throw new DatePatternError(`unterminated quote in date pattern '${pattern}'`);
      out.push({ kind: 'lit', text: end === i + 1 ? "'" : pattern.slice(i + 1, end) });
      i = end + 1;
    } else if (/[A-Za-z]/.test(c)) {
      let j = i;
      while (pattern[j] === c) j++;
      if (!SUPPORTED.has(c)) throw new DatePatternError(`date pattern letter '${c}' is not supported (supported: ${[...SUPPORTED].join(' ')})`);
      out.push({ kind: 'field', letter: c, width: j - i });
      i = j;
    } else {
      out.push({ kind: 'lit', text: c });
      i++;
    }
  }
  return out;
}

export interface DatePattern {
  format(wallMicros: number): string;
  /** Wall-clock micros, or null when the text does not match. */
  parse(text: string): number | null;
}

const cache = new Map<string, DatePattern>();

export function compileDatePattern(pattern: string): DatePattern {
  const hit = cache.get(pattern);
  if (hit !== undefined) return hit;
  const tokens = tokenizeDatePattern(pattern);
  const compiled: DatePattern = { format: (w) => formatWith(tokens, w), parse: parserFor(tokens) };
  if (cache.size > 256) cache.clear();
  cache.set(pattern, compiled);
  return compiled;
}

function formatWith(tokens: Token[], micros: number): string {
  const w = wallClockOf(micros);
  let out = '';
  for (const t of tokens) {
    if (t.kind === 'lit') {
      out += t.text;
      continue;
    }
    const n = t.width;
    switch (t.letter) {
      case 'y':
      case 'u':
        out += n === 2 ? pad(w.year % 100, 2) : pad(w.year, n);
        break;
      case 'K':
        out += pad(w.hour % 12, n);
        break;
      case 'k':
        out += pad(w.hour === 0 ? 24 : w.hour, n);
        break;
      case 'G':
        out += w.year > 0 ? 'AD' : 'BC';
        break;
      case 'M':
        out += n >= 4 ? MONTHS[w.month - 1] : n === 3 ? MONTHS[w.month - 1]!.slice(0, 3) : pad(w.month, n);
        break;
      case 'd':
        out += pad(w.day, n);
        break;
      case 'D':
        out += pad(w.epochDay - Math.floor(microsOfWallClock(w.year, 1, 1, 0, 0, 0, 0) / 86_400_000_000) + 1, n);
        break;
      case 'H':
        out += pad(w.hour, n);
        break;
      case 'h':
        out += pad(w.hour % 12 === 0 ? 12 : w.hour % 12, n);
        break;
      case 'm':
        out += pad(w.minute, n);
        break;
      case 's':
        out += pad(w.second, n);
        break;
      case 'S':
        out += (pad(w.micro, 6) + '000').slice(0, n);
        break;
      case 'a':
        out += w.hour < 12 ? 'AM' : 'PM';
        break;
      case 'E': {
        const name = DAYS[(((w.epochDay + 3) % 7) + 7) % 7]!;
        out += n >= 4 ? name : name.slice(0, 3);
        break;
      }
    }
  }
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function parserFor(tokens: Token[]): (text: string) => number | null {
  let re = '^\\s*';
  const fields: Token[] = [];
  for (const t of tokens) {
    if (t.kind === 'lit') re += escapeRe(t.text);
    else if (t.letter === 'a') {
      re += '(AM|PM|am|pm)';
      fields.push(t);
    } else if (t.letter === 'G') {
      re += '(AD|BC)';
      fields.push(t);
    } else if (t.letter === 'E') {
      re += '([A-Za-z]+)';
      fields.push(t);
    } else if (t.letter === 'M' && t.width >= 3) {
      re += '([A-Za-z]+)';
      fields.push(t);
    } else {
      // A width of 2 or more is exact, so adjacent numeric fields (`yyyyMMdd`) split as Java splits them.
      if (t.letter === 'S') re += `(\\d{1,${t.width}})`;
      else if (t.width === 1) re += t.letter === 'y' ? '(-?\\d{1,9})' : '(\\d{1,2})';
      else re += `(\\d{${t.width}})`;
      fields.push(t);
    }
  }
  const matcher = new RegExp(re + '\\s*$');
  return (text) => {
    const m = matcher.exec(text);
    if (m === null) return null;
    let y = 1970, mo = 1, d = 1, h = 0, mi = 0, s = 0, micro = 0;
    let pm: boolean | null = null;
    for (let k = 0; k < fields.length; k++) {
      const f = fields[k] as { letter: string; width: number };
      const v = m[k + 1]!;
      switch (f.letter) {
        case 'y':
        case 'u': y = f.width === 2 ? 2000 + Number(v) : Number(v); break;
        case 'K': h = Number(v); break;
        case 'k': h = Number(v) % 24; break;
        case 'M': {
          if (/^\d+$/.test(v)) mo = Number(v);
          else {
            const idx = MONTHS.findIndex((name) => name.toLowerCase().startsWith(v.toLowerCase()) && v.length >= 3);
            if (idx < 0) return null;
            mo = idx + 1;
          }
          break;
        }
        case 'd': d = Number(v); break;
        case 'H': h = Number(v); break;
        case 'h': h = Number(v) % 12; break;
        case 'm': mi = Number(v); break;
        case 's': s = Number(v); break;
        case 'S': micro = Number((v + '000000').slice(0, 6)); break;
        case 'a': pm = v.toUpperCase() === 'PM'; break;
        default: break;
      }
    }
    if (pm === true) h += 12;
    if (!validDate(y, mo, d) || h > 23 || mi > 59 || s > 59) return null;
    return parsedWallMicros(y, mo, d, h, mi, s, micro);
  };
}
