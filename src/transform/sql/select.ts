// A parsed SELECT → compiled select items and WHERE condition over the source fields.

import type { SqlType } from '../../schema/sql-types.js';
import { compileExpr } from './compile.js';
import { requireBoolean, type Compiled, type Frame, type Scope } from './expression.js';
import { parseSelect } from './parse.js';

export interface CompiledItem {
  name: string;
  expr: Compiled;
}

export interface CompiledSelect {
  items: CompiledItem[];
  where: Compiled | null;
}

export function compileSelect(
  sql: string,
  sourceTables: readonly string[],
  fields: ReadonlyArray<{ name: string; type: SqlType }>,
  frame: Frame,
): CompiledSelect {
  const plan = parseSelect(sql, sourceTables);
  const scope: Scope = { sql, table: plan.fromTable, fields, frame, compile: (node) => compileExpr(node, scope) };
  const items: CompiledItem[] = [];
  plan.items.forEach((item, k) => {
    if (item.expr.type === 'column_ref' && item.expr.column === '*') {
      fields.forEach((f, index) => items.push({ name: f.name, expr: { type: f.type, eval: (i) => frame.cols[index]![i], constant: false, column: index } }));
      return;
    }
    const expr = compileExpr(item.expr, scope);
    // Flink names an unaliased column reference after the column and anything else EXPR$<n>.
    const name = item.alias ?? (item.expr.type === 'column_ref' ? String(item.expr.column) : `EXPR$${k}`);
    items.push({ name, expr });
  });
  let where: Compiled | null = null;
  if (plan.where !== null) {
    where = compileExpr(plan.where, scope);
    requireBoolean(where, scope, 'the WHERE condition');
  }
  return { items, where };
}
