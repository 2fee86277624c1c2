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
import { CLOSE_OBJECT, COLON, COMMA, isSpace, latin1, MAX_DEPTH, MINUS, OPEN_ARRAY, OPEN_OBJECT, QUOTE, BACKSLASH, scan, scanLiteral, scanNumber, scanString, skipSpace, skipValue, truncated } from './json-scan.js';
import type { SourceField } from './decoded-batch.js';

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

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** With the u flag, a surrogate half that is not part of a pair. */
const LONE_SURROGATE = /\p{Cs}/u;

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
    const high = scan.high;
    scan.high = false;
    const stop = skipValue(buf, i, end, stack);
    if (stop < 0) return -1;
    for (let j = i; j < stop; j++) if (isSpace(buf[j]!)) return -1;
    col[row] = scan.high ? buf.toString('utf8', i, stop) : latin1(buf, i, stop);
    scan.high = scan.high || high;
    return stop;
  };

  /** Field k's value at `i` into its column: returns the value's end, or -1 to hand the record back. */
  const readField = (k: number, buf: Buffer, i: number, end: number, col: unknown[], row: number): number => {
    const c = buf[i]!;
    const kind = kinds[k]!;
    if (c === QUOTE) {
      scan.escape = false;
      const high = scan.high;
      scan.high = false;
      const stop = scanString(buf, i, end);
      if (stop < 0) return -1;
      let s: string;
      if (scan.escape) {
        // JSON.parse decodes the one string exactly as it would inside the record.
        s = JSON.parse(buf.toString('utf8', i, stop)) as string;
        if (LONE_SURROGATE.test(s)) return -1;
      } else if (scan.high) s = buf.toString('utf8', i + 1, stop - 1);
      else {
        const cache = caches[k];
        s = cache !== undefined && cache.on && stop - i - 2 <= SHORT_STRING_BYTES ? cache.get(buf, i + 1, stop - 1) : latin1(buf, i + 1, stop - 1);
      }
      scan.high = scan.high || high;
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
          const v = scan.isInt ? (scan.digits <= 10 ? scan.value : NaN) : truncated(buf, i, stop);
          if (!(v >= -2147483648 && v <= 2147483647)) return -1;
          col[row] = v;
          return stop;
        }
        case 'bigint': {
          if (!scan.isInt) {
            // Beyond 2^53 the exact path has no digits to re-read (the text is not an integer).
            const v = truncated(buf, i, stop);
            if (!Number.isSafeInteger(v)) return -1;
            col[row] = v;
            return stop;
          }
          if (scan.digits <= 15) {
            col[row] = scan.value;
            return stop;
          }
          if (scan.digits > 19) return -1;
          // Beyond 2^53 the exact path re-reads the digits as a bigint; within it, a number.
          const b = BigInt(latin1(buf, i, stop));
          if (b < INT64_MIN || b > INT64_MAX) return -1;
          col[row] = b >= -MAX_SAFE && b <= MAX_SAFE ? Number(b) : b;
          return stop;
        }
        case 'double':
        case 'float': {
          // Number() and JSON.parse round a numeral the same way (correctly, to the nearest double).
          const v = scan.isInt && scan.digits <= 15 ? scan.value : Number(latin1(buf, i, stop));
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
      scan.escape = false;
      const stop = skipValue(buf, i, end, stack);
      if (stop < 0 || scan.escape) return -1;
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
      scan.high = false;
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
              if (highName[guess] === 1) scan.high = true;
            }
          }
          if (keyEnd < 0) {
            scan.escape = false;
            keyEnd = scanString(buf, i, end);
            if (keyEnd < 0 || scan.escape) return false;
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
      if (scan.high && !isUtf8(buf.subarray(start, end))) return false;
      for (let k = 0; k < n; k++) {
        if (seen[k] === mark) continue;
        if (!nullable[k]) return false;
        columns[k]![row] = null;
      }
      return true;
    },
  };
}
