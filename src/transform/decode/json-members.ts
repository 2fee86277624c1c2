// The exact path's view into a record's JSON text after JSON.parse accepted it: where each
// top-level member's value lies (the last duplicate winning, as JSON.parse decides), an integer's
// exact digits beyond ±2^53, lone surrogates, and the text forms dead letters quote.

/**
 * Where the values of top-level members `names` lie in a JSON object text: `out[2k]`, `out[2k+1]`
 * are the start and end of `names[k]`'s value, or -1 when absent. One pass, iterative, so no
 * nesting depth overflows it, and no allocation per member (this runs per record); it assumes
 * `text` is valid JSON (JSON.parse accepted it). For a duplicate name the last occurrence wins,
 * as JSON.parse decides.
 */
export function findMembers(text: string, names: readonly string[], out: Float64Array): void {
  out.fill(-1);
  const n = text.length;
  const skipSpace = (at: number): number => {
    let j = at;
    for (let c = text.charCodeAt(j); c === 32 || c === 9 || c === 10 || c === 13; c = text.charCodeAt(++j));
    return j;
  };
  let i = skipSpace(0);
  if (text.charCodeAt(i) !== 123) return;
  i++;
  while (i < n) {
    i = skipSpace(i);
    if (text.charCodeAt(i) !== 34) return;
    const end = stringEnd(text, i);
    const escaped = text.lastIndexOf('\\', end - 2) > i;
    const start = skipSpace(skipSpace(end) + 1);
    const stop = valueEnd(text, start);
    for (let k = 0; k < names.length; k++) {
      const name = names[k]!;
      const hit = escaped ? JSON.parse(text.slice(i, end)) === name : end - i - 2 === name.length && text.startsWith(name, i + 1);
      if (hit) {
        out[2 * k] = start;
        out[2 * k + 1] = stop;
      }
    }
    i = skipSpace(stop);
    if (text.charCodeAt(i) !== 44) return;
    i++;
  }
}

/** The source text of top-level member `name` of a JSON object text, or null. */
export function memberText(text: string, name: string): string | null {
  const span = new Float64Array(2);
  findMembers(text, [name], span);
  return span[0]! < 0 ? null : text.slice(span[0], span[1]);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The exact value of top-level member `name` when its source text is an integer literal within
 * BIGINT's range, or null. The member is found as JSON.parse found it (escaped keys decoded, the
 * last duplicate winning), so the digits read are those of the value JSON.parse rounded.
 */
export function exactInteger(text: string, name: string): bigint | null {
  const raw = memberText(text, name);
  if (raw === null || !/^-?\d+$/.test(raw)) return null;
  const v = BigInt(raw);
  return v >= INT64_MIN && v <= INT64_MAX ? v : null;
}

/** A `\uD800`–`\uDFFF` escape: the only way a record's text can put a surrogate in a string. */
export const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
/** With the u flag, a surrogate half that is not part of a pair. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * The first lone surrogate in a value (its strings and its object keys, at any depth), as
 * `\udxxx`, or null. Iterative, so no nesting depth overflows it.
 */
export function loneSurrogateIn(value: unknown): string | null {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      const m = LONE_SURROGATE.exec(v);
      if (m !== null) return `\\u${m[0].charCodeAt(0).toString(16)}`;
    } else if (Array.isArray(v)) {
      for (const x of v) stack.push(x);
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) stack.push(k, x);
    }
  }
  return null;
}

/** One past the closing quote of the JSON string opening at `at`; indexOf skips its body natively. */
function stringEnd(text: string, at: number): number {
  let from = at + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0) return text.length;
    let backslashes = 0;
    while (text.charCodeAt(q - 1 - backslashes) === 92) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** Where the JSON value starting at `start` ends (exclusive); iterative over any nesting. */
function valueEnd(text: string, start: number): number {
  const n = text.length;
  let depth = 0;
  let i = start;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      i = stringEnd(text, i);
      if (depth === 0) return i;
      continue;
    }
    if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) {
      if (depth === 0) return i;
      depth--;
      if (depth === 0) return i + 1;
    } else if (depth === 0 && (c === 44 || c === 32 || c === 9 || c === 10 || c === 13)) return i;
    i++;
  }
  return i;
}

/** JSON text without the whitespace between tokens, as Jackson writes a node; strings untouched. */
export function compactJson(raw: string): string {
  if (!/\s/.test(raw)) return raw;
  let out = '';
  let from = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 34) {
      i++;
      while (i < raw.length && raw.charCodeAt(i) !== 34) i += raw.charCodeAt(i) === 92 ? 2 : 1;
    } else if (c === 32 || c === 9 || c === 10 || c === 13) {
      out += raw.slice(from, i);
      from = i + 1;
    }
  }
  return out + raw.slice(from);
}

/** `1234567890…` (1,000 digits): a long number shown by its leading digits and its length. */
export function leadingText(raw: string): string {
  return raw.length <= 40 ? raw : `${raw.slice(0, 24)}… (${raw.length} characters)`;
}
