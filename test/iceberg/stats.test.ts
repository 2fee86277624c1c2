import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { buildSchema } from '../../src/iceberg/schema.js';
import { computeMetrics, decimalBytes, serializeValue } from '../../src/iceberg/stats.js';
import { batchOf, fields } from '../helpers/iceberg-fixtures.js';

const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('hex');

describe('single-value serialization (spec Appendix D)', () => {
  it('writes ints, longs, floats little-endian', () => {
    expect(hex(serializeValue('int', 1))).toBe('01000000');
    expect(hex(serializeValue('date', -1))).toBe('ffffffff');
    expect(hex(serializeValue('long', 1n))).toBe('0100000000000000');
    expect(hex(serializeValue('timestamp', -2n))).toBe('feffffffffffffff');
    expect(hex(serializeValue('float', 1))).toBe('0000803f');
    expect(hex(serializeValue('double', -0.5))).toBe('000000000000e0bf');
    expect(hex(serializeValue('boolean', true))).toBe('01');
  });
  it('writes strings as UTF-8 and decimals as minimal big-endian two’s complement', () => {
    expect(hex(serializeValue('string', 'aé'))).toBe('61c3a9');
    expect(hex(decimalBytes(1420n))).toBe('058c');
    expect(hex(decimalBytes(0n))).toBe('00');
    expect(hex(decimalBytes(-1n))).toBe('ff');
    expect(hex(decimalBytes(127n))).toBe('7f');
    expect(hex(decimalBytes(128n))).toBe('0080');
    expect(hex(decimalBytes(-129n))).toBe('ff7f');
    expect(hex(serializeValue('decimal(10, 2)', -5n))).toBe('fb');
  });
});

describe('column metrics', () => {
  const cols = fields({ id: 'BIGINT NOT NULL', name: 'STRING', score: 'DOUBLE', info: 'ROW<a INT>', tags: 'ARRAY<STRING>' });
  const { schema } = buildSchema(cols);

  function bound(rows: Array<Record<string, unknown>>): ReturnType<typeof computeMetrics> {
    return computeMetrics(schema, [batchOf(cols, rows)]);
  }

  it('counts values, nulls and NaNs and bounds each leaf', () => {
    const m = bound([
      { id: 5n, name: 'b', score: NaN, info: { a: 3 }, tags: ['x', null] },
      { id: -2n, name: null, score: 1.5, info: null, tags: null },
      { id: 9n, name: 'a', score: -1, info: { a: null }, tags: ['y'] },
    ]);
    const ids = Object.fromEntries(schema.fields.map((f) => [f.name, f.id]));
    expect(m.valueCounts[ids.id!]).toBe(3);
    expect(m.nullValueCounts[ids.name!]).toBe(1);
    expect(m.nanValueCounts[ids.score!]).toBe(1);
    expect(hex(m.lowerBounds[ids.id!])).toBe(hex(serializeValue('long', -2n)));
    expect(hex(m.upperBounds[ids.id!])).toBe(hex(serializeValue('long', 9n)));
    expect(new TextDecoder().decode(m.lowerBounds[ids.name!])).toBe('a');
    expect(new TextDecoder().decode(m.upperBounds[ids.name!])).toBe('b');
    expect(hex(m.lowerBounds[ids.score!])).toBe(hex(serializeValue('double', -1)));
    expect(hex(m.upperBounds[ids.score!])).toBe(hex(serializeValue('double', 1.5)));
    // info.a: null inside a null struct counts as null too.
    const infoA = 6;
    expect(m.nullValueCounts[infoA]).toBe(2);
    expect(hex(m.lowerBounds[infoA])).toBe('03000000');
    // List elements: counted per element, no bounds.
    const element = 7;
    expect(m.valueCounts[element]).toBe(3);
    expect(m.nullValueCounts[element]).toBe(1);
    expect(m.lowerBounds[element]).toBeUndefined();
  });

  it('bounds dates and timestamps at the ends of their ranges without throwing', () => {
    const cols = fields({ ts: 'TIMESTAMP(6)', d: 'DATE' });
    const { schema: s } = buildSchema(cols);
    const m = computeMetrics(s, [batchOf(cols, [
      { ts: 9223372036854775807n, d: 2147483647 },
      { ts: -9223372036854775808n, d: -2147483648 },
      { ts: 253402300799999999n, d: 2932896 },
    ])]);
    expect(hex(m.lowerBounds[1])).toBe(hex(serializeValue('timestamp', -9223372036854775808n)));
    expect(hex(m.upperBounds[1])).toBe('ffffffffffffff7f');
    expect(hex(m.lowerBounds[2])).toBe('00000080');
    expect(hex(m.upperBounds[2])).toBe('ffffff7f');
  });

  it('truncates long string bounds to 16 code points, rounding the upper bound up', () => {
    const m = bound([{ id: 1n, name: 'abcdefghijklmnopqrstuvwxyz' }, { id: 2n, name: 'abcdefghijklmnopZZZ' }]);
    expect(new TextDecoder().decode(m.lowerBounds[2])).toBe('abcdefghijklmnop');
    expect(new TextDecoder().decode(m.upperBounds[2])).toBe('abcdefghijklmnoq');
  });

  it('bounds only the rows of a sliced batch', () => {
    const batch = batchOf(cols, [{ id: 100n }, { id: 1n }, { id: 2n }, { id: -100n }]);
    const sliced = new arrow.RecordBatch(batch.schema, batch.data.slice(1, 2));
    const m = computeMetrics(schema, [sliced]);
    expect(hex(m.lowerBounds[1])).toBe(hex(serializeValue('long', 1n)));
    expect(hex(m.upperBounds[1])).toBe(hex(serializeValue('long', 2n)));
    expect(m.valueCounts[1]).toBe(2);
  });
});
