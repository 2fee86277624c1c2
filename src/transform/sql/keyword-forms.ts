// Flink syntax the node-sql-parser FlinkSQL grammar does not know, respelled before parsing as
// calls it does know. Every respelling keeps the text's length, so the parser's offsets still
// point into the SQL as the user wrote it (error positions stay true):
//
//   TIMESTAMPADD(HOUR, n, ts)   → TIMESTAMPADD_HOUR(n, ts)      (same for TIMESTAMPDIFF)
//   FLOOR(ts TO HOUR)           → FLOOR(ts,'#HOUR')             (same for CEIL / CEILING)
//   p.q.r                       → p.q<FIELD_PATH_MARK>r         (a ROW field path past two parts)
//
// The compiler reads them back: functionName `TIMESTAMPADD_<unit>`, a `#UNIT` string constant
// (the marker convention of compileArgs), and FIELD_PATH_MARK inside a column name.

/** Time units of TIMESTAMPADD, TIMESTAMPDIFF and FLOOR / CEIL … TO (Flink's TimeUnit names). */
export const TIME_UNITS = ['MICROSECOND', 'MILLISECOND', 'SECOND', 'MINUTE', 'HOUR', 'DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR'] as const;

/**
 * Joins the parts of a dotted field path inside one identifier. U+017F (ſ) is a letter the
 * grammar takes in names, one UTF-16 unit like the dot it replaces; SQL holding it already is
 * left as written (hazard: such a name would be split).
 */
export const FIELD_PATH_MARK = '\u017f';

/** The SQL with string literals, quoted identifiers and comments blanked, for keyword searches. */
export function maskLiterals(sql: string): string {
  return sql.replace(/'(?:[^']|'')*'|`[^`]*`|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?\*\//g, (m) => ' '.repeat(m.length));
}

/** Replaces each match of `re` in the masked SQL by `to(match)`, padded with blanks to its length. */
function respell(sql: string, re: RegExp, to: (m: RegExpExecArray) => string | null): string {
  const masked = maskLiterals(sql);
  const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
  let out = '';
  let last = 0;
  for (let m = g.exec(masked); m !== null; m = g.exec(masked)) {
    const replacement = to(m);
    if (replacement === null || replacement.length > m[0].length) continue;
    out += sql.slice(last, m.index) + replacement.padEnd(m[0].length, ' ');
    last = m.index + m[0].length;
  }
  return out + sql.slice(last);
}

const UNIT = `(?:SQL_TSI_)?(${TIME_UNITS.join('|')})`;

export function respellKeywordForms(sql: string): string {
  let out = respell(sql, new RegExp(`\\b(TIMESTAMPADD|TIMESTAMPDIFF)\\s*\\(\\s*${UNIT}\\s*,`, 'i'), (m) => `${m[1]!.toUpperCase()}_${m[2]!.toUpperCase()}(`);
  // `x TO unit )` only occurs in FLOOR / CEIL among the forms a SELECT item can take.
  out = respell(out, new RegExp(`\\s+TO\\s+${UNIT}\\s*\\)`, 'i'), (m) => `,'#${m[1]!.toUpperCase()}'`.padEnd(m[0].length - 1, ' ') + ')');
  if (!out.includes(FIELD_PATH_MARK)) {
    // a.b.c(.d…) of plain names, not after a dot or a name character (so not inside a number).
    // A catalog.db.table name after FROM stays as it is.
    out = respell(out, /(?<!\bFROM\s+)(?<![\w$.])([A-Za-z_][\w$]*)\.([A-Za-z_][\w$]*)((?:\.[A-Za-z_][\w$]*)+)/i, (m) => `${m[1]}.${m[2]}${m[3]!.replaceAll('.', FIELD_PATH_MARK)}`);
  }
  return out;
}
