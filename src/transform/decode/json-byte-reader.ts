// A JSON record's UTF-8 bytes → one row of the decoder's columns, walked byte by byte against the
// source schema, with no JSON.parse object per record. It is the decoder's fast path, and it
// only ever says "stored" or "not mine": any record it cannot read exactly as the exact path
// (json-decoder.ts) would is handed back untouched in meaning, and the exact path decides it —
// its value, or its dead letter and that letter's wording. So this file holds no error
// messages, and a doubt is always a fallback, never a guess.
//
// What it reads: an object whose declared members are scalars (strings, numbers, true, false,
// null) or, for ARRAY / MAP / ROW fields without a DECIMAL inside, containers (each parsed on its
// own, which is still one small JSON.parse instead of the whole record's). Every other byte of the
// record is still checked to be JSON, as JSON.parse would check it, so a record with a broken
// member that no field reads is still the exact path's dead letter.
//
// What it hands back (the exact path then decides):
// - a declared member that appears twice (JSON.parse keeps the last; that path knows the rules);
// - an escaped key (it may spell a declared name), and an escape inside a container a field reads
//   (it may hide a lone surrogate, which the exact path refuses); an escaped string of a declared
//   scalar field is decoded by JSON.parse of that string alone, and handed back when it holds a
//   lone surrogate;
// - a number beyond an INT or BIGINT field's type (or, as a BIGINT with a fraction or an
//   exponent, beyond 2^53; as an integer literal, beyond 19 digits), and a number or literal a
//   non-numeric field refuses;
// - a container with whitespace in it in a STRING field (the exact path rewrites that
//   whitespace), and a container in a field of any other scalar type;
// - a null or missing member of a NOT NULL field;
// - bytes that are not UTF-8 (checked once per record, only when a byte ≥ 0x80 was seen), and
//   anything that is not one JSON object with nothing but whitespace around it.
//
// Hazard: a fallen-back record may leave some of its row's cells written. The caller must not
// count the row; the exact path then writes every cell of it, or dead-letters the record and the
// next row overwrites them (or the columns are cut to the row count).

import { isUtf8 } from 'node:buffer';
import type { SqlType } from '../../schema/sql-types.js';
import { holdsDecimal } from '../decimal.js';
import { converterFor, nonNullConverter, type Converter } from './value-convert.js';
import { SHORT_STRING_BYTES, ShortStringCache } from './short-string-cache.js';
import type { SourceField } from './json-decoder.js';

/** Reads one record into one row; false means the exact path must decide it. */
export interface JsonByteReader {
  read(buf: Buffer, start: number, end: number, columns: unknown[][], row: number): boolean;
}

/** The environment switch that turns the fast path off: `STREAMBERG_JSON_BYTE_READER=off`. */
export const BYTE_READER_ENV = 'STREAMBERG_JSON_BYTE_READER';

/** Whether the environment leaves the fast path on (anything but off / 0 / false). */
export function byteReaderEnabledByEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env[BYTE_READER_ENV]?.trim().toLowerCase();
  return v === undefined || !(v === 'off' || v === '0' || v === 'false');
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
/** Containers nested deeper than this inside one member are handed back (and JSON.parse's recursion spared). */
const MAX_DEPTH = 512;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** With the u flag, a surrogate half that is not part of a pair. */
const LONE_SURROGATE = /\p{Cs}/u;

// What the last scan saw. Module state, not fields: the reader runs per record and field, and
// these are read right after the scan that set them, on the same thread, with nothing between.
let sawHigh = false;
let sawEscape = false;
let numberIsInt = false;
let numberDigits = 0;
let numberValue = 0;

/** Bytes all below 0x80 as text: Latin-1 is one byte per character, the cheapest decoding Node has. */
function latin1(buf: Buffer, from: number, to: number): string {
  return buf.toString('latin1', from, to);
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(buf: Buffer, i: number, end: number): number {
  while (i < end && isSpace(buf[i]!)) i++;
  return i;
}

/**
 * The string opening at `i` (a quote): returns one past its closing quote, or -1. Sets sawEscape
 * when it holds an escape (checked for JSON's grammar, not decoded) and sawHigh on a byte ≥ 0x80.
 */
function scanString(buf: Buffer, i: number, end: number): number {
  i++;
  while (i < end) {
    const c = buf[i]!;
    if (c === QUOTE) return i + 1;
    if (c < 0x20) return -1; // JSON.parse refuses raw control characters in strings
    if (c === BACKSLASH) {
      sawEscape = true;
      if (i + 1 >= end) return -1;
      const e = buf[i + 1]!;
      if (e === 0x75) {
        // \uXXXX: four hex digits
        if (i + 5 >= end) return -1;
        for (let h = i + 2; h < i + 6; h++) {
          const x = buf[h]! | 0x20;
          if (!((x >= 0x30 && x <= 0x39) || (x >= 0x61 && x <= 0x66))) return -1;
        }
        i += 6;
        continue;
      }
      if (e !== QUOTE && e !== BACKSLASH && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) return -1;
      i += 2;
      continue;
    }
    if (c >= 0x80) sawHigh = true;
    i++;
  }
  return -1;
}

function digitsEnd(buf: Buffer, i: number, end: number): number {
  while (i < end) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x39) break;
    i++;
  }
  return i;
}

/**
 * The number starting at `i` by JSON's grammar: returns where it ends, or -1. Sets numberIsInt
 * (no fraction, no exponent), numberDigits (integer digits) and numberValue (exact when an
 * integer of at most 15 digits; otherwise not to be used).
 */
function scanNumber(buf: Buffer, i: number, end: number): number {
  let neg = false;
  if (buf[i] === MINUS) {
    neg = true;
    i++;
  }
  if (i >= end) return -1;
  let c = buf[i]!;
  let v = 0;
  let digits = 0;
  if (c === 0x30) {
    // A leading zero stands alone; a digit after it is left for the caller to refuse.
    i++;
    digits = 1;
  } else if (c >= 0x31 && c <= 0x39) {
    while (i < end && (c = buf[i]!) >= 0x30 && c <= 0x39) {
      v = v * 10 + (c - 0x30);
      digits++;
      i++;
    }
  } else return -1;
  let isInt = true;
  if (i < end && buf[i] === 0x2e) {
    const from = i + 1;
    i = digitsEnd(buf, from, end);
    if (i === from) return -1;
    isInt = false;
  }
  if (i < end && (buf[i]! | 0x20) === 0x65) {
    i++;
    if (i < end && (buf[i] === 0x2b || buf[i] === MINUS)) i++;
    const from = i;
    i = digitsEnd(buf, from, end);
    if (i === from) return -1;
    isInt = false;
  }
  numberIsInt = isInt;
  numberDigits = digits;
  numberValue = neg ? -v : v; // "-0" is -0, as JSON.parse makes it
  return i;
}

/** A number with a fraction or an exponent, truncated as Jackson's asInt / asLong and the exact path do (-0.5 → -0). */
function truncated(buf: Buffer, from: number, to: number): number {
  return Math.trunc(Number(latin1(buf, from, to)));
}

/** `true`, `false` or `null` at `i`: returns its end, or -1. */
function scanLiteral(buf: Buffer, i: number, end: number, word: string): number {
  if (i + word.length > end) return -1;
  for (let k = 0; k < word.length; k++) if (buf[i + k] !== word.charCodeAt(k)) return -1;
  return i + word.length;
}

/** Any JSON value at `i`, checked and skipped without recursion: returns its end, or -1. */
function skipValue(buf: Buffer, i: number, end: number, stack: Uint8Array): number {
  let depth = 0;
  for (;;) {
    i = skipSpace(buf, i, end);
    if (i >= end) return -1;
    const c = buf[i]!;
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      const close = c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY;
      const inner = skipSpace(buf, i + 1, end);
      if (inner < end && buf[inner] === close) {
        i = inner + 1;
      } else {
        if (depth >= MAX_DEPTH) return -1;
        stack[depth++] = c;
        i = c === OPEN_OBJECT ? skipKey(buf, inner, end) : inner;
        if (i < 0) return -1;
        continue; // a member's or element's value comes next
      }
    } else if (c === QUOTE) i = scanString(buf, i, end);
    else if (c === MINUS || (c >= 0x30 && c <= 0x39)) i = scanNumber(buf, i, end);
    else if (c === 0x74) i = scanLiteral(buf, i, end, 'true');
    else if (c === 0x66) i = scanLiteral(buf, i, end, 'false');
    else if (c === 0x6e) i = scanLiteral(buf, i, end, 'null');
    else return -1;
    if (i < 0) return -1;
    // A value is done: close whatever it completes, or move to the next member or element.
    for (;;) {
      if (depth === 0) return i;
      i = skipSpace(buf, i, end);
      if (i >= end) return -1;
      const d = buf[i]!;
      const open = stack[depth - 1]!;
      if (d === COMMA) {
        i = open === OPEN_OBJECT ? skipKey(buf, skipSpace(buf, i + 1, end), end) : i + 1;
        if (i < 0) return -1;
        break;
      }
      if ((d === CLOSE_OBJECT && open === OPEN_OBJECT) || (d === CLOSE_ARRAY && open === OPEN_ARRAY)) {
        depth--;
        i++;
        continue;
      }
      return -1;
    }
  }
}

/** A member's key at `i` and its colon: returns where the value may start, or -1. */
function skipKey(buf: Buffer, i: number, end: number): number {
  if (i >= end || buf[i] !== QUOTE) return -1;
  i = scanString(buf, i, end);
  if (i < 0) return -1;
  i = skipSpace(buf, i, end);
  return i < end && buf[i] === COLON ? i + 1 : -1;
}

type Kind = SqlType['kind'];

/** Why a schema gets no fast path, or null when it does. */
export function byteReaderRefusal(fields: readonly SourceField[]): string | null {
  for (const f of fields) {
    const k = f.type.kind;
    if ((k === 'array' || k === 'map' || k === 'row') && holdsDecimal(f.type)) return `field ${f.name}: a container holding a DECIMAL is read from its text by the exact path`;
  }
  return null;
}

/** The fast path for a schema, or null when the schema is one it leaves to the exact path. */
export function createJsonByteReader(fields: readonly SourceField[]): JsonByteReader | null {
  if (byteReaderRefusal(fields) !== null) return null;
  const n = fields.length;
  const kinds: Kind[] = fields.map((f) => f.type.kind);
  const nullable = fields.map((f) => f.type.nullable);
  const names = fields.map((f) => Buffer.from(f.name, 'utf8'));
  const lengths = names.map((b) => b.length);
  // A name JSON can spell without an escape (no quote, backslash or control character): only
  // such a name may be matched in place, where its bytes followed by a quote are the whole key.
  const plainName = Uint8Array.from(names, (b) => (b.every((c) => c !== QUOTE && c !== BACKSLASH && c >= 0x20) ? 1 : 0));
  const highName = Uint8Array.from(names, (b) => (b.some((c) => c >= 0x80) ? 1 : 0));
  // For a string in a non-STRING field, and a container in a nested field: the exact path's own
  // converters, so a value it converts is converted by the same code.
  const fromText: Converter[] = fields.map((f) => nonNullConverter(f.type));
  const fromParsed: Converter[] = fields.map((f) => converterFor(f.type));
  const caches = fields.map((f) => (f.type.kind === 'string' ? new ShortStringCache() : undefined));
  const seen = new Int32Array(n);
  const stack = new Uint8Array(MAX_DEPTH);
  let stamp = 0;

  const nameAt = (k: number, buf: Buffer, from: number, len: number): boolean => {
    if (lengths[k] !== len) return false;
    const name = names[k]!;
    for (let j = 0; j < len; j++) if (buf[from + j] !== name[j]) return false;
    return true;
  };

  /** The declared field whose name is the key's bytes, trying `guess` first (members usually come in schema order). */
  const fieldOf = (buf: Buffer, from: number, to: number, guess: number): number => {
    const len = to - from;
    if (guess < n && nameAt(guess, buf, from, len)) return guess;
    for (let k = 0; k < n; k++) if (k !== guess && nameAt(k, buf, from, len)) return k;
    return -1;
  };

  /**
   * A container in a STRING field: its source text, as the exact path keeps it (escapes as
   * written). That path also strips the whitespace between tokens; a container with any
   * whitespace byte in it, inside a string or not, is handed back rather than rewritten here.
   */
  const containerText = (buf: Buffer, i: number, end: number, col: unknown[], row: number): number => {
    const high = sawHigh;
    sawHigh = false;
    const stop = skipValue(buf, i, end, stack);
    if (stop < 0) return -1;
    for (let j = i; j < stop; j++) if (isSpace(buf[j]!)) return -1;
    col[row] = sawHigh ? buf.toString('utf8', i, stop) : latin1(buf, i, stop);
    sawHigh = sawHigh || high;
    return stop;
  };

  /** Field k's value at `i` into its column: returns the value's end, or -1 to hand the record back. */
  const readField = (k: number, buf: Buffer, i: number, end: number, col: unknown[], row: number): number => {
    const c = buf[i]!;
    const kind = kinds[k]!;
    if (c === QUOTE) {
      sawEscape = false;
      const high = sawHigh;
      sawHigh = false;
      const stop = scanString(buf, i, end);
      if (stop < 0) return -1;
      let s: string;
      if (sawEscape) {
        // JSON.parse decodes the one string exactly as it would inside the record.
        s = JSON.parse(buf.toString('utf8', i, stop)) as string;
        if (LONE_SURROGATE.test(s)) return -1;
      } else if (sawHigh) s = buf.toString('utf8', i + 1, stop - 1);
      else {
        const cache = caches[k];
        s = cache !== undefined && cache.on && stop - i - 2 <= SHORT_STRING_BYTES ? cache.get(buf, i + 1, stop - 1) : latin1(buf, i + 1, stop - 1);
      }
      sawHigh = sawHigh || high;
      if (kind === 'string') col[row] = s;
      else {
        try {
          col[row] = fromText[k]!(s);
        } catch {
          return -1;
        }
      }
      return stop;
    }
    if (c === MINUS || (c >= 0x30 && c <= 0x39)) {
      const stop = scanNumber(buf, i, end);
      if (stop < 0) return -1;
      switch (kind) {
        case 'string':
          // Flink keeps a number's text as written.
          col[row] = latin1(buf, i, stop);
          return stop;
        case 'int': {
          const v = numberIsInt ? (numberDigits <= 10 ? numberValue : NaN) : truncated(buf, i, stop);
          if (!(v >= -2147483648 && v <= 2147483647)) return -1;
          col[row] = v;
          return stop;
        }
        case 'bigint': {
          if (!numberIsInt) {
            // Beyond 2^53 the exact path has no digits to re-read (the text is not an integer).
            const v = truncated(buf, i, stop);
            if (!Number.isSafeInteger(v)) return -1;
            col[row] = v;
            return stop;
          }
          if (numberDigits <= 15) {
            col[row] = numberValue;
            return stop;
          }
          if (numberDigits > 19) return -1;
          // Beyond 2^53 the exact path re-reads the digits as a bigint; within it, a number.
          const b = BigInt(latin1(buf, i, stop));
          if (b < INT64_MIN || b > INT64_MAX) return -1;
          col[row] = b >= -MAX_SAFE && b <= MAX_SAFE ? Number(b) : b;
          return stop;
        }
        case 'double':
        case 'float': {
          // Number() and JSON.parse round a numeral the same way (correctly, to the nearest double).
          const v = numberIsInt && numberDigits <= 15 ? numberValue : Number(latin1(buf, i, stop));
          col[row] = kind === 'float' ? Math.fround(v) : v;
          return stop;
        }
        case 'decimal':
          // Read from the digits, as the exact path reads a top-level DECIMAL.
          try {
            col[row] = fromText[k]!(latin1(buf, i, stop));
          } catch {
            return -1;
          }
          return stop;
        default:
          return -1;
      }
    }
    if (c === 0x6e) {
      const stop = scanLiteral(buf, i, end, 'null');
      if (stop < 0 || !nullable[k]) return -1;
      col[row] = null;
      return stop;
    }
    if (c === 0x74 || c === 0x66) {
      const word = c === 0x74 ? 'true' : 'false';
      const stop = scanLiteral(buf, i, end, word);
      if (stop < 0) return -1;
      if (kind === 'boolean') col[row] = c === 0x74;
      else if (kind === 'string') col[row] = word;
      else return -1;
      return stop;
    }
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (kind === 'string') return containerText(buf, i, end, col, row);
      if (kind !== 'array' && kind !== 'map' && kind !== 'row') return -1;
      sawEscape = false;
      const stop = skipValue(buf, i, end, stack);
      if (stop < 0 || sawEscape) return -1;
      try {
        col[row] = fromParsed[k]!(JSON.parse(buf.toString('utf8', i, stop)));
      } catch {
        return -1;
      }
      return stop;
    }
    return -1;
  };

  return {
    read(buf, start, end, columns, row) {
      let i = skipSpace(buf, start, end);
      if (i >= end || buf[i] !== OPEN_OBJECT) return false;
      sawHigh = false;
      const mark = ++stamp;
      let guess = 0;
      i = skipSpace(buf, i + 1, end);
      if (i < end && buf[i] === CLOSE_OBJECT) i++;
      else {
        for (;;) {
          if (i >= end || buf[i] !== QUOTE) return false;
          let k = -1;
          let keyEnd = -1;
          // The member expected next, matched in place: its name's bytes then a quote.
          if (guess < n && plainName[guess] === 1) {
            const len = lengths[guess]!;
            if (i + len + 1 < end && buf[i + len + 1] === QUOTE && nameAt(guess, buf, i + 1, len)) {
              k = guess;
              keyEnd = i + len + 2;
              if (highName[guess] === 1) sawHigh = true;
            }
          }
          if (keyEnd < 0) {
            sawEscape = false;
            keyEnd = scanString(buf, i, end);
            if (keyEnd < 0 || sawEscape) return false;
            k = fieldOf(buf, i + 1, keyEnd - 1, guess);
          }
          i = skipSpace(buf, keyEnd, end);
          if (i >= end || buf[i] !== COLON) return false;
          i = skipSpace(buf, i + 1, end);
          if (i >= end) return false;
          if (k < 0) i = skipValue(buf, i, end, stack);
          else {
            if (seen[k] === mark) return false;
            seen[k] = mark;
            guess = k + 1;
            i = readField(k, buf, i, end, columns[k]!, row);
          }
          if (i < 0) return false;
          i = skipSpace(buf, i, end);
          if (i >= end) return false;
          const c = buf[i]!;
          if (c === CLOSE_OBJECT) {
            i++;
            break;
          }
          if (c !== COMMA) return false;
          i = skipSpace(buf, i + 1, end);
        }
      }
      if (skipSpace(buf, i, end) !== end) return false;
      if (sawHigh && !isUtf8(buf.subarray(start, end))) return false;
      for (let k = 0; k < n; k++) {
        if (seen[k] === mark) continue;
        if (!nullable[k]) return false;
        columns[k]![row] = null;
      }
      return true;
    },
  };
}
