import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { takeBatch } from '../../src/iceberg/take.js';
import { batchOf, fields } from '../helpers/iceberg-fixtures.js';

describe('takeBatch', () => {
  const cols = fields({ id: 'BIGINT', ok: 'BOOLEAN', name: 'STRING', amount: 'DECIMAL(10, 2)', tags: 'ARRAY<STRING>', info: 'ROW<a INT, b STRING>' });
  const rows = [
    { id: 1n, ok: true, name: 'a', amount: 1n, tags: ['x'], info: { a: 1, b: 'p' } },
    { id: 2n, ok: false, name: null, amount: -2n, tags: null, info: null },
    { id: 3n, ok: null, name: 'ccc', amount: null, tags: ['y', null, 'z'], info: { a: null, b: 'q' } },
    { id: null, ok: true, name: 'd', amount: 4n, tags: [], info: { a: 4, b: null } },
  ];

  const plain = (b: arrow.RecordBatch): unknown[] => new arrow.Table(b).toArray().map((r) => JSON.parse(JSON.stringify(r.toJSON(), (_k, v) => (typeof v === 'bigint' ? v.toString() : v))));

  it('selects rows in the given order, nulls and nested values included', () => {
    const batch = batchOf(cols, rows);
    const all = plain(batch);
    expect(plain(takeBatch(batch, Int32Array.from([3, 0, 2])))).toEqual([all[3], all[0], all[2]]);
  });

  it('selects from a sliced batch relative to the slice', () => {
    const batch = batchOf(cols, rows);
    const all = plain(batch);
    const sliced = new arrow.RecordBatch(batch.schema, batch.data.slice(1, 3));
    expect(plain(takeBatch(sliced, Int32Array.from([2, 0])))).toEqual([all[3], all[1]]);
  });
});
