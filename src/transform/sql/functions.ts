// Scalar SQL functions, each checked against its arguments' types when the SQL is compiled and
// evaluated per row. Semantics are Flink 1.19's "System (Built-in) Functions" page
// (dev/table/functions/systemfunctions); where an implementation detail decides a corner case,
// the Flink class it comes from is named beside it.

import { constant, ExpressionError, fold, requireBoolean, pos, type Compiled, type Eval, type Scope } from './expression.js';
import { invalid, unsupported, type AstNode } from './parse.js';
import { commonType, simple, typeName, withNullable } from './types.js';
import { JSON_FUNCTIONS } from './json-functions.js';
import { arity, constantArg, INTEGER, nullableOf, requireKind, strict, STRING, type Impl } from './function-kit.js';
import { TIME_FUNCTIONS } from './time-functions.js';
import { coerced, DECIMAL_FUNCTIONS } from './decimal-ops.js';
import { MATH_FUNCTIONS } from './math-functions.js';
import { STRING_FUNCTIONS } from './string-functions.js';
import { COLLECTION_FUNCTIONS } from './collection-access.js';
import { STRING_CODES } from './string-codes.js';
import { RANDOM_FUNCTIONS } from './random-functions.js';
import { CALENDAR_FUNCTIONS, floorCeilTo } from './calendar-functions.js';

function hasSurrogates(s: string): boolean {
  return /[\uD800-\uDFFF]/.test(s);
}

/** Flink BinaryStringDataUtil.substringSQL: 1-based, negative start counts from the end. */
export function substringSql(s: string, start: number, length: number | null): string | null {
  if (length !== null && length < 0) return null;
  const chars = hasSurrogates(s) ? Array.from(s) : null;
  const n = chars === null ? s.length : chars.length;
  let from: number;
  if (start > 0) {
    from = start - 1;
    if (from >= n) return '';
  } else if (start < 0) {
    from = n + start;
    if (from < 0) return '';
  } else from = 0;
  const to = length === null || n - from < length ? n : from + length;
  return chars === null ? s.slice(from, to) : chars.slice(from, to).join('');
}

function likeRegex(pattern: string, escape: string | null): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (escape !== null && c === escape) {
      const next = pattern[++i];
      if (next === undefined) throw new Error(`LIKE pattern '${pattern}' ends with its escape character`);
      re += next.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '[\\s\\S]';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'u');
}

function cachedRegex(cache: Map<string, RegExp | null>, source: string, make: (s: string) => RegExp): RegExp | null {
  let re = cache.get(source);
  if (re === undefined) {
    try {
      re = make(source);
    } catch {
      re = null;
    }
    if (cache.size > 1000) cache.clear();
    cache.set(source, re);
  }
  return re;
}

function like(negate: boolean): Impl {
  return (args, scope, node) => {
    const name = negate ? 'NOT LIKE' : 'LIKE';
    arity(name, args, 2, 3, scope, node);
    for (const a of args) requireKind(name, a, STRING, scope, node);
    const escape = args.length === 3 ? (constantArg(name, args[2]!, scope, node, 'ESCAPE') as string | null) : null;
    if (escape !== null && escape.length !== 1) throw invalid(`LIKE: ESCAPE must be one character, found '${escape}'`);
    const cache = new Map<string, RegExp | null>();
    const type = withNullable(simple('boolean'), nullableOf(args));
    if (args[1]!.constant) {
      const p = args[1]!.eval(0) as string | null;
      if (p === null) return constant(withNullable(simple('boolean'), true), null);
      let re: RegExp;
      try {
        re = likeRegex(p, escape);
      } catch (e) {
        throw invalid(`LIKE: ${(e as Error).message}`);
      }
      return strict(type, [args[0]!], (s: string) => re.test(s) !== negate);
    }
    return strict(type, args.slice(0, 2), (s: string, p: string) => {
      const re = cachedRegex(cache, p, (x) => likeRegex(x, escape));
      if (re === null) throw new ExpressionError(`invalid LIKE pattern '${p}'`);
      return re.test(s) !== negate;
    });
  };
}

function concat(args: Compiled[], scope: Scope, node: AstNode, name: string): Compiled {
  arity(name, args, 1, Infinity, scope, node);
  for (const a of args) requireKind(name, a, STRING, scope, node);
  // Flink: CONCAT and || return NULL when any argument is NULL.
  return strict(withNullable(simple('string'), nullableOf(args)), args, (...v: string[]) => v.join(''));
}

/** `#WORD` constants are the keyword markers compileArgs leaves for FROM, FOR, BOTH… */
function marker(c: Compiled | undefined): string | null {
  if (c === undefined || !c.constant || c.type.kind !== 'string') return null;
  const v = c.eval(0);
  return typeof v === 'string' && /^#[A-Z]+$/.test(v) ? v.slice(1) : null;
}

function trim(args: Compiled[], scope: Scope, node: AstNode, fixedMode?: 'BOTH' | 'LEADING' | 'TRAILING'): Compiled {
  let mode: string = fixedMode ?? 'BOTH';
  let rest = args;
  const m0 = marker(rest[0]);
  if (m0 === 'BOTH' || m0 === 'LEADING' || m0 === 'TRAILING') {
    mode = m0;
    rest = rest.slice(1);
  }
  let chars: Compiled = constant(simple('string', false), ' ');
  const fromAt = rest.findIndex((a) => marker(a) === 'FROM');
  if (fromAt >= 0) {
    if (fromAt === 1) chars = rest[0]!;
    rest = rest.slice(fromAt + 1);
  } else if (rest.length === 2 && fixedMode !== undefined) {
    chars = rest[1]!;
    rest = rest.slice(0, 1);
  }
  arity('TRIM', rest, 1, 1, scope, node);
  requireKind('TRIM', rest[0]!, STRING, scope, node);
  requireKind('TRIM', chars, STRING, scope, node);
  const leading = mode !== 'TRAILING';
  const trailing = mode !== 'LEADING';
  return strict(withNullable(simple('string'), rest[0]!.type.nullable || chars.type.nullable), [rest[0]!, chars], (s: string, set: string) => {
    let a = 0;
    let b = s.length;
    if (leading) while (a < b && set.includes(s[a]!)) a++;
    if (trailing) while (b > a && set.includes(s[b - 1]!)) b--;
    return s.slice(a, b);
  });
}

function substring(args: Compiled[], scope: Scope, node: AstNode): Compiled {
  const plain = args.filter((a) => marker(a) === null);
  arity('SUBSTRING', plain, 2, 3, scope, node);
  requireKind('SUBSTRING', plain[0]!, STRING, scope, node);
  requireKind('SUBSTRING', plain[1]!, INTEGER, scope, node, 'start');
  if (plain[2]) requireKind('SUBSTRING', plain[2], INTEGER, scope, node, 'length');
  const type = withNullable(simple('string'), true);
  return plain.length === 2
    ? strict(type, plain, (s: string, start: number | bigint) => substringSql(s, Number(start), null))
    : strict(type, plain, (s: string, start: number | bigint, len: number | bigint) => substringSql(s, Number(start), Number(len)));
}

/**
 * GREATEST / LEAST over arguments brought to their common type (as COALESCE's); NULL when any
 * argument is NULL (Flink's GreatestLeastFunction, PyFlink 1.19.3: GREATEST(7, NULL) is NULL).
 */
function extreme(name: 'GREATEST' | 'LEAST', args: Compiled[], scope: Scope, node: AstNode): Compiled {
  arity(name, args, 1, Infinity, scope, node);
  const type = commonType(args.map((a) => a.type));
  if (type === null || (type.kind !== 'null' && !['int', 'bigint', 'decimal', 'float', 'double', 'string', 'boolean', 'date', 'timestamp', 'timestamp_ltz', 'time'].includes(type.kind))) {
    throw invalid(`${name} arguments have incompatible types ${args.map((a) => typeName(a.type)).join(', ')}`, pos(scope, node));
  }
  const greatest = name === 'GREATEST';
  return strict(withNullable(type, nullableOf(args)), args.map((a) => coerced(a, type, false)), (...v: unknown[]) => {
    let best = v[0];
    for (let k = 1; k < v.length; k++) {
      const x = v[k];
      if (greatest ? (x as number) > (best as number) : (x as number) < (best as number)) best = x;
    }
    return best;
  });
}

const FUNCTIONS: Record<string, Impl> = {
  LIKE: like(false),
  'NOT LIKE': like(true),
  '||': (args, scope, node) => concat(args, scope, node, '||'),
  CONCAT: (args, scope, node) => concat(args, scope, node, 'CONCAT'),
  LOWER: (args, scope, node) => {
    arity('LOWER', args, 1, 1, scope, node);
    requireKind('LOWER', args[0]!, STRING, scope, node);
    return strict(args[0]!.type.kind === 'null' ? simple('string') : args[0]!.type, args, (s: string) => s.toLowerCase());
  },
  UPPER: (args, scope, node) => {
    arity('UPPER', args, 1, 1, scope, node);
    requireKind('UPPER', args[0]!, STRING, scope, node);
    return strict(args[0]!.type.kind === 'null' ? simple('string') : args[0]!.type, args, (s: string) => s.toUpperCase());
  },
  TRIM: (args, scope, node) => trim(args, scope, node),
  LTRIM: (args, scope, node) => trim(args, scope, node, 'LEADING'),
  RTRIM: (args, scope, node) => trim(args, scope, node, 'TRAILING'),
  SUBSTRING: substring,
  SUBSTR: substring,
  CHAR_LENGTH: (args, scope, node) => {
    arity('CHAR_LENGTH', args, 1, 1, scope, node);
    requireKind('CHAR_LENGTH', args[0]!, STRING, scope, node);
    return strict(withNullable(simple('int'), nullableOf(args)), args, (s: string) => (hasSurrogates(s) ? Array.from(s).length : s.length));
  },
  REPLACE: (args, scope, node) => {
    arity('REPLACE', args, 3, 3, scope, node);
    for (const a of args) requireKind('REPLACE', a, STRING, scope, node);
    // An empty search string: Flink gives '_' for REPLACE('', '', '_') (the differential suite's
    // str-replace), as Java's String.replace does, which puts the replacement before every
    // character and at the end; characters are code points here, as everywhere in the runtime.
    return strict(withNullable(simple('string'), nullableOf(args)), args, (s: string, from: string, to: string) => (from === '' ? to + Array.from(s).join(to) + (s === '' ? '' : to) : s.split(from).join(to)));
  },
  REGEXP_EXTRACT: (args, scope, node) => {
    arity('REGEXP_EXTRACT', args, 2, 3, scope, node);
    requireKind('REGEXP_EXTRACT', args[0]!, STRING, scope, node);
    requireKind('REGEXP_EXTRACT', args[1]!, STRING, scope, node);
    if (args[2]) requireKind('REGEXP_EXTRACT', args[2], INTEGER, scope, node, 'group index');
    const cache = new Map<string, RegExp | null>();
    const all = args.length === 3 ? args : [...args, constant(simple('int', false), 0)];
    // Flink SqlFunctionUtils.regexpExtract: find() the first match; an invalid pattern, no match or
    // a group index out of range gives NULL. Java and JS regex syntax agree on common patterns only.
    return strict(withNullable(simple('string'), true), all, (s: string, p: string, index: number | bigint) => {
      const idx = Number(index);
      const re = cachedRegex(cache, p, (x) => new RegExp(x));
      if (re === null || idx < 0) return null;
      const m = re.exec(s);
      if (m === null || idx >= m.length) return null;
      return m[idx] ?? null;
    });
  },
  SPLIT_INDEX: (args, scope, node) => {
    arity('SPLIT_INDEX', args, 3, 3, scope, node);
    requireKind('SPLIT_INDEX', args[0]!, STRING, scope, node);
    requireKind('SPLIT_INDEX', args[1]!, STRING, scope, node);
    requireKind('SPLIT_INDEX', args[2]!, INTEGER, scope, node, 'index');
    // Flink SqlFunctionUtils.splitIndex → commons-lang splitByWholeSeparatorPreserveAllTokens.
    return strict(withNullable(simple('string'), true), args, (s: string, sep: string, index: number | bigint) => {
      const idx = Number(index);
      if (idx < 0 || s === '') return null;
      const parts = sep === '' ? s.split(/\s/) : s.split(sep);
      return idx < parts.length ? parts[idx]! : null;
    });
  },
  COALESCE: (args, scope, node) => {
    arity('COALESCE', args, 1, Infinity, scope, node);
    const type = commonType(args.map((a) => a.type));
    if (type === null) throw invalid(`COALESCE arguments have incompatible types ${args.map((a) => typeName(a.type)).join(', ')}`, pos(scope, node));
    // Every argument at the common type first: a DECIMAL's bigint means nothing at another scale.
    const evs = args.map((a) => coerced(a, type, true).eval);
    const t = withNullable(type, args.every((a) => a.type.nullable));
    return fold({ type: t, constant: args.every((a) => a.constant), eval: (i) => {
      for (const e of evs) {
        const v = e(i);
        if (v !== null) return v;
      }
      return null;
    } });
  },
  NULLIF: (args, scope, node) => {
    arity('NULLIF', args, 2, 2, scope, node);
    const common = commonType([args[0]!.type, args[1]!.type]);
    if (common === null) throw invalid(`NULLIF cannot compare ${typeName(args[0]!.type)} with ${typeName(args[1]!.type)}`, pos(scope, node));
    const [a, b] = [args[0]!.eval, args[1]!.eval];
    // Compared at the common type (a DECIMAL at one scale), returned as the first argument is.
    const [ca, cb] = [coerced(args[0]!, common, false).eval, coerced(args[1]!, common, false).eval];
    return fold({ type: withNullable(args[0]!.type, true), constant: args.every((x) => x.constant), eval: (i) => {
      const x = a(i);
      if (x === null) return null;
      const y = b(i);
      return y !== null && ca(i) === cb(i) ? null : x;
    } });
  },
  GREATEST: (args, scope, node) => extreme('GREATEST', args, scope, node),
  LEAST: (args, scope, node) => extreme('LEAST', args, scope, node),
  // IFNULL(a, b) ≡ COALESCE(a, b): NULL only when b may be.
  IFNULL: (args, scope, node) => {
    arity('IFNULL', args, 2, 2, scope, node);
    return FUNCTIONS.COALESCE!(args, scope, node);
  },
  IF: (args, scope, node) => {
    arity('IF', args, 3, 3, scope, node);
    requireBoolean(args[0]!, scope, 'the IF condition');
    const type = commonType([args[1]!.type, args[2]!.type]);
    if (type === null) throw invalid(`IF branches have incompatible types ${typeName(args[1]!.type)}, ${typeName(args[2]!.type)}`, pos(scope, node));
    const [c, a, b] = [args[0]!.eval, coerced(args[1]!, type, true).eval, coerced(args[2]!, type, true).eval] as [Eval, Eval, Eval];
    return fold({ type, constant: args.every((x) => x.constant), eval: (i) => (c(i) === true ? a(i) : b(i)) });
  },
  ...TIME_FUNCTIONS,
  ...DECIMAL_FUNCTIONS,
  ...MATH_FUNCTIONS,
  ...STRING_FUNCTIONS,
  ...COLLECTION_FUNCTIONS,
  ...STRING_CODES,
  ...RANDOM_FUNCTIONS,
  ...CALENDAR_FUNCTIONS,
  // FLOOR(t TO unit) arrives as FLOOR(t, '#UNIT') (keyword-forms.ts); FLOOR(x) is numeric.
  FLOOR: (args, scope, node) => (args.length === 2 ? floorCeilTo('FLOOR', args, scope, node) : DECIMAL_FUNCTIONS.FLOOR!(args, scope, node)),
  CEIL: (args, scope, node) => (args.length === 2 ? floorCeilTo('CEIL', args, scope, node) : DECIMAL_FUNCTIONS.CEIL!(args, scope, node)),
  CEILING: (args, scope, node) => (args.length === 2 ? floorCeilTo('CEIL', args, scope, node) : DECIMAL_FUNCTIONS.CEIL!(args, scope, node)),
  ...JSON_FUNCTIONS,
};

export function compileFunction(name: string, args: Compiled[], scope: Scope, node: AstNode): Compiled {
  const impl = FUNCTIONS[name];
  if (impl === undefined) throw unsupported(`function ${name}`, pos(scope, node), `supported functions are ${Object.keys(FUNCTIONS).filter((k) => /^[A-Z_][A-Z0-9_]*$/.test(k)).join(', ')}`);
  return impl(args, scope, node);
}
