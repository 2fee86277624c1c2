// Flink syntax the node-sql-parser FlinkSQL grammar does not know, respelled before parsing as
// calls it does know:
//
//   TIMESTAMPADD(HOUR, n, ts)   → TIMESTAMPADD_HOUR(n, ts)      (same for TIMESTAMPDIFF)
//   FLOOR(ts TO HOUR)           → FLOOR(ts,'#HOUR')             (same for CEIL / CEILING)
//   POSITION(a IN b)            → POSITION(a,   b)              (the grammar takes a literal `a` only)
//   SUBSTRING(s FROM n)         → SUBSTRING(s,   n)             (the grammar wants FOR after FROM)
//   x IS [NOT] UNKNOWN          → x IS [NOT] NULL               (the same test on a BOOLEAN)
//   LOCALTIMESTAMP              → LOCALTIMESTAMP()              (the grammar wants the parentheses)
//   x BETWEEN SYMMETRIC a AND b → x BETWEEN SYM__(    a) AND b  (the grammar knows neither
//                                 SYMMETRIC nor ASYMMETRIC; ASYMMETRIC is the plain form)
//   JSON_VALUE(j, p RETURNING INT DEFAULT 0 ON EMPTY)
//                               → JSON_VALUE(j, p,'#JSON:RETURNING INT','#JSON:DEFAULT ON EMPTY',0)
//                                 (every JSON clause: RETURNING, … ON EMPTY / ERROR, WRAPPER)
//   INTERVAL '1-2' YEAR TO MONTH
//                               → INTERVAL 'YEAR_MONTH 1-2' YEAR  (the grammar takes one unit)
//   ARRAY[a, b] / MAP[k, v]     → ARRAY(a, b) / MAP(k, v)
//   arr[i + 1]                  → SUBSCRIPT__(arr, i + 1)       (the grammar takes a literal in [ ] only)
//   arr[1].x                    → SUBSCRIPT__(arr, 1, 'x')      (nor a field after [ ])
//   p.q.r                       → p.`q.r`                       (a ROW field path past two parts)
//
// The compiler reads them back: functionName `TIMESTAMPADD_<unit>`, a `#UNIT` string constant
// (the marker convention of compileArgs), `#JSON:` clause constants, and a dotted column name.
// Most keep the text's length; a field path and a JSON clause may grow it, so the parser's
// offsets are mapped back through `original` (hazard: an offset used unmapped would point past
// the user's text).

/** Time units of TIMESTAMPADD, TIMESTAMPDIFF and FLOOR / CEIL … TO (Flink's TimeUnit names). */
export const TIME_UNITS = ['MICROSECOND', 'MILLISECOND', 'SECOND', 'MINUTE', 'HOUR', 'DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR'] as const;


/** The SQL with string literals, quoted identifiers and comments blanked, for keyword searches. */
export function maskLiterals(sql: string, fill = ' '): string {
  return sql.replace(/'(?:[^']|'')*'|`[^`]*`|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?\*\//g, (m) => fill.repeat(m.length));
}

/** Maps an offset in one respelling's output to its input. */
type OffsetMap = (offset: number) => number;

/**
 * Replaces each match of `re` in the masked SQL by `to(match, text)`, padded with blanks to its
 * length; `text` is the match as written (the match itself has its literals masked).
 */
function respell(sql: string, re: RegExp, to: (m: RegExpExecArray, text: string) => string | null, back?: OffsetMap[]): string {
  // Masked with a character no pattern here matches, so a literal never reads as blanks or a name.
  const masked = maskLiterals(sql, '\u0001');
  const g = new RegExp(re.source, (re.flags.includes('g') ? re.flags : re.flags + 'g') + 'd');
  let out = '';
  let last = 0;
  const grown: Array<{ end: number; by: number }> = [];
  for (let m = g.exec(masked); m !== null; m = g.exec(masked)) {
    const replacement = to(m, sql.slice(m.index, m.index + m[0].length));
    if (replacement === null || (replacement.length > m[0].length && back === undefined)) continue;
    out += sql.slice(last, m.index) + replacement.padEnd(m[0].length, ' ');
    last = m.index + m[0].length;
    // Where this replacement ends in the output, and how much longer it is than what it replaced.
    if (replacement.length > m[0].length) grown.push({ end: out.length, by: replacement.length - m[0].length });
  }
  if (grown.length > 0) {
    back!.push((offset) => {
      let moved = 0;
      for (const g of grown) {
        if (offset < g.end) return Math.min(offset - moved, g.end - g.by - moved);
        moved += g.by;
      }
      return offset - moved;
    });
  }
  return out + sql.slice(last);
}

/** A marker of a JSON function clause, as the compiler reads it (json-functions.ts). */
export const JSON_CLAUSE = '#JSON:';

/**
 * RETURNING, ON EMPTY / ON ERROR and WRAPPER clauses of JSON_VALUE, JSON_QUERY and JSON_EXISTS
 * as extra constant arguments. A DEFAULT is taken as a literal (number, string, TRUE / FALSE).
 */
function respellJsonClauses(sql: string, back: OffsetMap[]): string {
  const clause = (text: string) => `,'${JSON_CLAUSE}${text.replace(/\s+/g, ' ').toUpperCase()}'`;
  const clauses = new RegExp(
    [
      String.raw`\s+RETURNING\s+([A-Za-z_]+(?:\s*\(\s*\d+(?:\s*,\s*\d+)?\s*\))?)`,
      String.raw`\s+(NULL|ERROR|TRUE|FALSE|UNKNOWN|EMPTY\s+ARRAY|EMPTY\s+OBJECT)\s+ON\s+(EMPTY|ERROR)\b`,
      String.raw`\s+DEFAULT\s+(\x01+|[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|TRUE|FALSE)\s+ON\s+(EMPTY|ERROR)\b`,
      String.raw`\s+(WITH(?:OUT)?(?:\s+(?:CONDITIONAL|UNCONDITIONAL))?(?:\s+ARRAY)?\s+WRAPPER)\b`,
    ].join('|'),
    'i',
  );
  return respell(sql, clauses, (m, text) => {
    if (m[1] !== undefined) return clause(`RETURNING ${m[1]}`);
    if (m[2] !== undefined) return clause(`${m[2]} ON ${m[3]}`);
    if (m[4] !== undefined) {
      const [from, to] = m.indices![4]!;
      return `${clause(`DEFAULT ON ${m[5]}`)},${text.slice(from - m.index, to - m.index)}`;
    }
    return clause(m[6]!);
  }, back);
}

/** The marker function around a BETWEEN SYMMETRIC lower bound, as operators.ts reads it. */
export const SYMMETRIC_MARK = 'SYM__';

/**
 * BETWEEN [A]SYMMETRIC. The lower bound runs to the first AND outside parentheses (an AND inside
 * a bound needs them in Flink too); its text keeps its offsets, only the `)` after it grows the SQL.
 */
function respellBetweenSymmetric(sql: string, back: OffsetMap[]): string {
  const out = respell(sql, /\bBETWEEN\s+ASYMMETRIC\b/i, () => 'BETWEEN');
  const bound = String.raw`((?:[^()]|\((?:[^()]|\([^()]*\))*\))*?)`;
  return respell(out, new RegExp(String.raw`(\bBETWEEN\s+SYMMETRIC\s+)` + bound + String.raw`(\s+AND\b)`, 'i'), (m, text) => {
    const low = text.slice(m[1]!.length, m[1]!.length + m[2]!.length);
    return `BETWEEN ${SYMMETRIC_MARK}(`.padEnd(m[1]!.length, ' ') + low + ') AND';
  }, back);
}

const UNIT = `(?:SQL_TSI_)?(${TIME_UNITS.join('|')})`;

export interface Respelled {
  sql: string;
  /** The offset in the user's SQL of an offset in the respelled text. */
  original(offset: number): number;
}

/**
 * ARRAY[…] and MAP[…] become ARRAY(…) and MAP(…), same length: the brackets are matched on the
 * masked text, so a bracket inside a literal is never taken for one.
 */
function respellConstructors(sql: string): string {
  const masked = maskLiterals(sql, '\u0001');
  const chars = sql.split('');
  for (const m of masked.matchAll(/\b(ARRAY|MAP)\s*\[/gi)) {
    const open = m.index + m[0].length - 1;
    let depth = 0;
    for (let k = open; k < masked.length; k++) {
      if (masked[k] === '[') depth++;
      else if (masked[k] === ']' && --depth === 0) {
        chars[open] = '(';
        chars[k] = ')';
        break;
      }
    }
  }
  return chars.join('');
}

export function respellKeywordForms(sql: string): Respelled {
  const back: OffsetMap[] = [];
  let out = respell(sql, new RegExp(`\\b(TIMESTAMPADD|TIMESTAMPDIFF)\\s*\\(\\s*${UNIT}\\s*,`, 'i'), (m) => `${m[1]!.toUpperCase()}_${m[2]!.toUpperCase()}(`);
  // `x TO unit )` only occurs in FLOOR / CEIL among the forms a SELECT item can take.
  out = respell(out, new RegExp(`\\s+TO\\s+${UNIT}\\s*\\)`, 'i'), (m) => `,'#${m[1]!.toUpperCase()}'`.padEnd(m[0].length - 1, ' ') + ')');
  out = respell(out, /(\bPOSITION\s*\([^()]*?)\s+IN\s+/i, (m, text) => `${text.slice(0, m[1]!.length)},`);
  out = respell(out, /(\bSUBSTRING\s*\([^()]*?)\s+FROM\s+(?=[^()]*\)(?![^()]*\bFOR\b))(?![^()]*\bFOR\b)/i, (m, text) => `${text.slice(0, m[1]!.length)},`);
  out = respell(out, /\bIS\s+(NOT\s+)?UNKNOWN\b/i, (m) => `IS ${m[1] === undefined ? '' : 'NOT '}NULL`);
  out = respell(out, /\bLOCALTIMESTAMP\b(?!\s*\()/i, () => 'LOCALTIMESTAMP()', back);
  out = respellBetweenSymmetric(out, back);
  out = respellJsonClauses(out, back);
  // INTERVAL '1-2' YEAR TO MONTH: the range goes inside the literal, read by interval-arithmetic.ts.
  out = respell(out, /\bINTERVAL\s+(\u0001+)\s+(YEAR|DAY|HOUR|MINUTE)\s+TO\s+(MONTH|HOUR|MINUTE|SECOND)\b/i, (m, text) => {
    const literal = /'([^']*)'/.exec(text)![1]!;
    return `INTERVAL '${m[2]!.toUpperCase()}_${m[3]!.toUpperCase()} ${literal}' ${m[2]!.toUpperCase()}`;
  }, back);
  out = respellConstructors(out);
  // arr[i], m[s]: a subscript that is not a literal, innermost first (`arr[m[s]]` takes two
  // rounds); and a field of an element, `arr[1].x.y`, whatever the subscript, its path kept as a
  // string constant (SUBSCRIPT__(arr, 1, 'x.y')).
  for (let round = 0; round < 4; round++) {
    const before = out;
    out = respell(out, /(?<![\w$.`])([A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)*)\s*\[([^[\]]*)\]((?:\s*\.\s*[A-Za-z_][\w$]*)*)/, (m, text) => {
      const path = m[3]!.replace(/\s+/g, '');
      if (path === '' && /^\s*(\u0001+|[-+]?\d+)\s*$/.test(m[2]!)) return null;
      const open = m[0].indexOf('[');
      const close = m[0].length - m[3]!.length - 1;
      return `SUBSCRIPT__(${text.slice(0, m[1]!.length)}, ${text.slice(open + 1, close)}${path === '' ? '' : `, '${path.slice(1)}'`})`;
    }, back);
    if (out === before) break;
  }
  // a.b.c(.d…) of plain names, not after a dot or a name character (so not inside a number); a
  // catalog.db.table name after FROM stays as it is.
  out = respell(out, /(?<!\bFROM\s+)(?<![\w$.`])([A-Za-z_][\w$]*)\.([A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)+)(?![\w$`(])/i, (m) => `${m[1]}.\`${m[2]}\``, back);
  return { sql: out, original: (offset) => back.reduceRight((o, map) => map(o), offset) };
}
