// JSON_VALUE, JSON_QUERY and JSON_EXISTS in their default forms (NULL ON EMPTY, NULL ON ERROR,
// WITHOUT ARRAY WRAPPER; FALSE ON ERROR for JSON_EXISTS). Flink 1.19 reads the text with Jackson
// and the path with Jayway (SqlJsonUtils): numbers come back as Jackson writes them, so a number
// with a point or an exponent is a double in Java's text (1e2 → 100.0, 1.50 → 1.5) and an integer
// keeps every digit, however long. JSON.parse would round such an integer: each number is read
// from its source text instead (JSON.parse's reviver context), then written the way Jackson does.
//
// The RETURNING, ON EMPTY / ON ERROR and WRAPPER clauses are not parsed yet: the SQL grammar here
// does not take them, so such a query is refused at its position by the parser.

import { javaDoubleString } from './cast.js';
import { pos } from './expression.js';
import { arity, constantArg, nullableOf, requireKind, strict, STRING, type Impl } from './function-kit.js';
import { compileJsonPath } from './json-path.js';
import { invalid } from './parse.js';
import { simple, withNullable } from './types.js';

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

function pathArg(name: string, args: Parameters<Impl>[0], scope: Parameters<Impl>[1], node: Parameters<Impl>[2]): ((doc: unknown) => unknown) | null {
  arity(name, args, 2, 2, scope, node);
  requireKind(name, args[0]!, STRING, scope, node);
  const path = constantArg(name, args[1]!, scope, node, 'the path') as string | null;
  if (path === null) return null;
  try {
    return compileJsonPath(path);
  } catch (e) {
    throw invalid(`${name}: ${(e as Error).message}`, pos(scope, node));
  }
}

export const JSON_FUNCTIONS: Record<string, Impl> = {
  // A scalar as text (a boolean as 'true'); a missing path, JSON null, an object or array, and
  // text that is not JSON are NULL.
  JSON_VALUE: (args, scope, node) => {
    const select = pathArg('JSON_VALUE', args, scope, node);
    if (select === null) return { type: simple('string'), constant: true, eval: () => null };
    return strict(simple('string', true), [args[0]!], (s: string) => {
      const v = select(parseDocument(s));
      if (v instanceof JsonNumber) return v.toJackson();
      if (v === null || v === undefined || typeof v === 'object') return null;
      return String(v);
    });
  },
  // An object or array as compact JSON text; a scalar (without a wrapper), a missing path and
  // text that is not JSON are NULL (PyFlink 1.19.3: JSON_QUERY('{"a": 1}', '$.a') is NULL).
  JSON_QUERY: (args, scope, node) => {
    const select = pathArg('JSON_QUERY', args, scope, node);
    if (select === null) return { type: simple('string'), constant: true, eval: () => null };
    return strict(simple('string', true), [args[0]!], (s: string) => {
      const v = select(parseDocument(s));
      return v !== null && typeof v === 'object' && !(v instanceof JsonNumber) ? writeJson(v) : null;
    });
  },
  // Whether the path leads to a value other than JSON null; text that is not JSON is FALSE.
  JSON_EXISTS: (args, scope, node) => {
    const select = pathArg('JSON_EXISTS', args, scope, node);
    if (select === null) return { type: simple('boolean'), constant: true, eval: () => null };
    return strict(withNullable(simple('boolean'), nullableOf(args)), [args[0]!], (s: string) => {
      const v = select(parseDocument(s));
      return v !== null && v !== undefined;
    });
  },
};
