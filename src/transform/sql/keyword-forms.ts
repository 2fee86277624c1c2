// Flink syntax the node-sql-parser FlinkSQL grammar does not know, respelled before parsing as
// calls it does know:
//
//   TIMESTAMPADD(HOUR, n, ts)   → TIMESTAMPADD_HOUR(n, ts)      (same for TIMESTAMPDIFF)
//   FLOOR(ts TO HOUR)           → FLOOR(ts,'#HOUR')             (same for CEIL / CEILING)
//   POSITION(a IN b)            → POSITION(a,   b)              (the grammar takes a literal `a` only)
//   p.q.r                       → p.`q.r`                       (a ROW field path past two parts)
//
// The compiler reads them back: functionName `TIMESTAMPADD_<unit>`, a `#UNIT` string constant
// (the marker convention of compileArgs), and a dotted column name. The first two keep the text's
// length; a field path grows by two characters, so the parser's offsets are mapped back through
// `original` (hazard: an offset used unmapped would point past the user's text).

/** Time units of TIMESTAMPADD, TIMESTAMPDIFF and FLOOR / CEIL … TO (Flink's TimeUnit names). */
export const TIME_UNITS = ['MICROSECOND', 'MILLISECOND', 'SECOND', 'MINUTE', 'HOUR', 'DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR'] as const;


/** The SQL with string literals, quoted identifiers and comments blanked, for keyword searches. */
export function maskLiterals(sql: string, fill = ' '): string {
  return sql.replace(/'(?:[^']|'')*'|`[^`]*`|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?\*\//g, (m) => fill.repeat(m.length));
}

/**
 * Replaces each match of `re` in the masked SQL by `to(match, text)`, padded with blanks to its
 * length; `text` is the match as written (the match itself has its literals masked).
 */
function respell(sql: string, re: RegExp, to: (m: RegExpExecArray, text: string) => string | null, grown?: Array<{ at: number; by: number }>): string {
  // Masked with a character no pattern here matches, so a literal never reads as blanks or a name.
  const masked = maskLiterals(sql, '\u0001');
  const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
  let out = '';
  let last = 0;
  for (let m = g.exec(masked); m !== null; m = g.exec(masked)) {
    const replacement = to(m, sql.slice(m.index, m.index + m[0].length));
    if (replacement === null || (replacement.length > m[0].length && grown === undefined)) continue;
    if (replacement.length > m[0].length) grown!.push({ at: m.index + m[0].length, by: replacement.length - m[0].length });
    out += sql.slice(last, m.index) + replacement.padEnd(m[0].length, ' ');
    last = m.index + m[0].length;
  }
  return out + sql.slice(last);
}

const UNIT = `(?:SQL_TSI_)?(${TIME_UNITS.join('|')})`;

export interface Respelled {
  sql: string;
  /** The offset in the user's SQL of an offset in the respelled text. */
  original(offset: number): number;
}

export function respellKeywordForms(sql: string): Respelled {
  let out = respell(sql, new RegExp(`\\b(TIMESTAMPADD|TIMESTAMPDIFF)\\s*\\(\\s*${UNIT}\\s*,`, 'i'), (m) => `${m[1]!.toUpperCase()}_${m[2]!.toUpperCase()}(`);
  // `x TO unit )` only occurs in FLOOR / CEIL among the forms a SELECT item can take.
  out = respell(out, new RegExp(`\\s+TO\\s+${UNIT}\\s*\\)`, 'i'), (m) => `,'#${m[1]!.toUpperCase()}'`.padEnd(m[0].length - 1, ' ') + ')');
  out = respell(out, /(\bPOSITION\s*\([^()]*?)\s+IN\s+/i, (m, text) => `${text.slice(0, m[1]!.length)},`);
  // a.b.c(.d…) of plain names, not after a dot or a name character (so not inside a number); a
  // catalog.db.table name after FROM stays as it is. Offsets here are in the text after the two
  // respellings above, which kept its length, so they are the user's.
  const grown: Array<{ at: number; by: number }> = [];
  out = respell(out, /(?<!\bFROM\s+)(?<![\w$.`])([A-Za-z_][\w$]*)\.([A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)+)(?![\w$`(])/i, (m) => `${m[1]}.\`${m[2]}\``, grown);
  return {
    sql: out,
    original: (offset) => {
      let moved = 0;
      for (const g of grown) {
        if (offset - moved < g.at + g.by) break;
        moved += g.by;
      }
      return offset - moved;
    },
  };
}
