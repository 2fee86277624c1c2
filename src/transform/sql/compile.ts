// SQL expressions → closures over the decoded columns, compiled once per pipeline. Each compiled
// node knows its static type; evaluation is per row (`eval(i)`), which keeps Flink's lazy
// semantics where they matter: a CASE branch or the right side of AND is only evaluated for rows
// that reach it, so a CAST that would fail in an untaken branch does not dead-letter the record.
//
// NULL semantics follow Flink (SQL three-valued logic): comparisons and arithmetic with NULL are
// NULL, AND/OR use Kleene logic, WHERE keeps only rows whose condition is TRUE.

import type { SqlType } from '../../schema/sql-types.js';
import { parseSqlType } from '../../schema/sql-types.js';
import { parseDateText, parseTimestampText } from '../time.js';
import { castTo } from './cast.js';
import { parseDecimalText } from '../decimal.js';
import { compileFunction } from './functions.js';
import { fieldPath, subscript } from './collection-access.js';
import { constant, fold, pos, type Compiled, type Scope } from './expression.js';
import { binary, caseWhen, not, unary } from './operators.js';
import { BYTES_SURROGATE, LTZ_SURROGATE, functionName, invalid, positionAt, unsupported, type AstNode } from './parse.js';
import {
  NULL_TYPE,
  decimalType,
  ltzType,
  simple,
  timestampType,
} from './types.js';

function unquote(s: string): string {
  return s.replace(/''/g, "'");
}

export function compileExpr(node: AstNode, scope: Scope): Compiled {
  switch (node.type) {
    case 'column_ref':
      return columnRef(node, scope);
    case 'number':
    case 'bigint':
      return numberLiteral(node.value);
    case 'single_quote_string':
    case 'double_quote_string':
    case 'string':
      return constant(simple('string', false), unquote(String(node.value)));
    case 'bool':
      return constant(simple('boolean', false), Boolean(node.value));
    case 'null':
      return constant(NULL_TYPE, null);
    case 'date': {
      const d = parseDateText(unquote(String(node.value)));
      if (d === null) throw invalid(`invalid DATE literal '${node.value}'`);
      return constant(simple('date', false), d);
    }
    case 'timestamp':
    case 'datetime': {
      const text = unquote(String(node.value));
      const t = parseTimestampText(text);
      if (t === null) throw invalid(`invalid TIMESTAMP literal '${text}'`);
      const frac = /\.(\d+)/.exec(text)?.[1]?.length ?? 0;
      return constant(timestampType(Math.max(frac, 0), false), t);
    }
    case 'interval':
      // Only `time ± INTERVAL …` is compiled (operators.ts): no sink column holds an interval.
      throw unsupported(`INTERVAL '${String(node.expr?.value ?? '')}' ${String(node.unit ?? '').toUpperCase().replace('_', ' TO ')} outside \`time + INTERVAL …\` / \`time - INTERVAL …\``, pos(scope, node), 'an interval is only added to or subtracted from a TIMESTAMP, TIMESTAMP_LTZ or DATE; write the multiple as its own literal (INTERVAL \'2\' HOUR, not INTERVAL \'1\' HOUR * 2)');
    case 'unary_expr':
      return unary(node, scope);
    case 'binary_expr':
      return binary(node, scope);
    case 'case':
      return caseWhen(node, scope);
    case 'cast':
      return cast(node, scope);
    case 'extract':
      return compileFunction('EXTRACT', [constant(simple('string', false), String(node.args.field).toUpperCase()), compileExpr(node.args.source, scope)], scope, node);
    case 'function': {
      const name = functionName(node);
      if (name === 'NOT') return not(compileExpr(argNodes(node)[0]!, scope), scope, node);
      // TIMESTAMPADD(HOUR, …) as keyword-forms.ts respells it: the unit becomes the first argument.
      const unitForm = /^(TIMESTAMPADD|TIMESTAMPDIFF)_([A-Z]+)$/.exec(name);
      if (unitForm !== null) return compileFunction(unitForm[1]!, [constant(simple('string', false), `#${unitForm[2]!}`), ...compileArgs(node, scope)], scope, node);
      // MOD(a, b) is Flink's `a % b`: one typing, one evaluation (operators.ts).
      if (name === 'MOD') {
        const [left, right, ...rest] = argNodes(node);
        if (left === undefined || right === undefined || rest.length > 0) throw invalid(`MOD takes 2 argument(s), found ${argNodes(node).length}`, pos(scope, node));
        return binary({ ...node, type: 'binary_expr', operator: '%', left, right }, scope);
      }
      // arr[i] with a subscript the grammar cannot hold, or arr[1].x, as keyword-forms.ts respells them.
      if (name === 'SUBSCRIPT__') {
        const [base, index, path] = argNodes(node);
        const shown = base!.type === 'column_ref' ? String(base!.column) : 'the value';
        const element = subscript(compileExpr(base!, scope), compileExpr(index!, scope), shown, scope, node);
        return path === undefined ? element : fieldPath(element, unquote(String(path.value)).split('.'), `${shown}[…]`, scope, node);
      }
      let c = compileFunction(name, compileArgs(node, scope), scope, node);
      // ARRAY[1, 2][2]: a subscript on a call's result.
      for (const step of (node.array_index ?? []) as AstNode[]) c = subscript(c, compileExpr(step.index, scope), name, scope, node);
      return c;
    }
    case 'expr_list':
      throw invalid('a parenthesized list is only allowed after IN');
    default:
      throw unsupported(`expression of kind ${String(node.type)}`, pos(scope, node), 'not implemented');
  }
}

export function argNodes(node: AstNode): AstNode[] {
  return ((node.args?.value ?? []) as AstNode[]);
}

/**
 * Arguments of a function call. The grammar spells keyword-separated forms (`SUBSTRING(s FROM 2
 * FOR 3)`, `TRIM(BOTH 'x' FROM s)`) as a list with `origin` marker nodes; they are kept as
 * string constants for the function to interpret.
 */
function compileArgs(node: AstNode, scope: Scope): Compiled[] {
  return argNodes(node).map((a) => (a.type === 'origin' ? constant(simple('string', false), `#${String(a.value).toUpperCase()}`) : compileExpr(a, scope)));
}

/**
 * A column reference, with what may follow it: `col`, `src.col`, a ROW field path (`p.ts`,
 * `p.q.r`, `src.p.q`) and subscripts (`a[1]`, `m['k']`). The parser reads `p.ts` as table p,
 * column ts: a first part that is not the source table but is a ROW column is a field access,
 * as Flink resolves it (a table name wins where both exist).
 */
function columnRef(node: AstNode, scope: Scope): Compiled {
  // keyword-forms.ts gives `p.q.r` as table p, column `q.r`; a source column really named with
  // a dot is still found by its whole name first.
  const whole = String(node.column);
  const parts = scope.fields.some((f) => f.name === whole) ? [whole] : whole.split('.');
  const table = node.table ? String(node.table) : null;
  const path = table !== null && table !== scope.table && scope.fields.some((f) => f.name === table) ? [table, ...parts] : parts;
  const name = path[0]!;
  // The parser keeps no location on a column reference: the name's first appearance in the text
  // is where a person would look, which is what an error's line and column are for.
  const found = new RegExp(`(?<![\\w$])\`?${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\`?(?![\\w$])`).exec(scope.sql);
  const where = found === null ? null : positionAt(scope.sql, found.index);
  if (name === '*') throw invalid('* is only allowed as a whole select item');
  if (table !== null && path === parts && table !== scope.table) throw invalid(`column ${table}.${parts.join('.')} names a table other than the source ${scope.table}, and ${table} is not a source column`, where);
  const index = scope.fields.findIndex((f) => f.name === name);
  if (index < 0) {
    const near = scope.fields.find((f) => f.name.toLowerCase() === name.toLowerCase());
    const hint = near === undefined ? `; source columns are ${scope.fields.map((f) => f.name).join(', ')}` : `; did you mean ${near.name}? (names are case-sensitive)`;
    throw invalid(`unknown column ${name}${hint}`, where);
  }
  const frame = scope.frame;
  let c: Compiled = { type: scope.fields[index]!.type, eval: (i) => frame.cols[index]![i], constant: false, column: index };
  if (path.length > 1) c = fieldPath(c, path.slice(1), name, scope, node);
  let shown = path.join('.');
  for (const step of (node.array_index ?? []) as AstNode[]) {
    c = subscript(c, compileExpr(step.index, scope), shown, scope, node);
    shown += '[…]';
  }
  return c;
}

/**
 * A numeric literal by its text, as Flink types it: with an exponent DOUBLE; with a point
 * DECIMAL(digits, fraction digits), held exactly (the parser hands long literals over as text);
 * an integer INT, BIGINT, or beyond BIGINT DECIMAL(digits, 0).
 */
function numberLiteral(value: unknown): Compiled {
  const text = String(value);
  if (/e/i.test(text)) return constant(simple('double', false), Number(text));
  const frac = /\.(\d*)/.exec(text)?.[1];
  const digits = text.replace(/[-+.]/g, '').replace(/^0+(?=\d)/, '').length;
  if (frac !== undefined) {
    const type = decimalType(Math.max(digits, frac.length, 1), frac.length, false);
    return constant(type, parseDecimalText(text, frac.length));
  }
  const n = BigInt(text);
  if (n >= -2147483648n && n <= 2147483647n) return constant(simple('int', false), Number(n));
  if (n >= -(2n ** 63n) && n < 2n ** 63n) return constant(simple('bigint', false), n >= -9007199254740991n && n <= 9007199254740991n ? Number(n) : n);
  if (digits > 38) throw invalid(`the literal ${text} has more than 38 digits`);
  return constant(decimalType(digits, 0, false), n);
}

/** Cast target as the grammar gives it → SqlType. */
function castTarget(target: AstNode, scope: Scope): SqlType {
  const name = String(target.dataType).toUpperCase();
  const args = [target.length, target.scale].filter((x) => x !== undefined && x !== null);
  const params = args.length > 0 ? `(${args.join(', ')})` : '';
  if (name === LTZ_SURROGATE) return ltzType(args.length > 0 ? Number(args[0]) : 6, true);
  if (name === BYTES_SURROGATE) return simple('bytes');
  try {
    return { ...parseSqlType(`${name}${params}`), nullable: true };
  } catch {
    throw unsupported(`CAST to ${name}${params}`, null, 'not a type this runtime can produce');
  }
}

function cast(node: AstNode, scope: Scope): Compiled {
  const target = (node.target as AstNode[])[0]!;
  const to = castTarget(target, scope);
  const from = compileExpr(node.expr, scope);
  return fold(castTo(from, to, scope, String(node.keyword).toLowerCase() === 'try_cast'));
}
