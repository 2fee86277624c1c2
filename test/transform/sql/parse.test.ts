import { describe, expect, it } from 'vitest';
import { StreamError } from '../../../src/errors.js';
import { parseSelect } from '../../../src/transform/sql/parse.js';

function refusal(sql: string): StreamError {
  try {
    parseSelect(sql, ['src']);
  } catch (e) {
    if (e instanceof StreamError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('unsupported SQL is refused with the construct and its position', () => {
  it.each([
    ['SELECT a FROM src JOIN other ON src.id = other.id', 'JOIN', 1, 19],
    ['SELECT a FROM src LEFT JOIN other ON src.id = other.id', 'LEFT JOIN', 1, 24],
    ['SELECT a, COUNT(*) AS n FROM src\nGROUP BY a', 'GROUP BY', 2, 1],
    ['SELECT COUNT(*) FROM src', 'aggregate COUNT', 1, 8],
    ['SELECT a FROM src WHERE a > 1 HAVING a > 2', 'HAVING', 1, 31],
    ['SELECT a, SUM(b) FROM src', 'aggregate SUM', 1, 11],
    ['SELECT TUMBLE_START(ts, INTERVAL \'1\' MINUTE) AS w FROM src GROUP BY TUMBLE(ts, INTERVAL \'1\' MINUTE)', 'window TUMBLE', 1, 69],
    ['SELECT ROW_NUMBER() OVER (PARTITION BY a ORDER BY b) AS r FROM src', 'OVER window', 1, 21],
    ['SELECT a FROM (SELECT a FROM src)', 'subquery in FROM', 1, 15],
    ['SELECT a FROM src WHERE a IN (SELECT b FROM other)', 'subquery', 1, 30],
    ['SELECT DISTINCT a FROM src', 'SELECT DISTINCT', 1, 8],
    ['SELECT a FROM src ORDER BY a', 'ORDER BY', 1, 19],
    ['SELECT a FROM src LIMIT 3', 'LIMIT', 1, 19],
    ['SELECT a FROM src UNION ALL SELECT a FROM src', 'UNION ALL', 1, 19],
    ['WITH x AS (SELECT a FROM src) SELECT a FROM x', 'WITH (common table expression)', 1, 1],
    ["SELECT a FROM TABLE(TUMBLE(TABLE src, DESCRIPTOR(ts), INTERVAL '1' MINUTES))", 'window table function', 1, 21],
    ['SELECT a FROM src CROSS JOIN UNNEST(tags) AS t(tag)', 'UNNEST', 1, 30],
    ['SELECT a FROM src, LATERAL TABLE(f(a))', 'LATERAL TABLE', 1, 20],
  ])('%s → %s', (sql, construct, line, column) => {
    const e = refusal(sql);
    expect(e.code).toBe('SQL_UNSUPPORTED');
    expect(e.details.construct).toBe(construct);
    expect(e.message).toContain(`${construct} at line ${line}, column ${column} is not supported`);
  });

  it('reports syntax errors as SQL_INVALID with a position', () => {
    const e = refusal('SELECT a FROM src WHERE (a >');
    expect(e.code).toBe('SQL_INVALID');
    expect(e.message).toMatch(/cannot parse the transformation SQL .*: .* at line 1, column \d+/);
  });

  it('requires the source table in FROM', () => {
    const e = refusal('SELECT a FROM elsewhere');
    expect(e.code).toBe('SQL_INVALID');
    expect(e.message).toMatch(/FROM reads elsewhere; the transformation can only read its source table src/);
  });

  it('ignores keywords inside string literals and quoted names when locating constructs', () => {
    const e = refusal("SELECT 'JOIN' AS `GROUP BY`, a FROM src JOIN b ON 1 = 1");
    expect(e.message).toContain('JOIN at line 1, column 41');
  });

  it('keeps parser positions right after a rewritten CAST type', () => {
    const plan = parseSelect('SELECT CAST(x AS TIMESTAMP_LTZ(3)) AS y, LOWER(z) AS w FROM src', ['src']);
    expect(plan.items[1]!.expr.loc.start.offset).toBe(41);
  });

  it("accepts the PyFlink job's SQL shapes", () => {
    const plan = parseSelect('SELECT `a`, b AS c FROM default_catalog.default_database.src WHERE b > 100', ['src', 'default_catalog.default_database.src']);
    expect(plan.items.map((i) => i.alias)).toEqual([null, 'c']);
    expect(plan.where).not.toBeNull();
  });
});
