// The compiled form of a SQL expression and what every part of the compiler shares: the per-batch
// frame, the scope an expression is compiled in, constant folding, and the per-row failure.
// compile.ts dispatches over the syntax tree; operators, functions and casts build on this file.

import type { SqlType } from '../../schema/sql-types.js';
import type { SessionZone } from '../time.js';
import { invalid, positionAt, type AstNode, type SqlPosition } from './parse.js';
import { typeName, type ExprType } from './types.js';

/** Per-batch state the compiled closures read. */
export interface Frame {
  /** One array per source field, as the JSON decoder produced them. */
  cols: unknown[][];
  /** CURRENT_TIMESTAMP for this batch, µs since the epoch: evaluated once per batch, not per row. */
  nowMicros: number;
  zone: SessionZone;
}

export type Eval = (i: number) => unknown;

export interface Compiled {
  type: ExprType;
  eval: Eval;
  /** Same value for every row of every batch: the compiler may fold it. */
  constant: boolean;
  /** Set when the expression is a bare reference to source column `column`. */
  column?: number;
}

/** A per-row failure (a CAST of bad text, division by zero): the record becomes a dead letter. */
export class ExpressionError extends Error {}

export interface Scope {
  sql: string;
  table: string;
  fields: ReadonlyArray<{ name: string; type: SqlType }>;
  frame: Frame;
  /**
   * Compiles a sub-expression in this scope (compile.ts's compileExpr). Operators recurse
   * through it, so they need not import the compiler that dispatches to them.
   */
  compile(node: AstNode): Compiled;
}

export function pos(scope: Scope, node: AstNode): SqlPosition | null {
  const off = node.loc?.start?.offset;
  return typeof off === 'number' ? positionAt(scope.sql, off) : null;
}

export function constant(type: ExprType, value: unknown): Compiled {
  return { type, eval: () => value, constant: true };
}

/** Folds a node whose inputs are all constant; a failure is left to each row. */
export function fold(c: Compiled): Compiled {
  if (!c.constant) return c;
  try {
    return constant(c.type, c.eval(0));
  } catch {
    return c;
  }
}

export function requireBoolean(c: Compiled, scope: Scope, what: string): void {
  if (c.type.kind !== 'boolean' && c.type.kind !== 'null') throw invalid(`${what} must be BOOLEAN, found ${typeName(c.type)}`);
}
