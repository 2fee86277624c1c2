// Arrow batches and sink configs for the Iceberg tests, built the way the transform workers
// build them: typed arrays wrapped with makeData, no field ids.

import * as arrow from 'apache-arrow';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseSqlType } from '../../src/schema/sql-types.js';
import type { CatalogConfig, FieldConfig, PartitionFieldConfig, SinkConfig } from '../../src/config/types.js';
import { arrowSchemaOf } from '../../src/schema/type-mapping.js';

export function fields(spec: Record<string, string>): FieldConfig[] {
  return Object.entries(spec).map(([name, typeText]) => ({ name, typeText, type: parseSqlType(typeText) }));
}

export function sinkConfig(tableName: string, schema: FieldConfig[], partitionBy: PartitionFieldConfig[] = [], properties: Record<string, string> = {}): SinkConfig {
  return { tableNameRaw: tableName, tableName, schema, partitionBy, properties };
}

export function sqlCatalogConfig(name = 'test'): { config: Extract<CatalogConfig, { type: 'sql' }>; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'iceberg-sql-'));
  return {
    dir,
    config: {
      type: 'sql',
      name,
      uri: `sqlite:///${join(dir, 'catalog.db')}`,
      sqlitePath: join(dir, 'catalog.db'),
      warehouse: pathToFileURL(join(dir, 'warehouse')).href,
      namespace: 'analytics',
    },
  };
}

function validity(values: readonly unknown[]): { nullBitmap: Uint8Array; nullCount: number } {
  const nullBitmap = new Uint8Array((values.length + 7) >> 3);
  let nullCount = 0;
  values.forEach((v, i) => {
    if (v === null || v === undefined) nullCount++;
    else nullBitmap[i >> 3]! |= 1 << (i & 7);
  });
  return { nullBitmap, nullCount };
}

const enc = new TextEncoder();

/** Builds one column's Data from JS values (null = SQL NULL) for the given Arrow type. */
export function column(type: arrow.DataType, values: readonly unknown[]): arrow.Data {
  const n = values.length;
  const { nullBitmap, nullCount } = validity(values);
  if (arrow.DataType.isUtf8(type) || arrow.DataType.isBinary(type)) {
    const parts = values.map((v) => (v === null || v === undefined ? new Uint8Array() : typeof v === 'string' ? enc.encode(v) : (v as Uint8Array)));
    const offs = new Int32Array(n + 1);
    parts.forEach((p, i) => (offs[i + 1] = offs[i]! + p.length));
    const data = new Uint8Array(offs[n]!);
    parts.forEach((p, i) => data.set(p, offs[i]!));
    return arrow.makeData({ type, length: n, nullCount, nullBitmap, valueOffsets: offs, data } as never);
  }
  if (arrow.DataType.isBool(type)) {
    const data = new Uint8Array((n + 7) >> 3);
    values.forEach((v, i) => {
      if (v === true) data[i >> 3]! |= 1 << (i & 7);
    });
    return arrow.makeData({ type, length: n, nullCount, nullBitmap, data } as never);
  }
  if (arrow.DataType.isDecimal(type)) {
    const data = new Uint32Array(4 * n);
    values.forEach((v, i) => {
      const x = BigInt.asUintN(128, (v as bigint | null) ?? 0n);
      for (let w = 0; w < 4; w++) data[4 * i + w] = Number((x >> BigInt(32 * w)) & 0xffffffffn);
    });
    return arrow.makeData({ type, length: n, nullCount, nullBitmap, data } as never);
  }
  if (arrow.DataType.isList(type)) {
    const offs = new Int32Array(n + 1);
    const flat: unknown[] = [];
    values.forEach((v, i) => {
      const items = (v as unknown[] | null) ?? [];
      flat.push(...items);
      offs[i + 1] = offs[i]! + items.length;
    });
    const child = column(type.children[0]!.type, flat);
    return arrow.makeData({ type, length: n, nullCount, nullBitmap, valueOffsets: offs, child } as never);
  }
  if (arrow.DataType.isMap(type)) {
    // Values are arrays of [key, value] pairs.
    const offs = new Int32Array(n + 1);
    const entries: Array<Record<string, unknown>> = [];
    values.forEach((v, i) => {
      const pairs = (v as Array<[unknown, unknown]> | null) ?? [];
      for (const [key, value] of pairs) entries.push({ key, value });
      offs[i + 1] = offs[i]! + pairs.length;
    });
    const child = column(type.children[0]!.type, entries);
    return arrow.makeData({ type, length: n, nullCount, nullBitmap, valueOffsets: offs, child } as never);
  }
  if (arrow.DataType.isStruct(type)) {
    const children = type.children.map((f) => column(f.type, values.map((v) => (v === null || v === undefined ? null : (v as Record<string, unknown>)[f.name] ?? null))));
    return arrow.makeData({ type, length: n, nullCount, nullBitmap, children } as never);
  }
  const ArrayType = (type as unknown as { ArrayType: new (n: number) => ArrayLike<unknown> & { [i: number]: unknown } }).ArrayType;
  const data = new ArrayType(n);
  const big = data instanceof BigInt64Array;
  values.forEach((v, i) => {
    data[i] = v === null || v === undefined ? (big ? 0n : 0) : big ? BigInt(v as bigint) : v;
  });
  return arrow.makeData({ type, length: n, nullCount, nullBitmap, data } as never);
}

/** A record batch for sink columns from row objects, like the transform workers produce. */
export function batchOf(schemaFields: readonly FieldConfig[], rows: ReadonlyArray<Record<string, unknown>>): arrow.RecordBatch {
  const schema = arrowSchemaOf(schemaFields);
  const children = schema.fields.map((f) => column(f.type, rows.map((r) => r[f.name] ?? null)));
  const data = arrow.makeData({ type: new arrow.Struct(schema.fields), length: rows.length, nullCount: 0, children });
  return new arrow.RecordBatch(schema, data);
}

/** Microseconds since the epoch of an ISO timestamp. */
export function micros(iso: string): bigint {
  return BigInt(Date.parse(iso)) * 1000n;
}

/** Days since the epoch of an ISO date. */
export function days(iso: string): number {
  return Date.parse(`${iso}T00:00:00Z`) / 86_400_000;
}
