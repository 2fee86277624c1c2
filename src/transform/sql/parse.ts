// A transformer's SQL → the parts this runtime can run: a projection list and an optional WHERE
// over one source table. Parsing is node-sql-parser's FlinkSQL grammar; everything that needs
// state across records (joins, aggregates, windows, DISTINCT, ORDER BY, LIMIT) or another query
// (subqueries, CTEs, set operations) is refused here, naming the construct and where it is.

// The FlinkSQL grammar alone: the package's main entry loads every dialect's grammar, 10.8 MB of
// V8 heap in each thread that compiles a transformation, against 1.5 MB for this one.
import flinkSqlParser from 'node-sql-parser/build/flinksql.js';
import { StreamError } from '../../errors.js';
import { maskLiterals, respellKeywordForms } from './keyword-forms.js';

const { Parser } = flinkSqlParser;

/** The node-sql-parser AST is untyped JSON; the compiler reads it by its `type` fields. */
export type AstNode = { type?: string; [key: string]: any };

export interface SelectItem {
  expr: AstNode;
  alias: string | null;
}

export interface SelectPlan {
  sql: string;
  items: SelectItem[];
  where: AstNode | null;
  fromTable: string;
}

export interface SqlPosition {
  offset: number;
  line: number;
  column: number;
}

export function positionAt(sql: string, offset: number): SqlPosition {
  const before = sql.slice(0, offset);
  const line = before.split('\n').length;
  return { offset, line, column: offset - before.lastIndexOf('\n') };
}

function find(sql: string, pattern: RegExp): SqlPosition | null {
  const m = new RegExp(pattern.source, 'gi').exec(maskLiterals(sql));
  return m === null ? null : positionAt(sql, m.index);
}

function at(p: SqlPosition | null): string {
  return p === null ? '' : ` at line ${p.line}, column ${p.column}`;
}

const STATELESS = 'a transformation runs on one record at a time, without state or other queries';

export function unsupported(construct: string, where: SqlPosition | null, reason = STATELESS): StreamError {
  return new StreamError('SQL_UNSUPPORTED', `${construct}${at(where)} is not supported: ${reason}`, {
    details: { construct, ...(where === null ? {} : { line: where.line, column: where.column, offset: where.offset }) },
  });
}

export function invalid(message: string, where: SqlPosition | null = null): StreamError {
  return new StreamError('SQL_INVALID', `${message}${at(where)}`, {
    details: where === null ? {} : { line: where.line, column: where.column, offset: where.offset },
  });
}

const WINDOW_FUNCTIONS = /^(TUMBLE|HOP|SESSION|CUMULATE)(_START|_END|_ROWTIME|_PROCTIME)?$/i;
const parser = new Parser();

const UNPARSED_CONSTRUCTS: ReadonlyArray<[string, RegExp]> = [
  ['OVER window', /\bOVER\s*\(/],
  ['MATCH_RECOGNIZE', /\bMATCH_RECOGNIZE\b/],
  ['window table function', /\b(TUMBLE|HOP|SESSION|CUMULATE)\s*\(/],
  ['UNNEST', /\bUNNEST\s*\(/],
  ['LATERAL TABLE', /\bLATERAL\b/],
  ['JOIN', /\bJOIN\b/],
  ['GROUP BY', /\bGROUP\s+BY\b/],
];

/**
 * Types the node-sql-parser FlinkSQL grammar does not take inside CAST are spelled as a type it
 * does take and Flink does not have, and mapped back by the compiler.
 */
export const LTZ_SURROGATE = 'DATETIME';
/** BYTES, spelled as a type of the same length that the grammar takes inside CAST. */
export const BYTES_SURROGATE = 'JSONB';

function rewriteCastTypes(sql: string): string {
  const masked = maskLiterals(sql);
  const re = /\bAS\s+(TIMESTAMP_LTZ\s*(\(\s*\d+\s*\))?|TIMESTAMP\s*(\(\s*\d+\s*\))?\s+WITH\s+LOCAL\s+TIME\s+ZONE)/gi;
  let out = '';
  let last = 0;
  for (let m = re.exec(masked); m !== null; m = re.exec(masked)) {
    const precision = m[2] ?? m[3] ?? '';
    // Padded to the original length so parser offsets still point into the SQL as written.
    const replacement = `AS ${LTZ_SURROGATE}${precision.replace(/\s+/g, '')}`;
    out += sql.slice(last, m.index) + replacement.padEnd(m[0].length, ' ');
    last = m.index + m[0].length;
  }
  out += sql.slice(last);
  // `AS BYTES` and `AS JSONB` are the same length, so no offset moves.
  const bytes = /\bAS\s+BYTES\b/gi;
  const maskedOut = maskLiterals(out);
  let result = '';
  last = 0;
  for (let m = bytes.exec(maskedOut); m !== null; m = bytes.exec(maskedOut)) {
    result += out.slice(last, m.index) + `AS ${BYTES_SURROGATE}`.padEnd(m[0].length, ' ');
    last = m.index + m[0].length;
  }
  return result + out.slice(last);
}

export function parseSelect(sql: string, sourceTables: readonly string[]): SelectPlan {
  for (const surrogate of [LTZ_SURROGATE, BYTES_SURROGATE]) {
    if (new RegExp(`\\b${surrogate}\\b`, 'i').test(maskLiterals(sql))) {
      throw invalid(`${surrogate} is not a Flink SQL type`, find(sql, new RegExp(`\\b${surrogate}\\b`)));
    }
  }
  let ast: AstNode | AstNode[];
  const respelled = respellKeywordForms(rewriteCastTypes(sql));
  try {
    ast = parser.astify(respelled.sql, { database: 'FlinkSQL', parseOptions: { includeLocations: true } } as any) as any;
    mapLocations(ast, respelled.original);
  } catch (e) {
    // The grammar does not know every stateful construct; name the ones it fails on.
    for (const [construct, re] of UNPARSED_CONSTRUCTS) {
      const where = find(sql, re);
      if (where !== null) throw unsupported(construct, where);
    }
    const loc = (e as { location?: { start?: { offset: number } } }).location?.start;
    throw invalid(
      `cannot parse the transformation SQL (a name that is also a keyword, such as \`dec\` or \`timestamp\`, needs backticks): ${(e as Error).message}`,
      loc === undefined ? null : positionAt(sql, respelled.original(loc.offset)),
    );
  }
  if (Array.isArray(ast)) {
    if (ast.length !== 1) throw invalid(`expected one SELECT statement, found ${ast.length}`);
    ast = ast[0]!;
  }
  if (ast.type !== 'select') throw unsupported(`${String(ast.type).toUpperCase()} statement`, find(sql, /\S/), 'the transformation must be a SELECT');
  if (ast.with) throw unsupported('WITH (common table expression)', find(sql, /\bWITH\b/));
  if (ast._next) throw unsupported(String(ast.set_op ?? 'set operation').toUpperCase(), find(sql, /\b(UNION|INTERSECT|EXCEPT|MINUS)\b/));
  if (ast.distinct) throw unsupported('SELECT DISTINCT', find(sql, /\bDISTINCT\b/));
  if (ast.groupby) {
    const windowed = JSON.stringify(ast.groupby).match(/"value":"(TUMBLE|HOP|SESSION|CUMULATE)"/i);
    if (windowed) throw unsupported(`window ${windowed[1]!.toUpperCase()}`, find(sql, new RegExp(`\\b${windowed[1]}\\s*\\(`)));
    throw unsupported('GROUP BY', find(sql, /\bGROUP\s+BY\b/));
  }
  if (ast.having) throw unsupported('HAVING', find(sql, /\bHAVING\b/));
  if (ast.orderby) throw unsupported('ORDER BY', find(sql, /\bORDER\s+BY\b/));
  if (ast.limit && Array.isArray(ast.limit.value) && ast.limit.value.length > 0) throw unsupported('LIMIT', find(sql, /\b(LIMIT|FETCH)\b/));

  const from = (ast.from ?? []) as AstNode[];
  if (from.length === 0) throw invalid('the SELECT has no FROM clause; it must read the source table');
  for (const f of from) {
    if (f.join) throw unsupported(String(f.join).toUpperCase(), find(sql, /\bJOIN\b/));
  }
  if (from.length > 1) throw unsupported('JOIN (comma-separated FROM)', find(sql, /\bFROM\b[^,]*,/));
  const src = from[0]!;
  if (src.expr?.ast || src.expr?.type === 'select') throw unsupported('subquery in FROM', find(sql, /\(\s*SELECT\b/));
  if (src.expr || src.type) {
    const windowAt = find(sql, /\b(TUMBLE|HOP|SESSION|CUMULATE)\s*\(/);
    if (windowAt !== null) throw unsupported('window table function', windowAt);
    throw unsupported('table function in FROM', find(sql, /\bFROM\b/));
  }
  const table = String(src.table);
  const qualified = [src.db, table].filter((x) => x !== null && x !== undefined && x !== '').join('.');
  // A catalog/database qualifier is accepted as written; only the table name must be the source's.
  if (!sourceTables.some((t) => t === table || t === qualified)) {
    throw invalid(`FROM reads ${qualified}; the transformation can only read its source table ${sourceTables[0]}`, find(sql, /\bFROM\b/));
  }

  const items: SelectItem[] = (ast.columns as AstNode[]).map((c) => ({ expr: c.expr as AstNode, alias: (c.as as string | null) ?? null }));
  const where = (ast.where as AstNode | null) ?? null;
  for (const item of items) checkExpression(sql, item.expr);
  if (where !== null) checkExpression(sql, where);
  return { sql, items, where, fromTable: table };
}

/** Brings every `loc` offset of the tree back to the SQL as the user wrote it. */
function mapLocations(node: unknown, original: (offset: number) => number): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const n of node) mapLocations(n, original);
    return;
  }
  for (const [k, v] of Object.entries(node as AstNode)) {
    if (k === 'loc' && v !== null && typeof v === 'object') {
      for (const end of [v.start, v.end]) if (end && typeof end.offset === 'number') end.offset = original(end.offset);
    } else mapLocations(v, original);
  }
}

/** Refuses aggregates, window and OVER functions, and subqueries anywhere inside an expression. */
function checkExpression(sql: string, node: unknown): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const n of node) checkExpression(sql, n);
    return;
  }
  const n = node as AstNode;
  const pos = n.loc?.start ? positionAt(sql, n.loc.start.offset as number) : null;
  if (n.ast || n.type === 'select' || (n.tableList && n.columnList)) throw unsupported('subquery', find(sql, /\(\s*SELECT\b/));
  if (n.type === 'aggr_func') {
    const name = String(n.name).toUpperCase();
    throw unsupported(`aggregate ${name}`, pos ?? find(sql, new RegExp(`\\b${name}\\s*\\(`)));
  }
  if (n.type === 'function') {
    const name = functionName(n);
    if (WINDOW_FUNCTIONS.test(name)) throw unsupported(`window function ${name}`, pos);
    if (n.over) throw unsupported(`OVER window on ${name}`, pos);
  }
  for (const [k, v] of Object.entries(n)) if (k !== 'loc') checkExpression(sql, v);
}

export function functionName(n: AstNode): string {
  const parts = (n.name?.name ?? []) as Array<{ value: string }>;
  return parts.map((p) => p.value).join('.').toUpperCase();
}
