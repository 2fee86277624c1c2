// Iceberg schemas: built from the sink's SQL columns with field ids, evolved when the sink
// schema grows, and turned into the Arrow schema that Parquet files are written with (every
// field carrying `PARQUET:field_id`, which is how readers match Parquet columns to Iceberg
// fields — by id, never by name). JSON shapes follow the Iceberg table spec, Appendix C
// ("JSON serialization"); type promotion rules follow "Schema Evolution".

import * as arrow from 'apache-arrow';
import type { SqlType } from '../schema/sql-types.js';
import { StreamError } from '../errors.js';
import { icebergPrimitiveOf, isNestedType } from '../schema/type-mapping.js';

export interface IcebergStructType {
  type: 'struct';
  fields: IcebergField[];
}
export interface IcebergListType {
  type: 'list';
  'element-id': number;
  element: IcebergType;
  'element-required': boolean;
}
export interface IcebergMapType {
  type: 'map';
  'key-id': number;
  key: IcebergType;
  'value-id': number;
  value: IcebergType;
  'value-required': boolean;
}
export type IcebergType = string | IcebergStructType | IcebergListType | IcebergMapType;

export interface IcebergField {
  id: number;
  name: string;
  required: boolean;
  type: IcebergType;
  doc?: string;
}

export interface IcebergSchema extends IcebergStructType {
  'schema-id': number;
  'identifier-field-ids'?: number[];
}

export interface SchemaColumn {
  name: string;
  type: SqlType;
}

/** Hands out field ids in increasing order, starting after `lastId`. */
class IdAllocator {
  constructor(public last: number) {}
  next(): number {
    return ++this.last;
  }
}

/**
 * A new Iceberg schema for SQL columns. Ids are assigned level by level (all top-level fields
 * first, then their children), as Iceberg's own writers do, so top-level ids are 1..n.
 */
export function buildSchema(columns: readonly SchemaColumn[], schemaId = 0): { schema: IcebergSchema; lastColumnId: number } {
  const ids = new IdAllocator(0);
  const fields = buildFields(
    columns.map((c) => ({ name: c.name, type: c.type })),
    ids,
  );
  return { schema: { type: 'struct', 'schema-id': schemaId, fields }, lastColumnId: ids.last };
}

function buildFields(columns: ReadonlyArray<{ name: string; type: SqlType }>, ids: IdAllocator): IcebergField[] {
  const own = columns.map((c) => ids.next());
  return columns.map((c, i) => ({ id: own[i]!, name: c.name, required: !c.type.nullable, type: buildType(c.type, ids) }));
}

function buildType(t: SqlType, ids: IdAllocator): IcebergType {
  if (!isNestedType(t)) return icebergPrimitiveOf(t);
  switch (t.kind) {
    case 'row':
      return { type: 'struct', fields: buildFields(t.fields, ids) };
    case 'array': {
      const elementId = ids.next();
      return { type: 'list', 'element-id': elementId, element: buildType(t.element, ids), 'element-required': !t.element.nullable };
    }
    case 'map': {
      const keyId = ids.next();
      const valueId = ids.next();
      return {
        type: 'map',
        'key-id': keyId,
        key: buildType(t.key, ids),
        'value-id': valueId,
        value: buildType(t.value, ids),
        'value-required': !t.value.nullable,
      };
    }
  }
}

/**
 * The table schema that the sink columns need, given the table's current schema: existing
 * fields keep their ids (matched by name), new columns and new nested struct fields get fresh
 * ids after `lastColumnId`. Allowed changes are the ones every reader can follow: adding an
 * optional column, making a required column optional, and the spec's type promotions
 * (int→long, float→double, decimal(P,S)→decimal(P',S) with P'≥P). Anything else — a dropped
 * column, a narrowed or changed type, an optional column made required, a required column
 * added to a table that already has rows — throws SCHEMA_INCOMPATIBLE_CHANGE naming the column.
 */
export function evolveSchema(
  current: IcebergSchema,
  lastColumnId: number,
  columns: readonly SchemaColumn[],
): { schema: IcebergSchema; lastColumnId: number; changed: boolean } {
  const ids = new IdAllocator(lastColumnId);
  const fields = evolveFields(current.fields, columns, ids, '');
  const schema: IcebergSchema = { type: 'struct', 'schema-id': current['schema-id'], fields };
  const changed = JSON.stringify(fields) !== JSON.stringify(current.fields);
  if (changed) schema['schema-id'] = current['schema-id'] + 1;
  return { schema, lastColumnId: ids.last, changed };
}

function incompatible(path: string, what: string): never {
  throw new StreamError('SCHEMA_INCOMPATIBLE_CHANGE', `column ${path}: ${what}; readers of the existing table would break`, {
    details: { column: path },
  });
}

function evolveFields(
  existing: readonly IcebergField[],
  columns: ReadonlyArray<{ name: string; type: SqlType }>,
  ids: IdAllocator,
  prefix: string,
): IcebergField[] {
  const byName = new Map(columns.map((c) => [c.name, c]));
  for (const f of existing) {
    if (!byName.has(f.name)) incompatible(prefix + f.name, 'dropped from the sink schema (dropping a column is not supported)');
  }
  const out: IcebergField[] = [];
  const known = new Map(existing.map((f) => [f.name, f]));
  for (const f of existing) {
    const c = byName.get(f.name)!;
    const path = prefix + f.name;
    if (f.required === false && !c.type.nullable) incompatible(path, 'an optional column cannot become required (NOT NULL)');
    out.push({ ...f, required: f.required && !c.type.nullable, type: evolveType(f.type, c.type, ids, path) });
  }
  const added = columns.filter((c) => !known.has(c.name));
  for (const c of added) {
    if (!c.type.nullable) incompatible(prefix + c.name, 'a new column must be nullable (existing rows have no value for it)');
  }
  out.push(...buildFields(added, ids));
  return out;
}

function evolveType(current: IcebergType, next: SqlType, ids: IdAllocator, path: string): IcebergType {
  if (typeof current === 'string') {
    if (isNestedType(next)) incompatible(path, `type ${current} cannot become ${next.kind}`);
    const wanted = icebergPrimitiveOf(next);
    if (wanted === current) return current;
    if (isPromotion(current, wanted)) return wanted;
    return incompatible(path, `type ${current} cannot change to ${wanted}`);
  }
  switch (current.type) {
    case 'struct':
      if (next.kind !== 'row') incompatible(path, `struct cannot become ${next.kind}`);
      return { type: 'struct', fields: evolveFields(current.fields, next.fields, ids, path + '.') };
    case 'list':
      if (next.kind !== 'array') incompatible(path, `list cannot become ${next.kind}`);
      if (!current['element-required'] && !next.element.nullable) incompatible(path + '.element', 'optional element cannot become required');
      return {
        ...current,
        element: evolveType(current.element, next.element, ids, path + '.element'),
        'element-required': current['element-required'] && !next.element.nullable,
      };
    case 'map':
      if (next.kind !== 'map') incompatible(path, `map cannot become ${next.kind}`);
      if (!current['value-required'] && !next.value.nullable) incompatible(path + '.value', 'optional value cannot become required');
      return {
        ...current,
        key: evolveType(current.key, next.key, ids, path + '.key'),
        value: evolveType(current.value, next.value, ids, path + '.value'),
        'value-required': current['value-required'] && !next.value.nullable,
      };
  }
}

function isPromotion(from: string, to: string): boolean {
  if (from === 'int' && to === 'long') return true;
  if (from === 'float' && to === 'double') return true;
  const a = parseDecimal(from);
  const b = parseDecimal(to);
  return a !== undefined && b !== undefined && a.scale === b.scale && b.precision >= a.precision;
}

export function parseDecimal(t: string): { precision: number; scale: number } | undefined {
  const m = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(t);
  return m ? { precision: Number(m[1]), scale: Number(m[2]) } : undefined;
}

/** Every field of a schema by id, nested ones included, with the primitive type of leaves. */
export function indexFields(schema: IcebergStructType): Map<number, IcebergField> {
  const out = new Map<number, IcebergField>();
  const visitType = (t: IcebergType): void => {
    if (typeof t === 'string') return;
    if (t.type === 'struct') for (const f of t.fields) visit(f);
    else if (t.type === 'list') visit({ id: t['element-id'], name: 'element', required: t['element-required'], type: t.element });
    else {
      visit({ id: t['key-id'], name: 'key', required: true, type: t.key });
      visit({ id: t['value-id'], name: 'value', required: t['value-required'], type: t.value });
    }
  };
  const visit = (f: IcebergField): void => {
    out.set(f.id, f);
    visitType(f.type);
  };
  visitType(schema);
  return out;
}

export function findField(schema: IcebergStructType, name: string): IcebergField | undefined {
  return schema.fields.find((f) => f.name === name);
}

const FIELD_ID = 'PARQUET:field_id';

/**
 * Rebinds an Arrow type (as the transform workers build it, without ids) to an Iceberg type,
 * attaching `PARQUET:field_id` to every child field. Names of struct children are matched by
 * name; list and map children take the element/key/value ids.
 */
function bindType(t: arrow.DataType, it: IcebergType, path: string): arrow.DataType {
  if (typeof it === 'string') return t;
  if (it.type === 'struct') {
    if (!arrow.DataType.isStruct(t)) throw mismatch(path, 'struct', t);
    const children = it.fields.map((f) => {
      const child = t.children.find((c) => c.name === f.name);
      if (!child) throw mismatch(`${path}.${f.name}`, 'a field', 'nothing');
      return bindField(child, f, `${path}.${f.name}`);
    });
    return new arrow.Struct(children);
  }
  if (it.type === 'list') {
    if (!arrow.DataType.isList(t)) throw mismatch(path, 'list', t);
    const el = t.children[0]!;
    const bound = bindField(el, { id: it['element-id'], name: el.name, required: it['element-required'], type: it.element }, `${path}.element`);
    return new arrow.List(bound);
  }
  if (!arrow.DataType.isMap(t)) throw mismatch(path, 'map', t);
  const entries = t.children[0]!;
  const [k, v] = entries.type.children as [arrow.Field, arrow.Field];
  const key = bindField(k, { id: it['key-id'], name: k.name, required: true, type: it.key }, `${path}.key`);
  const value = bindField(v, { id: it['value-id'], name: v.name, required: it['value-required'], type: it.value }, `${path}.value`);
  return new arrow.Map_(new arrow.Field(entries.name, new arrow.Struct<any>([key, value]), false), t.keysSorted);
}

function bindField(f: arrow.Field, it: IcebergField, path: string): arrow.Field {
  const metadata = new Map(f.metadata);
  metadata.set(FIELD_ID, String(it.id));
  return new arrow.Field(f.name, bindType(f.type, it.type, path), !it.required, metadata);
}

function mismatch(path: string, wanted: string, got: unknown): StreamError {
  return new StreamError('SCHEMA_MISMATCH', `column ${path}: expected ${wanted}, got ${String(got)}`, { details: { column: path } });
}

/**
 * The Arrow schema that data files of this table are written with: the given Arrow schema
 * (types as the workers produce them), fields in the table's order, each with its field id.
 * Columns that the table has but the Arrow schema lacks are an error.
 */
export function bindArrowSchema(input: arrow.Schema, schema: IcebergSchema): arrow.Schema {
  return new arrow.Schema(
    schema.fields.map((f) => {
      const field = input.fields.find((x) => x.name === f.name);
      if (!field) throw mismatch(f.name, 'a column', 'nothing');
      return bindField(field, f, f.name);
    }),
  );
}

/** Rebuilds a Data tree under a new (same-shaped) type: buffers are shared, never copied. */
export function rebindData(data: arrow.Data, type: arrow.DataType): arrow.Data {
  const children = data.children.map((c, i) => rebindData(c, type.children[i]!.type));
  return data.clone(type, data.offset, data.length, data.nullCount, data.buffers, children);
}

/**
 * A batch from a transform worker, with columns ordered and typed as `target` (a schema from
 * bindArrowSchema). Columns are matched by name; extra columns are ignored.
 */
export function rebindBatch(batch: arrow.RecordBatch, target: arrow.Schema): arrow.RecordBatch {
  const children = target.fields.map((f) => {
    const idx = batch.schema.fields.findIndex((x) => x.name === f.name);
    if (idx < 0) throw mismatch(f.name, 'a column in the batch', 'nothing');
    const col = batch.data.children[idx]!;
    if (col.type.typeId !== f.type.typeId) throw mismatch(f.name, String(f.type), col.type);
    return rebindData(col, f.type);
  });
  const struct = arrow.makeData({ type: new arrow.Struct(target.fields), length: batch.numRows, nullCount: 0, children });
  return new arrow.RecordBatch(target, struct);
}
