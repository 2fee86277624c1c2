import { describe, expect, it } from 'vitest';
import { isStreamError } from '../../src/errors.js';
import { bindArrowSchema, buildSchema, evolveSchema, indexFields, rebindBatch } from '../../src/iceberg/schema.js';
import { arrowSchemaOf } from '../../src/schema/type-mapping.js';
import { batchOf, fields } from '../helpers/iceberg-fixtures.js';

const base = fields({ id: 'BIGINT NOT NULL', tags: 'ARRAY<STRING>', attrs: 'MAP<STRING, INT>', info: 'ROW<a INT, b ARRAY<BIGINT>>' });

describe('buildSchema', () => {
  it('numbers top-level fields first, then nested ones, level by level', () => {
    const { schema, lastColumnId } = buildSchema(base);
    expect(schema.fields.map((f) => [f.id, f.name, f.required])).toEqual([
      [1, 'id', true],
      [2, 'tags', false],
      [3, 'attrs', false],
      [4, 'info', false],
    ]);
    expect(schema.fields[0]!.type).toBe('long');
    expect(schema.fields[1]!.type).toEqual({ type: 'list', 'element-id': 5, element: 'string', 'element-required': false });
    expect(schema.fields[2]!.type).toEqual({ type: 'map', 'key-id': 6, key: 'string', 'value-id': 7, value: 'int', 'value-required': false });
    expect(lastColumnId).toBe(10);
    expect([...indexFields(schema).keys()].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe('evolveSchema', () => {
  const { schema, lastColumnId } = buildSchema(base);
  const code = (fn: () => unknown): string | undefined => {
    try {
      fn();
      return undefined;
    } catch (err) {
      return isStreamError(err) ? `${err.code} ${String(err.details['column'])}` : String(err);
    }
  };

  it('keeps ids, adds new optional columns and struct fields with fresh ids', () => {
    const next = fields({ id: 'BIGINT NOT NULL', tags: 'ARRAY<STRING>', attrs: 'MAP<STRING, INT>', info: 'ROW<a INT, b ARRAY<BIGINT>, c STRING>', extra: 'DOUBLE' });
    const out = evolveSchema(schema, lastColumnId, next);
    expect(out.changed).toBe(true);
    expect(out.schema['schema-id']).toBe(1);
    expect(out.schema.fields.map((f) => [f.id, f.name])).toEqual([[1, 'id'], [2, 'tags'], [3, 'attrs'], [4, 'info'], [12, 'extra']]);
    const info = out.schema.fields[3]!.type as { fields: Array<{ id: number; name: string }> };
    expect(info.fields.map((f) => [f.id, f.name])).toEqual([[8, 'a'], [9, 'b'], [11, 'c']]);
    expect(out.lastColumnId).toBe(12);
  });

  it('is unchanged for the same columns and allows widening and relaxing', () => {
    expect(evolveSchema(schema, lastColumnId, base).changed).toBe(false);
    const widened = evolveSchema(buildSchema(fields({ a: 'INT NOT NULL', f: 'FLOAT', d: 'DECIMAL(9, 2)' })).schema, 3, fields({ a: 'BIGINT', f: 'DOUBLE', d: 'DECIMAL(12, 2)' }));
    expect(widened.schema.fields.map((f) => [f.type, f.required])).toEqual([['long', false], ['double', false], ['decimal(12, 2)', false]]);
  });

  it('refuses changes that break readers, naming the column', () => {
    expect(code(() => evolveSchema(schema, lastColumnId, fields({ id: 'BIGINT NOT NULL', tags: 'ARRAY<STRING>', attrs: 'MAP<STRING, INT>' })))).toBe('SCHEMA_INCOMPATIBLE_CHANGE info');
    expect(code(() => evolveSchema(schema, lastColumnId, fields({ id: 'INT NOT NULL', tags: 'ARRAY<STRING>', attrs: 'MAP<STRING, INT>', info: 'ROW<a INT, b ARRAY<BIGINT>>' })))).toBe('SCHEMA_INCOMPATIBLE_CHANGE id');
    expect(code(() => evolveSchema(schema, lastColumnId, fields({ id: 'BIGINT NOT NULL', tags: 'ARRAY<STRING> NOT NULL', attrs: 'MAP<STRING, INT>', info: 'ROW<a INT, b ARRAY<BIGINT>>' })))).toBe('SCHEMA_INCOMPATIBLE_CHANGE tags');
    expect(code(() => evolveSchema(schema, lastColumnId, fields({ id: 'BIGINT NOT NULL', tags: 'ARRAY<STRING>', attrs: 'MAP<STRING, INT>', info: 'ROW<a STRING, b ARRAY<BIGINT>>' })))).toBe('SCHEMA_INCOMPATIBLE_CHANGE info.a');
    expect(code(() => evolveSchema(schema, lastColumnId, [...base, ...fields({ must: 'INT NOT NULL' })]))).toBe('SCHEMA_INCOMPATIBLE_CHANGE must');
  });
});

describe('Arrow binding', () => {
  it('puts PARQUET:field_id on every field, nested ones included, and reorders by name', () => {
    const { schema } = buildSchema(base);
    const target = bindArrowSchema(arrowSchemaOf(base), schema);
    const ids: string[] = [];
    const walk = (f: { name: string; metadata: Map<string, string>; type: { children?: Array<never> | null } }): void => {
      ids.push(`${f.name}:${f.metadata.get('PARQUET:field_id')}`);
      for (const c of (f.type.children ?? []) as never[]) walk(c);
    };
    target.fields.forEach((f) => walk(f as never));
    expect(ids).toEqual(['id:1', 'tags:2', 'element:5', 'attrs:3', 'entries:undefined', 'key:6', 'value:7', 'info:4', 'a:8', 'b:9', 'element:10']);

    const reversed = fields({ info: base[3]!.typeText, attrs: base[2]!.typeText, tags: base[1]!.typeText, id: base[0]!.typeText });
    const batch = batchOf(reversed, [{ id: 1n, tags: ['a'], info: { a: 1, b: [2n] } }]);
    const bound = rebindBatch(batch, target);
    expect(bound.schema.fields.map((f) => f.name)).toEqual(['id', 'tags', 'attrs', 'info']);
    expect(bound.getChild('id')!.get(0)).toBe(1n);
  });
});
