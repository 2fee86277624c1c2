// JSON_VALUE, JSON_QUERY and JSON_EXISTS. Without clauses: NULL ON EMPTY, NULL ON ERROR,
// WITHOUT ARRAY WRAPPER, and FALSE ON ERROR for JSON_EXISTS. Flink 1.19 reads the text with Jackson
// and the path with Jayway (SqlJsonUtils): numbers come back as Jackson writes them, so a number
// with a point or an exponent is a double in Java's text (1e2 → 100.0, 1.50 → 1.5) and an integer
// keeps every digit, however long. JSON.parse would round such an integer: each number is read
// from its source text instead (JSON.parse's reviver context), then written the way Jackson does.
//
// The clauses (RETURNING, … ON EMPTY / … ON ERROR, WRAPPER) arrive as `#JSON:` constants after
// the path (keyword-forms.ts). What PyFlink 1.19.3 does with them, on column input: text that is
// not JSON, a `strict` path that is missing and (JSON_VALUE) an object or array are errors, taken
// by ON ERROR; a `lax` path that is missing is empty, taken by ON EMPTY; JSON null is NULL. A
// RETURNING type that does not match the JSON value (RETURNING INT of "x" or of 1.5) makes Flink
// fail the job with a ClassCastException whatever ON ERROR says: here it is the record's dead
// letter. RETURNING types other than STRING, BOOLEAN, INT and DOUBLE fail in Flink 1.19 and are
// refused. The path may come from a column (JSON_VALUE(s, t)), compiled per distinct text.

import { castTo, javaDoubleString } from './cast.js';
import { ExpressionError, pos, type Compiled, type Scope } from './expression.js';
import { arity, constantArg, nullableOf, requireKind, strict, STRING, type Impl } from './function-kit.js';
import { compileJsonPath } from './json-path.js';
import { invalid, unsupported, type AstNode } from './parse.js';
import { JSON_CLAUSE } from './keyword-forms.js';
import { simple, typeName, withNullable } from './types.js';
import type { SqlType } from '../../schema/sql-types.js';

/** A JSON number, kept as its source text. */
class JsonNumber {
  // Private, so a path step named `text` cannot read it as a member (json-path.ts walks own keys).
  readonly #text: string;

  constructor(text: string) {
    this.#text = text;
  }

  /** Jackson's text for it: an integer as written, anything else as Java's Double.toString. */
  toJackson(): string {
    return /^-?\d+$/.test(this.#text) ? this.#text : javaDoubleString(Number(this.#text));
  }
}

const rawJson = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

type Reviver = (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown;
const keepNumbers: Reviver = (_key, value, context) => (typeof value === 'number' && context?.source !== undefined ? new JsonNumber(context.source) : value);

/** The document, or undefined when the text is not JSON. */
function parseDocument(text: string): unknown {
  try {
    return JSON.parse(text, keepNumbers as (this: unknown, key: string, value: unknown) => unknown);
  } catch {
    return undefined;
  }
}

/** Compact JSON text as Jackson writes a node (no blanks, numbers as toJackson gives them). */
function writeJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (x instanceof JsonNumber ? rawJson(x.toJackson()) : x));
}

interface Clauses {
  returning: string | null;
  onEmpty: { kind: string; value: unknown };
  onError: { kind: string; value: unknown };
  wrapper: 'WITHOUT' | 'CONDITIONAL' | 'UNCONDITIONAL';
}

/**
 * The clauses after the path, and how each record's value at the path is found: `inputs` are the
 * arguments the function reads per record (the JSON text, and the path when it is not a constant);
 * `find` is null for a constant NULL path. A path's `strict` mode makes a missing path an error.
 */
function parseCall(name: string, args: Compiled[], scope: Scope, node: AstNode, defaultOnError: string) {
  arity(name, args, 2, Infinity, scope, node);
  requireKind(name, args[0]!, STRING, scope, node);
  const clauses: Clauses = { returning: null, onEmpty: { kind: 'NULL', value: null }, onError: { kind: defaultOnError, value: null }, wrapper: 'WITHOUT' };
  for (let k = 2; k < args.length; k++) {
    const a = args[k]!;
    const text = a.constant ? a.eval(0) : null;
    if (typeof text !== 'string' || !text.startsWith(JSON_CLAUSE)) throw invalid(`${name} takes a JSON text and a path, then its clauses; found an extra argument`, pos(scope, node));
    const c = text.slice(JSON_CLAUSE.length);
    let m: RegExpExecArray | null;
    if ((m = /^RETURNING (.+)$/.exec(c)) !== null) clauses.returning = m[1]!.replace(/\s+/g, '');
    else if ((m = /^DEFAULT ON (EMPTY|ERROR)$/.exec(c)) !== null) {
      clauses[m[1] === 'EMPTY' ? 'onEmpty' : 'onError'] = { kind: 'DEFAULT', value: args[++k] ?? null };
    } else if ((m = /^(.+) ON (EMPTY|ERROR)$/.exec(c)) !== null) clauses[m[2] === 'EMPTY' ? 'onEmpty' : 'onError'] = { kind: m[1]!, value: null };
    else if (/WRAPPER$/.test(c)) clauses.wrapper = c.startsWith('WITHOUT') ? 'WITHOUT' : c.includes('CONDITIONAL') && !c.includes('UNCONDITIONAL') ? 'CONDITIONAL' : 'UNCONDITIONAL';
  }
  if (!args[1]!.constant) {
    // A path from a column, read per record: a path that does not compile is an error of that
    // record's call (ON ERROR), as Flink 1.19 takes it. Compiled paths are kept, since a column
    // of paths usually repeats a few.
    requireKind(name, args[1]!, STRING, scope, node, 'the path');
    const plans = new Map<string, PathPlan | null>();
    const find = (s: string, path: string): unknown => {
      let plan = plans.get(path);
      if (plan === undefined) {
        try {
          plan = planPath(path);
        } catch {
          plan = null;
        }
        if (plans.size > 1024) plans.clear();
        plans.set(path, plan);
      }
      return plan === null ? FAILED : locate(plan, s);
    };
    return { inputs: [args[0]!, args[1]!], find, clauses };
  }
  const path = constantArg(name, args[1]!, scope, node, 'the path') as string | null;
  if (path === null) return { inputs: [args[0]!], find: null, clauses };
  let plan: PathPlan;
  try {
    plan = planPath(path);
  } catch (e) {
    throw invalid(`${name}: ${(e as Error).message}`, pos(scope, node));
  }
  return { inputs: [args[0]!], find: (s: string) => locate(plan, s), clauses };
}

interface PathPlan {
  select: (doc: unknown) => unknown;
  strictMode: boolean;
}

function planPath(path: string): PathPlan {
  return { select: compileJsonPath(path), strictMode: /^\s*strict\s/i.test(path) };
}

const MISSING = Symbol('missing');
const FAILED = Symbol('failed');

/** The value at the path, MISSING for an empty result, FAILED for an error (bad JSON, strict miss). */
function locate(plan: PathPlan, s: string): unknown {
  const doc = parseDocument(s);
  if (doc === undefined) return FAILED;
  const v = plan.select(doc);
  if (v === undefined) return plan.strictMode ? FAILED : MISSING;
  return v;
}

function behaviour(name: string, b: { kind: string; value: unknown }, what: string): unknown {
  switch (b.kind) {
    case 'NULL':
    case 'UNKNOWN':
      return null;
    case 'ERROR':
      throw new ExpressionError(`${name}: ${what}, and the query says ERROR ON ${what === 'nothing at the path' ? 'EMPTY' : 'ERROR'}`);
    case 'TRUE':
      return true;
    case 'FALSE':
      return false;
    case 'EMPTY ARRAY':
      return '[]';
    case 'EMPTY OBJECT':
      return '{}';
    default:
      return b.value;
  }
}

const RETURNING: Record<string, { type: SqlType; read: (v: unknown) => unknown }> = {
  STRING: { type: simple('string'), read: (v) => (v instanceof JsonNumber ? v.toJackson() : String(v)) },
  BOOLEAN: { type: simple('boolean'), read: (v) => (typeof v === 'boolean' ? v : undefined) },
  DOUBLE: { type: simple('double'), read: (v) => (v instanceof JsonNumber ? Number(v.toJackson()) : undefined) },
  INT: {
    type: simple('int'),
    read: (v) => {
      if (!(v instanceof JsonNumber)) return undefined;
      const text = v.toJackson();
      return /^-?\d+$/.test(text) && Math.abs(Number(text)) <= 2147483647 ? Number(text) : undefined;
    },
  },
};

export const JSON_FUNCTIONS: Record<string, Impl> = {
  JSON_VALUE: (args, scope, node) => {
    const { inputs, find, clauses } = parseCall('JSON_VALUE', args, scope, node, 'NULL');
    const want = (clauses.returning ?? 'STRING').replace(/^VARCHAR(\(\d+\))?$/, 'STRING');
    const ret = RETURNING[want];
    if (ret === undefined) throw unsupported(`JSON_VALUE … RETURNING ${clauses.returning}`, pos(scope, node), 'Flink 1.19 fails on it; RETURNING STRING, BOOLEAN, INT or DOUBLE, or CAST the text');
    if (find === null) return { type: ret.type, constant: true, eval: () => null };
    // A DEFAULT literal is brought to the RETURNING type once, as CAST would.
    const dflt = (b: { kind: string; value: unknown }) => (b.kind === 'DEFAULT' && b.value !== null ? castTo(b.value as Compiled, ret.type, scope, false).eval(0) : null);
    const onEmpty = { ...clauses.onEmpty, value: dflt(clauses.onEmpty) };
    const onError = { ...clauses.onError, value: dflt(clauses.onError) };
    return strict(ret.type, inputs, (s: string, path?: string) => {
      const v = find(s, path!);
      if (v === MISSING) return behaviour('JSON_VALUE', onEmpty, 'nothing at the path');
      if (v === FAILED) return behaviour('JSON_VALUE', onError, 'not JSON, or a strict path that is missing');
      if (v === null) return null;
      if (typeof v === 'object' && !(v instanceof JsonNumber)) return behaviour('JSON_VALUE', onError, 'an object or array at the path');
      const out = ret.read(v);
      if (out === undefined) throw new ExpressionError(`JSON_VALUE: ${v instanceof JsonNumber ? v.toJackson() : JSON.stringify(v)} cannot be RETURNING ${typeName(ret.type)}`);
      return out;
    });
  },
  // An object or array as compact JSON text; a scalar is an error unless a wrapper makes it an
  // array (WITH CONDITIONAL ARRAY WRAPPER leaves an array as it is). JSON null at the path is
  // NULL whatever the wrapper and the ON EMPTY clause, never '[null]': PyFlink 1.19.3 gives NULL
  // for it under WITH [CONDITIONAL | UNCONDITIONAL] ARRAY WRAPPER and EMPTY ARRAY ON EMPTY alike.
  JSON_QUERY: (args, scope, node) => {
    const { inputs, find, clauses } = parseCall('JSON_QUERY', args, scope, node, 'NULL');
    if (clauses.returning !== null) throw unsupported('JSON_QUERY … RETURNING', pos(scope, node), 'JSON_QUERY gives STRING here');
    if (find === null) return { type: simple('string'), constant: true, eval: () => null };
    return strict(simple('string', true), inputs, (s: string, path?: string) => {
      const v = find(s, path!);
      if (v === MISSING) return behaviour('JSON_QUERY', clauses.onEmpty, 'nothing at the path');
      if (v === FAILED) return behaviour('JSON_QUERY', clauses.onError, 'not JSON, or a strict path that is missing');
      if (v === null) return null;
      const container = v !== null && typeof v === 'object' && !(v instanceof JsonNumber);
      if (clauses.wrapper === 'UNCONDITIONAL' || (clauses.wrapper === 'CONDITIONAL' && !Array.isArray(v))) return writeJson([v]);
      return container ? writeJson(v) : behaviour('JSON_QUERY', clauses.onError, 'a scalar at the path');
    });
  },
  // Whether the path leads to a value other than JSON null; an error (text that is not JSON, a
  // strict path that is missing) is FALSE unless ON ERROR says otherwise.
  JSON_EXISTS: (args, scope, node) => {
    const { inputs, find, clauses } = parseCall('JSON_EXISTS', args, scope, node, 'FALSE');
    if (find === null) return { type: simple('boolean'), constant: true, eval: () => null };
    const nullable = nullableOf(args) || clauses.onError.kind === 'UNKNOWN';
    return strict(withNullable(simple('boolean'), nullable), inputs, (s: string, path?: string) => {
      const v = find(s, path!);
      if (v === FAILED) return behaviour('JSON_EXISTS', clauses.onError, 'not JSON, or a strict path that is missing');
      return v !== null && v !== MISSING;
    });
  },
};
