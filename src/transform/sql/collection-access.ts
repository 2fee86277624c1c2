// Reading inside nested values: ROW fields (`p.ts`, `p.q.r`), ARRAY elements (`a[1]`), MAP values
// (`m['k']`), CARDINALITY and ELEMENT. Nested values arrive as the decoders build them: a ROW as
// a plain object keyed by field name, an ARRAY as a JS array, a MAP as a JS Map, every leaf in its
// column form (a TIMESTAMP as µs, a DECIMAL as its unscaled bigint), so a field read out of a ROW
// is ready for any other part of the compiler.
//
// NULL rules are Flink 1.19's: a field of a NULL row is NULL (so the field's type becomes
// nullable); an array index outside 1..length and a missing map key give NULL.

import { ExpressionError, fold, pos, type Compiled, type Scope } from './expression.js';
import { arity, type Impl } from './function-kit.js';
import { invalid, type AstNode } from './parse.js';
import { commonType, simple, typeName, withNullable, type ExprType } from './types.js';
import type { SqlType } from '../../schema/sql-types.js';
import { coerced } from './decimal-ops.js';

/** Field `name` of a ROW-typed expression; null when `c` is not a ROW or has no such field. */
export function rowField(c: Compiled, name: string): Compiled | null {
  const t = c.type;
  if (t.kind !== 'row') return null;
  const field = t.fields.find((f) => f.name === name);
  if (field === undefined) return null;
  const f = c.eval;
  return fold({
    type: withNullable(field.type, field.type.nullable || t.nullable),
    constant: c.constant,
    eval: (i) => {
      const row = f(i) as Record<string, unknown> | null;
      if (row === null) return null;
      const v = row[name];
      return v === undefined ? null : v;
    },
  });
}

/** `c.a.b…`, each step a ROW field; the error names the step that is not one. */
export function fieldPath(c: Compiled, path: readonly string[], shown: string, scope: Scope, node: AstNode): Compiled {
  let cur = c;
  let at = shown;
  for (const name of path) {
    const next = rowField(cur, name);
    if (next === null) {
      const why = cur.type.kind === 'row'
        ? `${at} has no field ${name}; its fields are ${cur.type.fields.map((f) => f.name).join(', ')} (names are case-sensitive)`
        : `${at} is ${typeName(cur.type)}, not a ROW, so it has no field ${name}`;
      throw invalid(why, pos(scope, node));
    }
    cur = next;
    at = `${at}.${name}`;
  }
  return cur;
}

/** `c[index]`: an ARRAY element (1-based) or a MAP value. */
export function subscript(c: Compiled, index: Compiled, shown: string, scope: Scope, node: AstNode): Compiled {
  const t = c.type;
  const f = c.eval;
  if (t.kind === 'array') {
    if (index.type.kind !== 'int' && index.type.kind !== 'bigint' && index.type.kind !== 'null') {
      throw invalid(`${shown}[…]: an ARRAY index must be INT, found ${typeName(index.type)}`, pos(scope, node));
    }
    const g = index.eval;
    return fold({ type: withNullable(t.element, true), constant: c.constant && index.constant, eval: (i) => {
      const a = f(i) as unknown[] | null;
      if (a === null) return null;
      const k = g(i);
      if (k === null) return null;
      const n = Number(k);
      return n >= 1 && n <= a.length ? (a[n - 1] ?? null) : null;
    } });
  }
  if (t.kind === 'map') {
    const key = commonType([t.key, index.type]);
    if (key === null) throw invalid(`${shown}[…]: a key of ${typeName(t)} cannot be ${typeName(index.type)}`, pos(scope, node));
    const g = coerced(index, t.key, false).eval;
    return fold({ type: withNullable(t.value, true), constant: c.constant && index.constant, eval: (i) => {
      const m = f(i) as Map<unknown, unknown> | null;
      if (m === null) return null;
      const k = g(i);
      if (k === null) return null;
      const v = m.get(k);
      return v === undefined ? null : v;
    } });
  }
  throw invalid(`${shown} is ${typeName(t)}; only an ARRAY or a MAP takes [ ]`, pos(scope, node));
}

/** Equality of two non-null leaves: bytes by content, the rest by value. */
function compareEqual(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b) === 0;
  return typeof a === 'bigint' || typeof b === 'bigint' ? BigInt(a as number) === BigInt(b as number) : a === b;
}

function collection(name: string, args: Compiled[], scope: Scope, node: AstNode, kinds: readonly string[]): Compiled {
  arity(name, args, 1, 1, scope, node);
  const t = args[0]!.type;
  if (!kinds.includes(t.kind)) throw invalid(`${name}: argument must be ${kinds.map((k) => k.toUpperCase()).join(' or ')}, found ${typeName(t)}`, pos(scope, node));
  return args[0]!;
}

/**
 * ARRAY[a, b, …] and MAP[k1, v1, …] (as ARRAY(…) / MAP(…) after keyword-forms.ts): elements,
 * keys and values each brought to their common type; never NULL themselves, though an element
 * may be (PyFlink 1.19.3: ARRAY[i, 2] with a NULL i is [NULL, 2]; MAP[s, i] with both NULL is
 * {NULL=NULL}). A key given twice keeps its last value. Elements, keys and values are typed
 * nullable (see common).
 */
function common(name: string, what: string, items: Compiled[], scope: Scope, node: AstNode): { type: SqlType; evals: Array<(i: number) => unknown> } {
  const t = commonType(items.map((c) => c.type));
  if (t === null) throw invalid(`${name}: the ${what} have no common type (${items.map((c) => typeName(c.type)).join(', ')})`, pos(scope, node));
  if (t.kind === 'null') throw invalid(`${name}: the ${what} are all NULL; CAST one to the type wanted`, pos(scope, node));
  // Typed nullable inside, where Flink types ARRAY[1, 2] as ARRAY<INT NOT NULL>: a sink column
  // is matched on its nested types exactly (output-check.ts), and is declared ARRAY<INT>.
  return { type: withNullable(t, true), evals: items.map((c) => coerced(c, t, false).eval) };
}

function arrayOf(args: Compiled[], scope: Scope, node: AstNode): Compiled {
  arity('ARRAY', args, 1, Infinity, scope, node);
  const { type, evals } = common('ARRAY', 'elements', args, scope, node);
  return fold({ type: { kind: 'array', element: type, nullable: false }, constant: args.every((a) => a.constant), eval: (i) => evals.map((f) => f(i)) });
}

function mapOf(args: Compiled[], scope: Scope, node: AstNode): Compiled {
  arity('MAP', args, 2, Infinity, scope, node);
  if (args.length % 2 !== 0) throw invalid(`MAP takes keys and values in pairs, found ${args.length} argument(s)`, pos(scope, node));
  const keys = common('MAP', 'keys', args.filter((_, k) => k % 2 === 0), scope, node);
  const values = common('MAP', 'values', args.filter((_, k) => k % 2 === 1), scope, node);
  return fold({ type: { kind: 'map', key: keys.type, value: values.type, nullable: false }, constant: args.every((a) => a.constant), eval: (i) => {
    const m = new Map<unknown, unknown>();
    for (let k = 0; k < keys.evals.length; k++) m.set(keys.evals[k]!(i), values.evals[k]!(i));
    return m;
  } });
}

export const COLLECTION_FUNCTIONS: Record<string, Impl> = {
  ARRAY: arrayOf,
  MAP: mapOf,
  // ARRAY_CONTAINS(a, x): BOOLEAN, NULL when the array is; a NULL x finds a NULL element
  // (PyFlink 1.19.3: ARRAY_CONTAINS(ARRAY[1, NULL], CAST(NULL AS INT)) is TRUE). x must have the
  // element's type: Flink refuses ARRAY_CONTAINS(ARRAY<INT>, 20.0).
  ARRAY_CONTAINS: (args, scope, node) => {
    arity('ARRAY_CONTAINS', args, 2, 2, scope, node);
    const c = collection('ARRAY_CONTAINS', args.slice(0, 1), scope, node, ['array']);
    const t = c.type as Extract<ExprType, { kind: 'array' }>;
    const x = args[1]!;
    if (x.type.kind !== 'null' && x.type.kind !== t.element.kind) throw invalid(`ARRAY_CONTAINS: the value must be the element type ${typeName(t.element)}, found ${typeName(x.type)}`, pos(scope, node));
    const g = coerced(x, t.element, false).eval;
    const f = c.eval;
    return fold({ type: simple('boolean', c.type.nullable), constant: c.constant && x.constant, eval: (i) => {
      const a = f(i) as unknown[] | null;
      if (a === null) return null;
      const v = g(i);
      return a.some((e) => (e ?? null) === v || (v !== null && e !== null && e !== undefined && compareEqual(e, v)));
    } });
  },
  // CARDINALITY: INT, the number of elements or entries.
  CARDINALITY: (args, scope, node) => {
    const c = collection('CARDINALITY', args, scope, node, ['array', 'map']);
    const f = c.eval;
    return fold({ type: simple('int', c.type.nullable), constant: c.constant, eval: (i) => {
      const v = f(i) as unknown[] | Map<unknown, unknown> | null;
      return v === null ? null : Array.isArray(v) ? v.length : v.size;
    } });
  },
  // ELEMENT: the sole element; NULL for an empty array; more than one element is an error
  // (Flink throws, failing the job; here that record is a dead letter).
  ELEMENT: (args, scope, node) => {
    const c = collection('ELEMENT', args, scope, node, ['array']);
    const t = c.type as Extract<ExprType, { kind: 'array' }>;
    const f = c.eval;
    return fold({ type: withNullable(t.element, true), constant: c.constant, eval: (i) => {
      const a = f(i) as unknown[] | null;
      if (a === null || a.length === 0) return null;
      if (a.length > 1) throw new ExpressionError(`ELEMENT: the array has ${a.length} elements; it must have at most one`);
      return a[0] ?? null;
    } });
  },
};
