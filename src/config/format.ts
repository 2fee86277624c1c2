// A topic's `format` and its options, checked and resolved: `json` (the default), `csv` with
// Flink's `csv.*` options under `format_options`, `avro` (schema in `avro_schema` or derived from
// source_schema) and `avro-confluent` (writer schemas from a Confluent-compatible registry,
// `schema_registry`). Option names are Flink's, so a Flink table's WITH clause carries over.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ConfigPath } from './issues.js';
import type { RawTopic } from './schema.js';
import type { SourceFile } from './source-file.js';
import type { AvroOptions, CsvOptions, FieldConfig, SchemaRegistryConfig, SourceFormatName } from './types.js';
import { ACCEPTED_DURATION, parseDuration } from './units.js';
import { AvroSchemaError, avroSchemaOf, avroTypeOf } from '../schema/avro-schema.js';

export interface ResolvedFormat {
  format: SourceFormatName;
  csv?: CsvOptions;
  avro?: AvroOptions;
}

/** Flink's CSV options and what each accepts. */
const CSV_OPTIONS: Record<string, string> = {
  'csv.field-delimiter': 'one character, e.g. "," or "\\t"',
  'csv.quote-character': 'one character',
  'csv.disable-quote-character': 'true or false',
  'csv.allow-comments': 'true or false',
  'csv.ignore-parse-errors': 'true or false',
  'csv.null-literal': 'a text',
  'csv.escape-character': 'one character',
  'csv.array-element-delimiter': 'a non-empty text',
};

const DEFAULT_REGISTRY_TIMEOUT_MS = 10_000;

/** `\t` as written in YAML or as Flink's docs spell it: one character either way. */
function oneChar(v: string): string | undefined {
  const unescaped = v === '\\t' ? '\t' : v;
  return [...unescaped].length === 1 ? unescaped : undefined;
}

function flag(v: string): boolean | undefined {
  return v === 'true' ? true : v === 'false' ? false : undefined;
}

/** Nested types a CSV line cannot carry: ARRAY of a scalar is the only container Flink's CSV reads. */
function csvTypeProblem(f: FieldConfig): string | null {
  const t = f.type;
  if (t.kind === 'map' || t.kind === 'row') return `${f.typeText} cannot be read from a CSV field`;
  if (t.kind === 'array' && (t.element.kind === 'array' || t.element.kind === 'map' || t.element.kind === 'row')) return `${f.typeText} cannot be read from a CSV field (arrays of scalars only)`;
  return null;
}

export function resolveFormat(file: SourceFile, base: ConfigPath, raw: RawTopic, topic: string, sourceSchema: FieldConfig[] | undefined, configDir: string): ResolvedFormat | undefined {
  const format = raw.format ?? 'json';
  let ok = true;
  const options = raw.format_options ?? {};
  const optionPrefix = format === 'csv' ? 'csv.' : null;
  for (const key of Object.keys(options)) {
    if (optionPrefix === null || !(key in CSV_OPTIONS)) {
      file.add([...base, 'format_options', key], `not an option of format ${format}`, {
        accepted: format === 'csv' ? `one of ${Object.keys(CSV_OPTIONS).join(', ')}` : `no format_options with format ${format}`,
        showFound: false,
      });
      ok = false;
    }
  }
  if (raw.avro_schema !== undefined && format !== 'avro') {
    file.add([...base, 'avro_schema'], `has no effect with format ${format}`, { accepted: 'format: avro', showFound: false });
    ok = false;
  }
  if (raw.schema_registry !== undefined && format !== 'avro-confluent') {
    file.add([...base, 'schema_registry'], `has no effect with format ${format}`, { accepted: 'format: avro-confluent', showFound: false });
    ok = false;
  }

  if (format === 'json') return ok ? { format } : undefined;

  if (format === 'csv') {
    const csv: CsvOptions = { fieldDelimiter: ',', quoteCharacter: '"', allowComments: false, ignoreParseErrors: false, nullLiteral: null, escapeCharacter: null, arrayElementDelimiter: ';' };
    const p = (k: string): ConfigPath => [...base, 'format_options', k];
    const char = (k: string): string | undefined => {
      const v = options[k];
      if (v === undefined) return undefined;
      const c = oneChar(v);
      if (c === undefined) {
        file.add(p(k), 'not one character', { accepted: CSV_OPTIONS[k] });
        ok = false;
      }
      return c;
    };
    const bool = (k: string): boolean | undefined => {
      const v = options[k];
      if (v === undefined) return undefined;
      const b = flag(v);
      if (b === undefined) {
        file.add(p(k), 'not a boolean', { accepted: 'true or false' });
        ok = false;
      }
      return b;
    };
    csv.fieldDelimiter = char('csv.field-delimiter') ?? csv.fieldDelimiter;
    csv.quoteCharacter = char('csv.quote-character') ?? csv.quoteCharacter;
    if (bool('csv.disable-quote-character') === true) {
      if (options['csv.quote-character'] !== undefined) {
        file.add(p('csv.quote-character'), 'set together with csv.disable-quote-character: true', { accepted: 'one of the two' });
        ok = false;
      }
      csv.quoteCharacter = null;
    }
    csv.allowComments = bool('csv.allow-comments') ?? false;
    csv.ignoreParseErrors = bool('csv.ignore-parse-errors') ?? false;
    csv.nullLiteral = options['csv.null-literal'] ?? null;
    csv.escapeCharacter = char('csv.escape-character') ?? null;
    const arrayDelimiter = options['csv.array-element-delimiter'];
    if (arrayDelimiter !== undefined) {
      if (arrayDelimiter === '') {
        file.add(p('csv.array-element-delimiter'), 'empty', { accepted: CSV_OPTIONS['csv.array-element-delimiter'] });
        ok = false;
      } else csv.arrayElementDelimiter = arrayDelimiter;
    }
    const special = [csv.fieldDelimiter, csv.quoteCharacter, csv.escapeCharacter].filter((c) => c !== null);
    if (new Set(special).size !== special.length) {
      file.add([...base, 'format_options'], 'the field delimiter, quote character and escape character must differ', { accepted: 'three different characters', showFound: false });
      ok = false;
    }
    if (special.some((c) => c === '\n' || c === '\r')) {
      file.add([...base, 'format_options'], 'a line break cannot delimit, quote or escape', { accepted: 'a character other than \\n and \\r', showFound: false });
      ok = false;
    }
    sourceSchema?.forEach((f, i) => {
      const problem = csvTypeProblem(f);
      if (problem !== null) {
        file.add([...base, 'source_schema', i, 'type'], problem, { accepted: 'a scalar type, or ARRAY of a scalar type' });
        ok = false;
      }
    });
    return ok ? { format, csv } : undefined;
  }

  // Avro, both modes: the reader schema is derived from source_schema; a name or type it cannot
  // carry is a configuration error, not a dead letter per record.
  if (sourceSchema !== undefined) {
    try {
      avroTypeOf(avroSchemaOf(sourceSchema));
    } catch (e) {
      const why = e instanceof AvroSchemaError ? e.message : `avsc refused the derived schema: ${(e as Error).message}`;
      file.add([...base, 'source_schema'], `cannot be read as Avro: ${why}`, { accepted: 'Avro names ([A-Za-z_][A-Za-z0-9_]*) and MAP keys of STRING', showFound: false });
      ok = false;
    }
  }

  if (format === 'avro') {
    let schema: unknown = null;
    if (raw.avro_schema !== undefined) {
      const p = [...base, 'avro_schema'];
      try {
        schema = typeof raw.avro_schema === 'string' ? JSON.parse(raw.avro_schema) : raw.avro_schema;
        avroTypeOf(schema);
      } catch (e) {
        file.add(p, `not an Avro schema: ${(e as Error).message}`, { accepted: 'an Avro schema as JSON text or as YAML', showFound: false });
        ok = false;
      }
    }
    return ok ? { format, avro: { schema } } : undefined;
  }

  // avro-confluent
  const reg = raw.schema_registry;
  if (reg === undefined) {
    file.add([...base], 'format avro-confluent needs schema_registry', { accepted: 'schema_registry: { url: http(s)://… }', keyOf: 'schema_registry', showFound: false });
    return undefined;
  }
  const rp = [...base, 'schema_registry'];
  if (reg.basic_auth !== undefined && reg.bearer_token !== undefined) {
    file.add(rp, 'names both basic_auth and bearer_token', { accepted: 'one of the two', showFound: false });
    ok = false;
  }
  let timeoutMs = DEFAULT_REGISTRY_TIMEOUT_MS;
  if (reg.timeout !== undefined) {
    const ms = parseDuration(reg.timeout);
    if (ms === undefined || ms < 1) {
      file.add([...rp, 'timeout'], 'not a duration', { accepted: ACCEPTED_DURATION });
      ok = false;
    } else timeoutMs = ms;
  }
  let caFile: string | undefined;
  if (reg.ssl?.ca_file !== undefined) {
    caFile = path.resolve(configDir, reg.ssl.ca_file);
    try {
      readFileSync(caFile);
    } catch {
      file.add([...rp, 'ssl', 'ca_file'], `cannot be read (${caFile})`, { accepted: 'a readable PEM file, relative to the config folder' });
      ok = false;
    }
  }
  const registry: SchemaRegistryConfig = {
    url: reg.url.replace(/\/+$/, ''),
    subject: reg.subject ?? `${topic}-value`,
    basicAuth: reg.basic_auth,
    bearerToken: reg.bearer_token,
    caFile,
    rejectUnauthorized: reg.ssl?.reject_unauthorized,
    timeoutMs,
  };
  return ok ? { format, avro: { schema: null, registry } } : undefined;
}
