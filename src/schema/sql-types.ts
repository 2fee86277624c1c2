// Flink SQL data types as written in `source_schema` and `sink.schema` ("BIGINT",
// "TIMESTAMP(3)", "DECIMAL(10, 2)", "ARRAY<STRING>", "ROW<id BIGINT, tags ARRAY<STRING>>",
// "STRING NOT NULL"), parsed into one tree that the decoder, the SQL compiler and the Iceberg
// writer all read. Syntax follows Flink's "Data Types" reference (flink-docs-release-1.19,
// dev/table/types); what Iceberg cannot store (MULTISET, RAW, INTERVAL) is rejected here.

export type SqlType = { nullable: boolean } & SqlTypeBody;

export type SqlTypeBody =
  | { kind: 'string' }
  | { kind: 'boolean' }
  | { kind: 'int' }
  | { kind: 'bigint' }
  | { kind: 'float' }
  | { kind: 'double' }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'date' }
  | { kind: 'time'; precision: number }
  | { kind: 'timestamp'; precision: number }
  | { kind: 'timestamp_ltz'; precision: number }
  | { kind: 'bytes' }
  | { kind: 'fixed'; length: number }
  | { kind: 'array'; element: SqlType }
  | { kind: 'map'; key: SqlType; value: SqlType }
  | { kind: 'row'; fields: SqlRowField[] };

export interface SqlRowField {
  name: string;
  type: SqlType;
}

/** What the type parser accepts, for error messages. */
export const ACCEPTED_TYPES =
  'STRING, VARCHAR(n), CHAR(n), BOOLEAN, TINYINT, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, ' +
  'DECIMAL(p, s), DATE, TIME(p), TIMESTAMP(p), TIMESTAMP_LTZ(p), ' +
  'TIMESTAMP(p) WITH LOCAL TIME ZONE, BYTES, VARBINARY(n), BINARY(n), ARRAY<T>, MAP<K, V>, ' +
  'ROW<name T, ...>, each optionally followed by NOT NULL';

export class SqlTypeParseError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = 'SqlTypeParseError';
  }
}

type Token =
  | { t: 'word'; v: string; pos: number }
  | { t: 'num'; v: number; pos: number }
  | { t: 'quoted'; v: string; pos: number }
  | { t: 'punct'; v: string; pos: number }
  | { t: 'end'; pos: number };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < text.length && /[A-Za-z0-9_]/.test(text[i]!)) i++;
      out.push({ t: 'word', v: text.slice(start, i), pos: start });
    } else if (/[0-9]/.test(c)) {
      const start = i;
      while (i < text.length && /[0-9]/.test(text[i]!)) i++;
      out.push({ t: 'num', v: Number(text.slice(start, i)), pos: start });
    } else if (c === '`') {
      const start = i;
      const end = text.indexOf('`', i + 1);
      if (end < 0) throw new SqlTypeParseError('unterminated `quoted` field name', start);
      out.push({ t: 'quoted', v: text.slice(i + 1, end), pos: start });
      i = end + 1;
    } else if (c === "'") {
      // A field comment in ROW<name T 'comment'>: kept out of the tree.
      const start = i;
      let j = i + 1;
      while (j < text.length && !(text[j] === "'" && text[j + 1] !== "'")) j += text[j] === "'" ? 2 : 1;
      if (j >= text.length) throw new SqlTypeParseError('unterminated comment string', start);
      out.push({ t: 'punct', v: 'comment', pos: start });
      i = j + 1;
    } else if ('<>(),'.includes(c)) {
      out.push({ t: 'punct', v: c, pos: i });
      i++;
    } else {
      throw new SqlTypeParseError(`unexpected character '${c}'`, i);
    }
  }
  out.push({ t: 'end', pos: text.length });
  return out;
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i]!;
  }
  private next(): Token {
    return this.tokens[this.i++]!;
  }
  private isWord(v: string): boolean {
    const tok = this.peek();
    return tok.t === 'word' && tok.v.toUpperCase() === v;
  }
  private isPunct(v: string): boolean {
    const tok = this.peek();
    return tok.t === 'punct' && tok.v === v;
  }
  private expectPunct(v: string): void {
    const tok = this.next();
    if (tok.t !== 'punct' || tok.v !== v) throw new SqlTypeParseError(`expected '${v}'`, tok.pos);
  }
  private expectWord(v: string): void {
    if (!this.isWord(v)) throw new SqlTypeParseError(`expected ${v}`, this.peek().pos);
    this.next();
  }
  private number(): number {
    const tok = this.next();
    if (tok.t !== 'num') throw new SqlTypeParseError('expected a number', tok.pos);
    return tok.v;
  }
  /** `(n)` or `(p, s)` after a type name, if present. */
  private params(max: number): number[] {
    if (!this.isPunct('(')) return [];
    this.next();
    const out = [this.number()];
    while (this.isPunct(',')) {
      this.next();
      out.push(this.number());
    }
    const close = this.peek();
    this.expectPunct(')');
    if (out.length > max) throw new SqlTypeParseError(`takes at most ${max} parameter(s)`, close.pos);
    return out;
  }

  parseTop(): SqlType {
    const type = this.parseType();
    const tok = this.peek();
    if (tok.t !== 'end') throw new SqlTypeParseError('unexpected text after the type', tok.pos);
    return type;
  }

  parseType(): SqlType {
    const body = this.parseBody();
    let nullable = true;
    if (this.isWord('NOT')) {
      this.next();
      this.expectWord('NULL');
      nullable = false;
    } else if (this.isWord('NULL')) {
      this.next();
    }
    return { ...body, nullable };
  }

  private parseBody(): SqlTypeBody {
    const tok = this.next();
    if (tok.t !== 'word') throw new SqlTypeParseError('expected a type name', tok.pos);
    const name = tok.v.toUpperCase();
    switch (name) {
      case 'STRING':
        return { kind: 'string' };
      case 'VARCHAR':
      case 'CHAR':
        this.params(1);
        return { kind: 'string' };
      case 'BOOLEAN':
        return { kind: 'boolean' };
      case 'TINYINT':
      case 'SMALLINT':
      case 'INT':
      case 'INTEGER':
        return { kind: 'int' };
      case 'BIGINT':
        return { kind: 'bigint' };
      case 'FLOAT':
      case 'REAL':
        return { kind: 'float' };
      case 'DOUBLE':
        if (this.isWord('PRECISION')) this.next();
        return { kind: 'double' };
      case 'DECIMAL':
      case 'DEC':
      case 'NUMERIC': {
        const [precision = 10, scale = 0] = this.params(2);
        if (precision < 1 || precision > 38)
          throw new SqlTypeParseError('DECIMAL precision must be between 1 and 38', tok.pos);
        if (scale > precision)
          throw new SqlTypeParseError('DECIMAL scale must not exceed its precision', tok.pos);
        return { kind: 'decimal', precision, scale };
      }
      case 'DATE':
        return { kind: 'date' };
      case 'TIME': {
        const [precision = 0] = this.params(1);
        this.withoutTimeZone();
        return { kind: 'time', precision };
      }
      case 'TIMESTAMP': {
        const [precision = 6] = this.params(1);
        checkTimestampPrecision(precision, tok.pos);
        if (this.isWord('WITH')) {
          this.next();
          this.expectWord('LOCAL');
          this.expectWord('TIME');
          this.expectWord('ZONE');
          return { kind: 'timestamp_ltz', precision };
        }
        this.withoutTimeZone();
        return { kind: 'timestamp', precision };
      }
      case 'TIMESTAMP_LTZ': {
        const [precision = 6] = this.params(1);
        checkTimestampPrecision(precision, tok.pos);
        return { kind: 'timestamp_ltz', precision };
      }
      case 'BYTES':
        return { kind: 'bytes' };
      case 'VARBINARY':
        this.params(1);
        return { kind: 'bytes' };
      case 'BINARY': {
        const [length = 1] = this.params(1);
        return { kind: 'fixed', length };
      }
      case 'ARRAY': {
        this.expectPunct('<');
        const element = this.parseType();
        this.expectPunct('>');
        return { kind: 'array', element };
      }
      case 'MAP': {
        this.expectPunct('<');
        const key = this.parseType();
        this.expectPunct(',');
        const value = this.parseType();
        this.expectPunct('>');
        return { kind: 'map', key, value };
      }
      case 'ROW':
        return this.parseRow();
      default:
        throw new SqlTypeParseError(`unknown type ${tok.v}`, tok.pos);
    }
  }

  private withoutTimeZone(): void {
    if (!this.isWord('WITHOUT')) return;
    this.next();
    this.expectWord('TIME');
    this.expectWord('ZONE');
  }

  private parseRow(): SqlTypeBody {
    const open = this.next();
    if (open.t !== 'punct' || (open.v !== '<' && open.v !== '('))
      throw new SqlTypeParseError("expected '<' after ROW", open.pos);
    const close = open.v === '<' ? '>' : ')';
    const fields: SqlRowField[] = [];
    const seen = new Set<string>();
    for (;;) {
      const nameTok = this.next();
      if (nameTok.t !== 'word' && nameTok.t !== 'quoted')
        throw new SqlTypeParseError('expected a field name', nameTok.pos);
      if (seen.has(nameTok.v)) throw new SqlTypeParseError(`duplicate field ${nameTok.v}`, nameTok.pos);
      seen.add(nameTok.v);
      const type = this.parseType();
      if (this.isPunct('comment')) this.next();
      fields.push({ name: nameTok.v, type });
      if (this.isPunct(',')) {
        this.next();
        continue;
      }
      this.expectPunct(close);
      return { kind: 'row', fields };
    }
  }
}

function checkTimestampPrecision(precision: number, pos: number): void {
  if (precision > 9) throw new SqlTypeParseError('timestamp precision must be between 0 and 9', pos);
}

/** Parses a Flink SQL type; throws SqlTypeParseError with the character position. */
export function parseSqlType(text: string): SqlType {
  return new Parser(tokenize(text)).parseTop();
}

/** The canonical spelling, for --check output and error messages. */
export function formatSqlType(type: SqlType): string {
  const suffix = type.nullable ? '' : ' NOT NULL';
  return formatBody(type) + suffix;
}

function formatBody(type: SqlType): string {
  switch (type.kind) {
    case 'string':
      return 'STRING';
    case 'boolean':
      return 'BOOLEAN';
    case 'int':
      return 'INT';
    case 'bigint':
      return 'BIGINT';
    case 'float':
      return 'FLOAT';
    case 'double':
      return 'DOUBLE';
    case 'decimal':
      return `DECIMAL(${type.precision}, ${type.scale})`;
    case 'date':
      return 'DATE';
    case 'time':
      return `TIME(${type.precision})`;
    case 'timestamp':
      return `TIMESTAMP(${type.precision})`;
    case 'timestamp_ltz':
      return `TIMESTAMP_LTZ(${type.precision})`;
    case 'bytes':
      return 'BYTES';
    case 'fixed':
      return `BINARY(${type.length})`;
    case 'array':
      return `ARRAY<${formatSqlType(type.element)}>`;
    case 'map':
      return `MAP<${formatSqlType(type.key)}, ${formatSqlType(type.value)}>`;
    case 'row':
      return `ROW<${type.fields.map((f) => `${quoteName(f.name)} ${formatSqlType(f.type)}`).join(', ')}>`;
  }
}

function quoteName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `\`${name}\``;
}
