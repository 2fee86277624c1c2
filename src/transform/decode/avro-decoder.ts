// Avro message values → one JS array per source_schema field, as the JSON decoder's output, in
// two framings (Flink's `avro` and `avro-confluent` formats):
// - plain: the value is Avro binary of one writer schema (the YAML's `avro_schema`, or the schema
//   derived from source_schema), no header;
// - Confluent wire format: magic byte 0, a 4-byte big-endian schema id, then Avro binary of the
//   registry's schema with that id.
// Every writer schema is resolved against the reader schema derived from source_schema by Avro's
// resolution rules (avsc's createResolver: fields matched by name or by the reader's aliases,
// which include a writer field's name when its aliases name the reader's field; an added field takes
// its default, a removed one is skipped, int→long→float→double, string↔bytes, unions). Logical
// types follow the writer at every depth (fields, records in records, array items, map values):
// a timestamp written in milliseconds stays milliseconds, and a decimal written at scale 4 is
// rescaled to its column's scale, whatever the reader says. A DATE or TIMESTAMP outside Flink's
// years 0000–9999, or a TIME outside one day, is the record's dead letter.
//
// AWS Glue Schema Registry's framing (header byte 3, a compression byte, a 16-byte schema version
// UUID) is refused per record with a dead letter that names it: reading it needs the Glue API.
//
// Per record: avsc builds one object for the record (and one per nested record, array and map);
// the values are then copied into the columns. That object is the one allocation the decoder adds
// over the JSON path's JSON.parse result.

import avro from 'avsc';
import type { SqlType } from '../../schema/sql-types.js';
import { formatSqlType } from '../../schema/sql-types.js';
import type { AvroOptions } from '../../config/types.js';
import { StreamError } from '../../errors.js';
import { avroSchemaOf, avroTypeOf, resolverOf } from '../../schema/avro-schema.js';
import { fitsPrecision, formatDecimal, rescale } from '../decimal.js';
import type { DeadLetter } from '../dead-letter.js';
import type { DecodedBatch, DecodeOptions, SourceField } from './decoded-batch.js';
import type { RawBatch } from '../../kafka/raw-batch.js';
import { schemaCacheFor, type SchemaCache } from './schema-registry.js';
import { MICROS_PER_DAY, microsToNumber, truncateToPrecision } from '../time.js';
import { dateRangeReason, timestampRangeReason } from '../../schema/calendar.js';
import { NOTHING_WRITTEN, logicalTypeOf, namedTypes, written, writtenChild, writtenField, type Written } from './avro-writer-schema.js';

export const CONFLUENT_MAGIC = 0;
export const GLUE_MAGIC = 3;

class AvroValueError extends Error {}

type Converter = (v: unknown) => unknown;

function num(v: unknown): number {
  return typeof v === 'bigint' ? Number(v) : (v as number);
}

/** Unscaled two's-complement big-endian bytes → bigint. */
function unscaledOf(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return bytes[0]! & 0x80 ? v - (1n << BigInt(bytes.length * 8)) : v;
}

/** One converter per SQL type; `w` is what the writer wrote at this place, at any depth. */
function converterOf(type: SqlType, w: Written = NOTHING_WRITTEN): Converter {
  const inner = nonNull(type, w);
  const nullable = type.nullable;
  return (v) => {
    if (v === null || v === undefined) {
      if (!nullable) throw new AvroValueError(`null for NOT NULL ${formatSqlType(type)}`);
      return null;
    }
    return inner(v);
  };
}

/** A long as an exact bigint (a writer int promoted to long arrives as a number). */
function big(v: unknown): bigint {
  return typeof v === 'bigint' ? v : BigInt(Math.trunc(v as number));
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

function nonNull(type: SqlType, w: Written): Converter {
  const written = logicalTypeOf(w);
  const lt = written.logicalType;
  switch (type.kind) {
    case 'string':
      return (v) => (typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : String(v));
    case 'boolean':
      return (v) => v;
    case 'int':
      return (v) => num(v);
    case 'bigint':
      return (v) => (typeof v === 'bigint' && v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v);
    case 'float':
      return (v) => Math.fround(num(v));
    case 'double':
      return (v) => num(v);
    case 'decimal': {
      // Unscaled at the WRITER's scale (the bytes mean nothing without it), brought to the column's
      // scale HALF_UP as Flink's DecimalData.fromBigDecimal does; beyond the column's precision it
      // is NULL, as there, or this record's dead letter when the column is NOT NULL.
      const from = written.scale ?? type.scale;
      return (v) => {
        if (!(v instanceof Uint8Array)) throw new AvroValueError(`${typeof v} cannot be read as ${formatSqlType(type)}`);
        const unscaled = rescale(unscaledOf(v), from, type.scale);
        if (fitsPrecision(unscaled, type.precision)) return unscaled;
        if (type.nullable) return null;
        throw new AvroValueError(`decimal ${formatDecimal(unscaledOf(v), from)} does not fit ${formatSqlType(type)}, and the field is NOT NULL`);
      };
    }
    case 'date':
      return (v) => {
        const days = num(v);
        const why = dateRangeReason(days);
        if (why !== null) throw new AvroValueError(why);
        return days;
      };
    case 'time': {
      const unit = lt === 'time-micros' ? 1 : 1000;
      return (v) => {
        const micros = num(v) * unit;
        if (!(micros >= 0 && micros < MICROS_PER_DAY)) throw new AvroValueError(`${String(v)} ${unit === 1 ? 'µs' : 'ms'} is not a time of day (00:00:00 to 23:59:59.999999)`);
        return micros;
      };
    }
    case 'timestamp':
    case 'timestamp_ltz': {
      // In exact bigint arithmetic until the range is checked: a long of milliseconds times 1000
      // as a double would round, and wrap once it reached the column.
      const p = type.precision;
      const unit = lt === 'timestamp-micros' || lt === 'local-timestamp-micros' ? 'us' : lt === 'timestamp-nanos' || lt === 'local-timestamp-nanos' ? 'ns' : lt === 'timestamp-millis' || lt === 'local-timestamp-millis' ? 'ms' : p <= 3 ? 'ms' : 'us';
      return (v) => {
        const n = big(v);
        const micros = unit === 'ms' ? n * 1000n : unit === 'ns' ? floorDiv(n, 1000n) : n;
        const why = timestampRangeReason(micros);
        if (why !== null) throw new AvroValueError(`${String(v)} ${unit === 'us' ? 'µs' : unit}: ${why}`);
        return truncateToPrecision(microsToNumber(micros), p);
      };
    }
    case 'bytes':
      return (v) => new Uint8Array(v as Uint8Array);
    case 'fixed':
      return (v) => {
        const b = v as Uint8Array;
        if (b.length !== type.length) throw new AvroValueError(`${b.length} bytes cannot be read as ${formatSqlType(type)}`);
        return new Uint8Array(b);
      };
    case 'array': {
      const element = converterOf(type.element, writtenChild(w, 'items'));
      return (v) => (v as unknown[]).map(element);
    }
    case 'map': {
      const value = converterOf(type.value, writtenChild(w, 'values'));
      return (v) => {
        const out = new Map<unknown, unknown>();
        for (const [k, x] of Object.entries(v as Record<string, unknown>)) out.set(k, value(x));
        return out;
      };
    }
    case 'row': {
      const fields = type.fields.map((f) => ({ name: f.name, conv: converterOf(f.type, writtenField(w, f.name)) }));
      return (v) => {
        const o = v as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (const f of fields) out[f.name] = f.conv(o[f.name]);
        return out;
      };
    }
  }
}

/**
 * Gives the reader schema the writer's record names at the same places: Avro matches records by
 * name, while the reader derived from source_schema can only invent names. A writer record used
 * at several places (defined once, then referred to by name) is named at the first and matched by
 * alias at the others, since a reader may define a name only once.
 * Where the writer carries a decimal as `fixed` and the derived reader as `bytes` (Flink's
 * mapping), the reader takes the writer's fixed type: Avro has no fixed→bytes rule, and the
 * decimal converter reads the unscaled bytes of either.
 */
function adoptNames(reader: unknown, writer: unknown, names = namedTypes(writer), adopted = new Set<object>()): void {
  const unwrap = (s: unknown): unknown => (Array.isArray(s) ? s.find((b) => b !== 'null') : s);
  const r = unwrap(reader) as Record<string, unknown> | undefined;
  const w = written(writer, names).node;
  if (typeof r !== 'object' || r === null || typeof w !== 'object' || w === null) return;
  if (r.type === 'record' && w.type === 'record' && typeof w.name === 'string') {
    if (adopted.has(w)) {
      r.aliases = [[...names].find(([k, v]) => v === w && k.includes('.'))?.[0] ?? w.name];
    } else {
      adopted.add(w);
      r.name = w.name;
      if (typeof w.namespace === 'string') r.namespace = w.namespace;
      else delete r.namespace;
    }
    const wFields = (w.fields as Array<{ name: string; type: unknown; aliases?: unknown }>) ?? [];
    for (const f of r.fields as Array<{ name: string; type: unknown; aliases?: string[] }>) {
      let wf = wFields.find((x) => x.name === f.name);
      if (wf === undefined) {
        // A writer that renamed a field and kept the old name as an alias: Avro resolves by the
        // reader's aliases only, and the reader (derived from source_schema) has none, so the
        // writer's name becomes a reader alias. Without it the column would silently read null.
        wf = wFields.find((x) => Array.isArray(x.aliases) && x.aliases.includes(f.name));
        if (wf !== undefined) f.aliases = [wf.name];
      }
      if (wf !== undefined) adoptNames(f.type, wf.type, names, adopted);
    }
  } else if (r.type === 'array' && w.type === 'array') adoptNames(r.items, w.items, names, adopted);
  else if (r.type === 'map' && w.type === 'map') adoptNames(r.values, w.values, names, adopted);
  else if (r.type === 'fixed' && w.type === 'fixed' && typeof w.name === 'string') r.name = w.name;
  else if (r.type === 'bytes' && r.logicalType === 'decimal' && w.type === 'fixed' && w.logicalType === 'decimal' && typeof w.name === 'string') {
    r.type = 'fixed';
    r.name = w.name;
    r.size = w.size;
    if (typeof w.namespace === 'string') r.namespace = w.namespace;
  }
}

/** How one writer schema is read: the resolving reader, and a converter per source field. */
export interface WriterPlan {
  reader: avro.Type;
  resolver: avro.Resolver | null;
  names: string[];
  convs: Converter[];
}

/** Resolves a writer schema against source_schema; a string says why it cannot be read. */
export function planFor(fields: readonly SourceField[], writerSchema: unknown): WriterPlan | string {
  let writer: avro.Type;
  try {
    writer = avroTypeOf(writerSchema);
  } catch (e) {
    return `the writer schema is not valid Avro: ${(e as Error).message}`;
  }
  if (writer.typeName !== 'record') return `the writer schema is a ${writer.typeName}, not a record`;
  const readerSchema = avroSchemaOf(fields);
  adoptNames(readerSchema, writerSchema);
  const reader = avroTypeOf(readerSchema);
  const resolved = resolverOf(reader, writer);
  if (!resolved.ok) return `the writer schema does not resolve against source_schema: ${resolved.reason}`;
  // The writer's logical types, at every depth, decide how values read (its decimal scale, its
  // timestamp unit), whatever the reader schema derived from source_schema says.
  const top = written(writerSchema, namedTypes(writerSchema));
  const convs = fields.map((f) => converterOf(f.type, writtenField(top, f.name)));
  return { reader, resolver: resolved.resolver, names: fields.map((f) => f.name), convs };
}

export interface AvroDecoder {
  decode(raw: RawBatch): DecodedBatch;
}

function readInto(plan: WriterPlan, buf: Buffer, columns: unknown[][], row: number): string | null {
  let decoded: { value: unknown; offset: number };
  try {
    decoded = plan.reader.decode(buf, 0, plan.resolver ?? undefined);
  } catch (e) {
    return `invalid Avro: ${(e as Error).message}`;
  }
  if (decoded.offset < 0) return 'invalid Avro: the value ends before the record does';
  if (decoded.offset !== buf.length) return `invalid Avro: ${buf.length - decoded.offset} bytes left after the record`;
  const o = decoded.value as Record<string, unknown>;
  for (let f = 0; f < plan.convs.length; f++) {
    const name = plan.names[f]!;
    try {
      columns[f]![row] = plan.convs[f]!(o[name]);
    } catch (e) {
      return `field ${name}: ${(e as Error).message}`;
    }
  }
  return null;
}

/** `format: avro`: one writer schema, no header. Throws SCHEMA_MISMATCH when it cannot resolve. */
export function createAvroDecoder(fields: readonly SourceField[], avroOptions: AvroOptions | undefined, options: DecodeOptions): AvroDecoder {
  const writerSchema = avroOptions?.schema ?? avroSchemaOf(fields);
  const plan = planFor(fields, writerSchema);
  if (typeof plan === 'string') throw new StreamError('SCHEMA_MISMATCH', `avro_schema: ${plan}`);
  return {
    decode: (raw) => decodeEach(raw, fields, options, (value) => ({ plan, body: value })),
  };
}

/** The Confluent header of a value: the schema id, or why the value is not in that framing. */
export function confluentSchemaId(value: Uint8Array): number | string {
  if (value.length >= 1 && value[0] === GLUE_MAGIC) {
    return 'the value is in AWS Glue Schema Registry wire format (header byte 3); only the Confluent wire format (byte 0) is read by format avro-confluent';
  }
  if (value.length < 5 || value[0] !== CONFLUENT_MAGIC) {
    return value.length < 5 ? `the value is ${value.length} bytes, shorter than the Confluent wire-format header (5 bytes)` : `the value does not start with the Confluent wire-format magic byte 0 (found ${value[0]})`;
  }
  return ((value[1]! << 24) | (value[2]! << 16) | (value[3]! << 8) | value[4]!) >>> 0;
}

/**
 * `format: avro-confluent`, writer schemas from `cache` (this thread's cache of the registry by
 * default), which `preparerFor` (decoder.ts) has filled with the batch's ids before `decode`.
 */
export function createConfluentAvroDecoder(fields: readonly SourceField[], avroOptions: AvroOptions, options: DecodeOptions, cache: SchemaCache = schemaCacheFor(avroOptions.registry!)): AvroDecoder {
  const plans = new Map<number, WriterPlan | string>();
  const planOf = (id: number): WriterPlan | string => {
    let plan = plans.get(id);
    if (plan !== undefined) return plan;
    const found = cache.get(id);
    if (found === undefined) throw new StreamError('SCHEMA_REGISTRY_UNAVAILABLE', `schema id ${id} was not fetched before decoding`);
    if (found.kind === 'missing') return found.reason; // not remembered: the registry may learn it
    let schema: unknown;
    try {
      schema = JSON.parse(found.schema);
    } catch {
      schema = found.schema; // a primitive schema written bare, e.g. "string"
    }
    plan = planFor(fields, schema);
    plans.set(id, plan);
    return plan;
  };
  return {
    decode: (raw) =>
      decodeEach(raw, fields, options, (value) => {
        const id = confluentSchemaId(value);
        if (typeof id === 'string') return id;
        const plan = planOf(id);
        if (typeof plan === 'string') return `schema id ${id}: ${plan}`;
        return { plan, body: value.subarray(5) };
      }),
  };
}

function decodeEach(raw: RawBatch, fields: readonly SourceField[], options: DecodeOptions, frame: (value: Uint8Array) => { plan: WriterPlan; body: Uint8Array } | string): DecodedBatch {
  const n = raw.count;
  const columns: unknown[][] = fields.map(() => new Array(n));
  const recordIndex = new Int32Array(n);
  const deadLetters: DeadLetter[] = [];
  let tombstones = 0;
  let count = 0;
  const all = Buffer.from(raw.values.buffer, raw.values.byteOffset, raw.values.byteLength);
  for (let i = 0; i < n; i++) {
    if (raw.valueNulls !== null && raw.valueNulls[i] === 1) {
      tombstones++;
      continue;
    }
    const start = raw.valueOffsets[i]!;
    const end = raw.valueOffsets[i + 1]!;
    if (end - start > options.maxRecordBytes) {
      deadLetters.push({ index: i, code: 'RECORD_TOO_LARGE', message: `value is ${end - start} bytes, over the limit of ${options.maxRecordBytes}` });
      continue;
    }
    const framed = frame(all.subarray(start, end));
    if (typeof framed === 'string') {
      deadLetters.push({ index: i, code: 'RECORD_DECODE_FAILED', message: framed });
      continue;
    }
    const why = readInto(framed.plan, framed.body as Buffer, columns, count);
    if (why !== null) {
      deadLetters.push({ index: i, code: 'RECORD_DECODE_FAILED', message: why });
      continue;
    }
    recordIndex[count++] = i;
  }
  if (count < n) for (const c of columns) c.length = count;
  return { count, columns, recordIndex: recordIndex.subarray(0, count), deadLetters, tombstones };
}
