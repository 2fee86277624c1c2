// Argument checks and NULL propagation shared by the scalar function tables.

import { invalid, type AstNode } from './parse.js';
import { fold, pos, type Compiled, type Eval, type Scope } from './expression.js';
import { typeName, type ExprType } from './types.js';

export type Impl = (args: Compiled[], scope: Scope, node: AstNode) => Compiled;

export function arity(name: string, args: Compiled[], min: number, max: number, scope: Scope, node: AstNode): void {
  if (args.length < min || args.length > max) {
    const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    throw invalid(`${name} takes ${want} argument(s), found ${args.length}`, pos(scope, node));
  }
}

export function requireKind(name: string, c: Compiled, kinds: readonly string[], scope: Scope, node: AstNode, what = 'argument'): void {
  if (c.type.kind === 'null' || kinds.includes(c.type.kind)) return;
  throw invalid(`${name}: ${what} must be ${kinds.map((k) => k.toUpperCase()).join(' or ')}, found ${typeName(c.type)}`, pos(scope, node));
}

export const STRING = ['string'];
export const INTEGER = ['int', 'bigint'];
export const TEMPORAL = ['timestamp', 'timestamp_ltz', 'date'];

/** Null in, null out, for any number of arguments; `f` sees non-null values only. */
export function strict(type: ExprType, args: Compiled[], f: (...v: any[]) => unknown): Compiled {
  const evs = args.map((a) => a.eval);
  const k = args.every((a) => a.constant);
  let ev: Eval;
  if (evs.length === 1) {
    const [a] = evs as [Eval];
    ev = (i) => { const x = a(i); return x === null ? null : f(x); };
  } else if (evs.length === 2) {
    const [a, b] = evs as [Eval, Eval];
    ev = (i) => { const x = a(i); if (x === null) return null; const y = b(i); return y === null ? null : f(x, y); };
  } else {
    ev = (i) => {
      const vs = new Array(evs.length);
      for (let j = 0; j < evs.length; j++) {
        const v = evs[j]!(i);
        if (v === null) return null;
        vs[j] = v;
      }
      return f(...vs);
    };
  }
  return fold({ type, eval: ev, constant: k });
}

export function nullableOf(args: Compiled[]): boolean {
  return args.some((a) => a.type.nullable);
}

export function constantArg(name: string, c: Compiled, scope: Scope, node: AstNode, what: string): unknown {
  if (!c.constant) throw invalid(`${name}: ${what} must be a constant`, pos(scope, node));
  return c.eval(0);
}

