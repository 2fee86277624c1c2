// The Avro schema of a source_schema, as Flink's AvroSchemaConverter derives it (flink-avro 1.19,
// legacy timestamp mapping): the reader schema every Avro record is resolved against, and the
// writer schema of `format: avro` when the YAML gives none. A nullable column is the union
// ["null", T] with default null, so a field the writer lacks reads as null (Avro's rule for an
// added field with a default); a NOT NULL column has no default, so a writer without it is refused.
//
// Also the avsc types this project reads Avro with: longs as BigInt (a long beyond 2^53 must not
// round), logical types left to our own converters (avsc would otherwise need a class per type).

import avro from 'avsc';
import type { SqlType } from './sql-types.js';
import { formatSqlType } from './sql-types.js';
import { BigLong } from '../avro-long.js';


/**
 * An avsc type of an Avro schema, longs as BigInt, unions unwrapped (a value, not `{type: value}`).
 * The hook also catches the object form `{"type": "long", "logicalType": …}`, which avsc's
 * registry override would miss (it would read such a long as a double, refusing beyond 2^53);
 * logical types are read from the schema JSON by the decoder, not by avsc.
 */
export function avroTypeOf(schema: unknown): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, {
    registry: { long: BigLong } as never,
    wrapUnions: false,
    typeHook: (s: unknown) => (typeof s === 'object' && s !== null && (s as { type?: unknown }).type === 'long' ? BigLong : undefined),
  } as never);
}

export class AvroSchemaError extends Error {}

let recordNames = 0;

function nonNull(type: SqlType, path: string): unknown {
  switch (type.kind) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'int':
      return 'int';
    case 'bigint':
      return 'long';
    case 'float':
      return 'float';
    case 'double':
      return 'double';
    case 'decimal':
      return { type: 'bytes', logicalType: 'decimal', precision: type.precision, scale: type.scale };
    case 'date':
      return { type: 'int', logicalType: 'date' };
    case 'time':
      // Flink writes TIME as time-millis and has no TIME(p > 3) in Avro; read as a long, such a
      // column also takes a writer's time-micros (and time-millis, an int promoted to long).
      return type.precision <= 3 ? { type: 'int', logicalType: 'time-millis' } : { type: 'long', logicalType: 'time-micros' };
    case 'timestamp':
    case 'timestamp_ltz':
      return { type: 'long', logicalType: type.precision <= 3 ? 'timestamp-millis' : 'timestamp-micros' };
    case 'bytes':
      return 'bytes';
    case 'fixed':
      return { type: 'fixed', name: `fixed_${path.replace(/[^A-Za-z0-9_]/g, '_')}_${recordNames++}`, size: type.length };
    case 'array':
      return { type: 'array', items: avroSchemaOfType(type.element, `${path}_element`) };
    case 'map':
      if (type.key.kind !== 'string') throw new AvroSchemaError(`${path}: Avro map keys are strings; ${formatSqlType(type)} has ${formatSqlType(type.key)} keys`);
      return { type: 'map', values: avroSchemaOfType(type.value, `${path}_value`) };
    case 'row':
      return {
        type: 'record',
        name: `${path.replace(/[^A-Za-z0-9_]/g, '_')}_${recordNames++}`,
        fields: type.fields.map((f) => fieldOf(f.name, f.type, `${path}_${f.name}`)),
      };
  }
}

function avroSchemaOfType(type: SqlType, path: string): unknown {
  const t = nonNull(type, path);
  return type.nullable ? ['null', t] : t;
}

function fieldOf(name: string, type: SqlType, path: string): Record<string, unknown> {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new AvroSchemaError(`field ${JSON.stringify(name)} is not a valid Avro name ([A-Za-z_][A-Za-z0-9_]*)`);
  const f: Record<string, unknown> = { name, type: avroSchemaOfType(type, path) };
  if (type.nullable) f.default = null;
  return f;
}

/** The Avro record schema of a source_schema; throws AvroSchemaError for a name or type Avro cannot carry. */
export function avroSchemaOf(fields: ReadonlyArray<{ name: string; type: SqlType }>, name = 'record'): Record<string, unknown> {
  recordNames = 0;
  return { type: 'record', name, namespace: 'org.apache.flink.avro.generated', fields: fields.map((f) => fieldOf(f.name, f.type, f.name)) };
}

/**
 * Whether records written with `writer` can be read as `reader` by Avro's resolution rules;
 * the avsc resolver, or why not.
 */
export function resolverOf(reader: avro.Type, writer: avro.Type): { ok: true; resolver: avro.Resolver } | { ok: false; reason: string } {
  try {
    return { ok: true, resolver: reader.createResolver(writer) };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
}
