import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { buildSchema } from '../../src/iceberg/schema.js';
import { MetricsAccumulator, computeMetrics, decimalBytes, serializeValue } from '../../src/iceberg/stats.js';
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

describe('column metrics over many batches, against the values read back one by one', () => {
  const cols = fields({ s: 'STRING', b: 'BYTES', n: 'BIGINT', t: 'TIMESTAMP(6)', tags: 'ARRAY<STRING>' });
  const { schema } = buildSchema(cols);
  let seed = 7;
  const rand = (k: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % k;
  };
  const pick = <T,>(xs: readonly T[]): T => xs[rand(xs.length)]!;
  const strings = ['', 'a', 'ab', 'b', 'é', 'éa', '\u{1F600}', 'zz', 'Z', 'a\u0000', 'longer-than-sixteen-characters-here'];
  const longs = [0n, 1n, -1n, 4294967295n, 4294967296n, -4294967296n, -4294967297n, 9223372036854775807n, -9223372036854775808n, 123456789012n];
  const row = () => ({
    s: rand(5) === 0 ? null : pick(strings),
    b: rand(5) === 0 ? null : new TextEncoder().encode(pick(strings)),
    n: rand(5) === 0 ? null : pick(longs),
    t: rand(5) === 0 ? null : pick(longs.filter((v) => v > -(2n ** 62n) && v < 2n ** 62n)),
    tags: rand(3) === 0 ? null : [pick(strings), pick(strings)],
  });

  it('bounds and counts match a plain pass over the values, including a batch sliced out of a larger one', () => {
    for (let round = 0; round < 20; round++) {
      const sets = Array.from({ length: 1 + rand(4) }, () => Array.from({ length: 1 + rand(40) }, row));
      const batches = sets.map((rs) => batchOf(cols, rs));
      const rows: Array<ReturnType<typeof row>> = sets.flat();
      // A batch that starts inside its buffers, as a split by partition or a slice gives.
      if (sets[0]!.length > 2) {
        batches.push(batches[0]!.slice(1, sets[0]!.length - 1));
        rows.push(...sets[0]!.slice(1, sets[0]!.length - 1));
      }
      const m = computeMetrics(schema, batches);
      const enc = (v: unknown) => (typeof v === 'string' ? new TextEncoder().encode(v) : (v as Uint8Array));
      const cmp = (x: Uint8Array, y: Uint8Array) => Buffer.compare(Buffer.from(x), Buffer.from(y));
      for (const [id, name] of [[1, 's'], [2, 'b']] as const) {
        const present = rows.map((r) => r[name]).filter((v) => v !== null).map(enc);
        expect(m.nullValueCounts[id]).toBe(rows.length - present.length);
        const sorted = [...present].sort(cmp);
        if (present.length === 0) expect(m.lowerBounds[id]).toBeUndefined();
        else expect(hex(m.lowerBounds[id])).toBe(hex(serializeValue(name === 's' ? 'string' : 'binary', sorted[0]!).subarray(0, 16)));
      }
      for (const [id, name, type] of [[3, 'n', 'long'], [4, 't', 'timestamp']] as const) {
        const present = rows.map((r) => r[name]).filter((v): v is bigint => v !== null);
        expect(m.valueCounts[id]).toBe(rows.length);
        expect(m.nullValueCounts[id]).toBe(rows.length - present.length);
        if (present.length === 0) continue;
        const min = present.reduce((x, y) => (y < x ? y : x));
        const max = present.reduce((x, y) => (y > x ? y : x));
        expect(hex(m.lowerBounds[id])).toBe(hex(serializeValue(type, min)));
        expect(hex(m.upperBounds[id])).toBe(hex(serializeValue(type, max)));
      }
    }
  });
});

describe('column metrics counted apart and merged', () => {
  const cols = fields({ s: 'STRING', n: 'BIGINT', d: 'DOUBLE', f: 'BOOLEAN', m: 'DECIMAL(20, 2)', tags: 'ARRAY<STRING>' });
  const { schema } = buildSchema(cols);
  let seed = 11;
  const rand = (k: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % k;
  };
  const pick = <T,>(xs: readonly T[]): T => xs[rand(xs.length)]!;
  const row = () => ({
    s: rand(4) === 0 ? null : pick(['', 'a', 'ab', 'é', '\u{1F600}', 'Z', 'longer-than-sixteen-characters-here']),
    n: rand(4) === 0 ? null : pick([0n, -1n, 4294967296n, -9223372036854775808n, 9223372036854775807n]),
    d: rand(4) === 0 ? null : pick([0, -0, 1.5, -2.25, Number.NaN, Number.MAX_VALUE, -Number.MIN_VALUE]),
    f: rand(4) === 0 ? null : rand(2) === 0,
    m: rand(4) === 0 ? null : pick([0n, 1n, -1n, 12345678901234567890n, -99999999999999999999n]),
    tags: rand(3) === 0 ? null : [pick(['x', 'y', ''])],
  });

  it('merging the states of batches counted one by one gives what counting them all together gives', () => {
    for (let round = 0; round < 30; round++) {
      const batches = Array.from({ length: 1 + rand(5) }, () => batchOf(cols, Array.from({ length: 1 + rand(30) }, row)));
      const merged = new MetricsAccumulator(schema);
      for (const b of batches) {
        const one = new MetricsAccumulator(schema);
        one.add(b);
        // As it crosses a thread.
        merged.merge(structuredClone(one.state()));
      }
      const whole = computeMetrics(schema, batches);
      expect(merged.result()).toEqual(whole);
    }
  });

  it('keeps -0 below 0 and leaves NaN out of the bounds when merging', () => {
    const dcols = fields({ d: 'DOUBLE' });
    const dschema = buildSchema(dcols).schema;
    const merged = new MetricsAccumulator(dschema);
    for (const values of [[0], [-0, Number.NaN], [Number.NaN]]) {
      const one = new MetricsAccumulator(dschema);
      one.add(batchOf(dcols, values.map((d) => ({ d }))));
      merged.merge(one.state());
    }
    const r = merged.result();
    expect(Object.is(new DataView(r.lowerBounds[1]!.buffer, r.lowerBounds[1]!.byteOffset).getFloat64(0, true), -0)).toBe(true);
    expect(new DataView(r.upperBounds[1]!.buffer, r.upperBounds[1]!.byteOffset).getFloat64(0, true)).toBe(0);
    expect(r.nanValueCounts[1]).toBe(2);
    expect(r.valueCounts[1]).toBe(4);
  });
});
