// JSON's grammar checked over UTF-8 bytes, for the byte reader (json-byte-reader.ts): strings,
// numbers, literals and whole values scanned as JSON.parse would accept them, each scanner
// returning where its token ends or -1 where JSON.parse would refuse (or where the caller must
// not trust a reading). Nothing here allocates per token, and nothing recurses: a value nested
// deeper than MAX_DEPTH is refused, not followed.

export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const COMMA = 0x2c;
export const COLON = 0x3a;
export const MINUS = 0x2d;
export const OPEN_OBJECT = 0x7b;
export const CLOSE_OBJECT = 0x7d;
export const OPEN_ARRAY = 0x5b;
export const CLOSE_ARRAY = 0x5d;
/** Containers nested deeper than this inside one member are handed back (and JSON.parse's recursion spared). */
export const MAX_DEPTH = 512;

/**
 * What the last scan saw, read right after the scan that set it: `high`, a byte ≥ 0x80 (set, never
 * cleared, by scanString); `escape`, an escape in a string; for a number, `isInt` (no fraction, no
 * exponent), `digits` (integer digits) and `value` (exact when an integer of at most 15 digits).
 * Module state, not return values: the scanners run per record and field, and one thread runs
 * one scan at a time with nothing between a scan and its reader.
 */
export const scan = { high: false, escape: false, isInt: false, digits: 0, value: 0 };

/** Bytes all below 0x80 as text: Latin-1 is one byte per character, the cheapest decoding Node has. */
export function latin1(buf: Buffer, from: number, to: number): string {
  return buf.toString('latin1', from, to);
}

export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

export function skipSpace(buf: Buffer, i: number, end: number): number {
  while (i < end && isSpace(buf[i]!)) i++;
  return i;
}

/**
 * The string opening at `i` (a quote): returns one past its closing quote, or -1. Sets scan.escape
 * when it holds an escape (checked for JSON's grammar, not decoded) and scan.high on a byte ≥ 0x80.
 */
export function scanString(buf: Buffer, i: number, end: number): number {
  i++;
  while (i < end) {
    const c = buf[i]!;
    if (c === QUOTE) return i + 1;
    if (c < 0x20) return -1; // JSON.parse refuses raw control characters in strings
    if (c === BACKSLASH) {
      scan.escape = true;
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
    if (c >= 0x80) scan.high = true;
    i++;
  }
  return -1;
}

export function digitsEnd(buf: Buffer, i: number, end: number): number {
  while (i < end) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x39) break;
    i++;
  }
  return i;
}

/**
 * The number starting at `i` by JSON's grammar: returns where it ends, or -1. Sets scan.isInt
 * (no fraction, no exponent), scan.digits (integer digits) and scan.value (exact when an
 * integer of at most 15 digits; otherwise not to be used).
 */
export function scanNumber(buf: Buffer, i: number, end: number): number {
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
  scan.isInt = isInt;
  scan.digits = digits;
  scan.value = neg ? -v : v; // "-0" is -0, as JSON.parse makes it
  return i;
}

/** A number with a fraction or an exponent, truncated as Jackson's asInt / asLong and the exact path do (-0.5 → -0). */
export function truncated(buf: Buffer, from: number, to: number): number {
  return Math.trunc(Number(latin1(buf, from, to)));
}

/** `true`, `false` or `null` at `i`: returns its end, or -1. */
export function scanLiteral(buf: Buffer, i: number, end: number, word: string): number {
  if (i + word.length > end) return -1;
  for (let k = 0; k < word.length; k++) if (buf[i + k] !== word.charCodeAt(k)) return -1;
  return i + word.length;
}

/** Any JSON value at `i`, checked and skipped without recursion: returns its end, or -1. */
export function skipValue(buf: Buffer, i: number, end: number, stack: Uint8Array): number {
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
export function skipKey(buf: Buffer, i: number, end: number): number {
  if (i >= end || buf[i] !== QUOTE) return -1;
  i = scanString(buf, i, end);
  if (i < 0) return -1;
  i = skipSpace(buf, i, end);
  return i < end && buf[i] === COLON ? i + 1 : -1;
}
