// String functions beyond the first few (functions.ts): searching, padding, case, regular
// expressions, base64 and digests. Values and NULL behaviour are Flink 1.19's, checked against
// PyFlink 1.19.3 where the documentation is silent; the Flink method each follows is named.
//
// Flink counts characters as code points (BinaryStringData), JS strings as UTF-16 units: where a
// position or a length is involved, text with surrogate pairs is split into code points first.

import { createHash, randomUUID } from 'node:crypto';
import { ExpressionError, type Compiled, type Scope } from './expression.js';
import { arity, INTEGER, nullableOf, requireKind, strict, STRING, type Impl } from './function-kit.js';
import type { AstNode } from './parse.js';
import { simple, withNullable } from './types.js';

function chars(s: string): string[] | null {
  return /[\uD800-\uDFFF]/.test(s) ? Array.from(s) : null;
}

function codePointLength(s: string): number {
  const c = chars(s);
  return c === null ? s.length : c.length;
}

/** s's code points from `from` (0-based) to `to`, exclusive. */
function slice(s: string, from: number, to?: number): string {
  const c = chars(s);
  return c === null ? s.slice(from, to) : c.slice(from, to).join('');
}

/** 1-based code-point position of `seek` in `s` at or after `from` (1-based); 0 when absent. */
function positionOf(seek: string, s: string, from: number): number {
  // Flink: an empty search string is found at 1, wherever the search starts (PyFlink 1.19.3).
  if (seek === '') return 1;
  const c = chars(s);
  if (c === null) return s.indexOf(seek, from - 1) + 1;
  const unit = Array.from(s).slice(0, from - 1).join('').length;
  const at = s.indexOf(seek, unit);
  return at < 0 ? 0 : Array.from(s.slice(0, at)).length + 1;
}

function strings(name: string, args: Compiled[], scope: Scope, node: AstNode, n: number): void {
  arity(name, args, n, n, scope, node);
  for (const a of args) requireKind(name, a, STRING, scope, node);
}

/** `#WORD` markers compileArgs leaves for the keywords of POSITION(a IN b), OVERLAY(… PLACING …). */
function withoutMarkers(args: Compiled[]): Compiled[] {
  return args.filter((a) => !(a.constant && a.type.kind === 'string' && /^#[A-Z]+$/.test(String(a.eval(0)))));
}

/**
 * LPAD / RPAD (Flink SqlFunctionUtils.lpad / rpad): a length below zero or an empty pad gives
 * NULL; a string longer than the length is cut to it, from the left for both.
 */
function pad(name: 'LPAD' | 'RPAD'): Impl {
  return (args, scope, node) => {
    arity(name, args, 3, 3, scope, node);
    requireKind(name, args[0]!, STRING, scope, node);
    requireKind(name, args[1]!, INTEGER, scope, node, 'the length');
    requireKind(name, args[2]!, STRING, scope, node, 'the pad');
    return strict(simple('string', true), args, (s: string, len: number | bigint, p: string) => {
      const n = Number(len);
      if (n < 0 || p === '') return null;
      const have = codePointLength(s);
      if (n <= have) return slice(s, 0, n);
      const fill = Array.from(p);
      let padding = '';
      for (let k = 0; k < n - have; k++) padding += fill[k % fill.length];
      return name === 'LPAD' ? padding + s : s + padding;
    });
  };
}

/** Calcite's SqlFunctions.initcap, which Flink uses: ASCII letters and digits make words; other text is left as it is. */
export function initcap(s: string): string {
  let start = true;
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    const digit = c >= 48 && c <= 57;
    const upper = c >= 65 && c <= 90;
    const lower = c >= 97 && c <= 122;
    if (start) {
      if (digit || upper || lower) start = false;
      out += lower ? ch.toUpperCase() : ch;
    } else {
      if (!(digit || upper || lower)) start = true;
      out += upper ? ch.toLowerCase() : ch;
    }
  }
  return out;
}

/**
 * INSTR(s, sub [, from [, n]]): the 1-based code-point position of sub's n-th occurrence, searching
 * forward from `from`, or backward from the `-from`-th character from the end when it is
 * negative; 0 when there is none or `from` is 0. As PyFlink 1.19.3 answers: an empty sub is found
 * at 1 wherever the search starts; an n of 0 or less fails the Flink job (here, the record).
 */
function instr(args: Compiled[], scope: Scope, node: AstNode): Compiled {
  arity('INSTR', args, 2, 4, scope, node);
  requireKind('INSTR', args[0]!, STRING, scope, node);
  requireKind('INSTR', args[1]!, STRING, scope, node, 'the search string');
  if (args[2]) requireKind('INSTR', args[2], INTEGER, scope, node, 'the start');
  if (args[3]) requireKind('INSTR', args[3], INTEGER, scope, node, 'the occurrence');
  return strict(withNullable(simple('int'), nullableOf(args)), args, (s: string, sub: string, start: number | bigint = 1, nth: number | bigint = 1) => {
    const from = Number(start);
    const n = Number(nth);
    if (n <= 0) throw new ExpressionError(`INSTR: the occurrence must be positive, found ${n}`);
    if (sub === '') return 1;
    if (from === 0) return 0;
    const points = Array.from(s);
    // UTF-16 index of code point k, and back.
    const unit = (k: number) => points.slice(0, k).join('').length;
    const point = (u: number) => Array.from(s.slice(0, u)).length;
    let at = from > 0 ? unit(from - 1) - 1 : unit(Math.max(points.length + from, -1) + 1);
    for (let k = 0; k < n; k++) {
      at = from > 0 ? s.indexOf(sub, at + 1) : at - 1 < 0 ? -1 : s.lastIndexOf(sub, at - 1);
      if (at < 0) return 0;
    }
    return point(at) + 1;
  });
}

function cachedRegex(cache: Map<string, RegExp | null>, source: string, flags: string): RegExp | null {
  let re = cache.get(source);
  if (re === undefined) {
    try {
      re = new RegExp(source, flags);
    } catch {
      re = null;
    }
    if (cache.size > 1000) cache.clear();
    cache.set(source, re);
  }
  return re;
}

/**
 * OVERLAY(s PLACING r FROM p [FOR n]): s's first p - 1 characters, r, then s from p + n; n
 * defaults to r's length. Corners as PyFlink 1.19.3 gives them: a position before 1 or past the
 * last character leaves s as it is; a length of 0 or less drops the rest of s
 * (OVERLAY('abcdef' PLACING 'XY' FROM 2 FOR 0) is 'aXY').
 */
function overlay(args: Compiled[], scope: Scope, node: AstNode): Compiled {
  const plain = withoutMarkers(args);
  arity('OVERLAY', plain, 3, 4, scope, node);
  requireKind('OVERLAY', plain[0]!, STRING, scope, node);
  requireKind('OVERLAY', plain[1]!, STRING, scope, node, 'the replacement');
  requireKind('OVERLAY', plain[2]!, INTEGER, scope, node, 'the position');
  if (plain[3]) requireKind('OVERLAY', plain[3], INTEGER, scope, node, 'the length');
  return strict(withNullable(simple('string'), nullableOf(plain)), plain, (s: string, r: string, p: number | bigint, n?: number | bigint) => {
    const at = Number(p);
    const len = n === undefined ? codePointLength(r) : Number(n);
    const c = Array.from(s);
    if (at < 1 || at > c.length) return s;
    return c.slice(0, at - 1).join('') + r + (len <= 0 ? '' : c.slice(at - 1 + len).join(''));
  });
}

function digest(name: string, algorithm: string): Impl {
  return (args, scope, node) => {
    strings(name, args, scope, node, 1);
    return strict(withNullable(simple('string'), nullableOf(args)), args, (s: string) => createHash(algorithm).update(s, 'utf8').digest('hex'));
  };
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export const STRING_FUNCTIONS: Record<string, Impl> = {
  // POSITION(a IN b), 1-based, 0 when absent.
  POSITION: (args, scope, node) => {
    const plain = withoutMarkers(args);
    strings('POSITION', plain, scope, node, 2);
    return strict(withNullable(simple('int'), nullableOf(plain)), plain, (seek: string, s: string) => positionOf(seek, s, 1));
  },
  // LOCATE(a, b [, from]): a start below 1 searches from 1 (PyFlink 1.19.3: LOCATE('l', s, -1) = LOCATE('l', s)).
  LOCATE: (args, scope, node) => {
    arity('LOCATE', args, 2, 3, scope, node);
    requireKind('LOCATE', args[0]!, STRING, scope, node);
    requireKind('LOCATE', args[1]!, STRING, scope, node);
    if (args[2]) requireKind('LOCATE', args[2], INTEGER, scope, node, 'the start');
    return strict(withNullable(simple('int'), nullableOf(args)), args, (seek: string, s: string, from?: number | bigint) =>
      positionOf(seek, s, Math.max(1, from === undefined ? 1 : Number(from))));
  },
  LPAD: pad('LPAD'),
  RPAD: pad('RPAD'),
  INITCAP: (args, scope, node) => {
    strings('INITCAP', args, scope, node, 1);
    return strict(withNullable(simple('string'), nullableOf(args)), args, initcap);
  },
  REVERSE: (args, scope, node) => {
    strings('REVERSE', args, scope, node, 1);
    return strict(withNullable(simple('string'), nullableOf(args)), args, (s: string) => Array.from(s).reverse().join(''));
  },
  // REPEAT(s, n): n ≤ 0 gives ''.
  REPEAT: (args, scope, node) => {
    arity('REPEAT', args, 2, 2, scope, node);
    requireKind('REPEAT', args[0]!, STRING, scope, node);
    requireKind('REPEAT', args[1]!, INTEGER, scope, node, 'the count');
    return strict(withNullable(simple('string'), nullableOf(args)), args, (s: string, n: number | bigint) => {
      const k = Number(n);
      if (k <= 0) return '';
      if (s.length * k > 100_000_000) throw new ExpressionError(`REPEAT: ${s.length} characters ${k} times is beyond what a record can hold`);
      return s.repeat(k);
    });
  },
  // Flink SqlFunctionUtils.regexpReplace: every match, the replacement taken literally
  // (Matcher.quoteReplacement: '$1' is not a group); an invalid pattern gives NULL. Java and JS
  // regular expressions agree on common patterns only.
  REGEXP_REPLACE: (args, scope, node) => {
    strings('REGEXP_REPLACE', args, scope, node, 3);
    const cache = new Map<string, RegExp | null>();
    return strict(simple('string', true), args, (s: string, p: string, r: string) => {
      const re = cachedRegex(cache, p, 'g');
      return re === null ? null : s.replace(re, () => r);
    });
  },
  // REGEXP(s, p): whether some part of s matches (Matcher.find); an invalid pattern gives FALSE
  // (PyFlink 1.19.3: REGEXP('foobar', '(') is FALSE).
  REGEXP: (args, scope, node) => {
    strings('REGEXP', args, scope, node, 2);
    const cache = new Map<string, RegExp | null>();
    return strict(withNullable(simple('boolean'), nullableOf(args)), args, (s: string, p: string) => {
      const re = cachedRegex(cache, p, '');
      return re === null ? false : re.test(s);
    });
  },
  // LEFT / RIGHT(s, n): a negative n gives '', an n past the end the whole string.
  LEFT: (args, scope, node) => {
    arity('LEFT', args, 2, 2, scope, node);
    requireKind('LEFT', args[0]!, STRING, scope, node);
    requireKind('LEFT', args[1]!, INTEGER, scope, node, 'the length');
    return strict(withNullable(simple('string'), nullableOf(args)), args, (s: string, n: number | bigint) => (Number(n) <= 0 ? '' : slice(s, 0, Number(n))));
  },
  RIGHT: (args, scope, node) => {
    arity('RIGHT', args, 2, 2, scope, node);
    requireKind('RIGHT', args[0]!, STRING, scope, node);
    requireKind('RIGHT', args[1]!, INTEGER, scope, node, 'the length');
    return strict(withNullable(simple('string'), nullableOf(args)), args, (s: string, n: number | bigint) => {
      const k = Number(n);
      const len = codePointLength(s);
      return k <= 0 ? '' : slice(s, Math.max(0, len - k));
    });
  },
  OVERLAY: overlay,
  TO_BASE64: (args, scope, node) => {
    strings('TO_BASE64', args, scope, node, 1);
    return strict(withNullable(simple('string'), nullableOf(args)), args, (s: string) => Buffer.from(s, 'utf8').toString('base64'));
  },
  // FROM_BASE64 gives the decoded bytes as text (STRING). Text that is not base64 makes Java's
  // decoder throw, failing the Flink job; here it is that record's dead letter.
  FROM_BASE64: (args, scope, node) => {
    strings('FROM_BASE64', args, scope, node, 1);
    return strict(withNullable(simple('string'), nullableOf(args)), args, (s: string) => {
      if (!BASE64.test(s) || s.length % 4 === 1) throw new ExpressionError(`FROM_BASE64: '${s.length > 40 ? s.slice(0, 40) + '…' : s}' is not base64 text`);
      return Buffer.from(s, 'base64').toString('utf8');
    });
  },
  MD5: digest('MD5', 'md5'),
  SHA1: digest('SHA1', 'sha1'),
  SHA256: digest('SHA256', 'sha256'),
  INSTR: instr,
  // A new value for every row: never constant, so never folded.
  UUID: (args, scope, node) => {
    arity('UUID', args, 0, 0, scope, node);
    return { type: simple('string', false), constant: false, eval: () => randomUUID() };
  },
};

