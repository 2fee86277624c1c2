import { describe, expect, it } from 'vitest';
import { applyTransform } from '../../src/iceberg/partition.js';
import type { PartitionSource } from '../../src/iceberg/partition-split.js';
import { splitByPartition } from '../../src/iceberg/partition-split.js';
import { batchOf, fields } from '../helpers/iceberg-fixtures.js';

describe('splitByPartition', () => {
  const cols = fields({ ts: 'TIMESTAMP_LTZ(3)', user: 'BIGINT', n: 'INT', s: 'STRING' });
  let seed = 7;
  const rnd = (m: number): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % m;
  const rows = Array.from({ length: 500 }, () => ({
    ts: rnd(10) === 0 ? null : BigInt(rnd(2_000_000) - 1_000_000) * 3_600_000_000n + BigInt(rnd(3_600_000_000)),
    user: rnd(9) === 0 ? null : BigInt(rnd(1_000_000) - 500_000) * 1_000_003n,
    n: rnd(7) === 0 ? null : rnd(2000) - 1000,
    s: rnd(8) === 0 ? null : `s${rnd(50)}é`,
  }));
  const batch = batchOf(cols, rows);

  const cases: Array<[string, PartitionSource[]]> = [
    ['day + bucket(long)', [{ column: 0, type: 'timestamptz', transform: 'day' }, { column: 1, type: 'long', transform: 'bucket[16]' }]],
    ['hour', [{ column: 0, type: 'timestamptz', transform: 'hour' }]],
    ['month + year', [{ column: 0, type: 'timestamptz', transform: 'month' }, { column: 0, type: 'timestamptz', transform: 'year' }]],
    ['bucket(int) + bucket(string)', [{ column: 2, type: 'int', transform: 'bucket[7]' }, { column: 3, type: 'string', transform: 'bucket[5]' }]],
    ['identity + truncate', [{ column: 3, type: 'string', transform: 'identity' }, { column: 2, type: 'int', transform: 'truncate[100]' }]],
  ];

  for (const [name, sources] of cases) {
    it(`puts every row in the group of its own transformed values: ${name}`, () => {
      const groups = splitByPartition(batch, sources);
      const seen = new Set<number>();
      const names = ['ts', 'user', 'n', 's'] as const;
      for (const g of groups) {
        for (const r of g.rows) {
          seen.add(r);
          const expected = sources.map((s) => {
            const v = rows[r]![names[s.column]!];
            return v === null ? null : applyTransform(s.transform, s.type, v as never);
          });
          expect(g.values).toEqual(expected);
        }
        expect([...g.rows]).toEqual([...g.rows].sort((a, b) => a - b));
      }
      expect(seen.size).toBe(rows.length);
      expect(new Set(groups.map((g) => JSON.stringify(g.values, (_k, v) => (typeof v === 'bigint' ? String(v) : v)))).size).toBe(groups.length);
    });
  }
});

describe('splitByPartition at the ends of the timestamp range', () => {
  it('gives the day and hour of micros beyond 2^53 exactly, where a double rounds across the boundary', () => {
    // 9999-12-31 23:59:59.999999 is 253402300800000000 as a double: the next day, and year 10000.
    const cols = fields({ ts: 'TIMESTAMP(6)' });
    const batch = batchOf(cols, [{ ts: 253402300799999999n }, { ts: -62167219199999999n }, { ts: 253402300800000000n }]);
    const day = splitByPartition(batch, [{ column: 0, type: 'timestamp', transform: 'day' }]).map((g) => [g.values[0], [...g.rows]]);
    expect(day).toEqual([[2932896, [0]], [-719528, [1]], [2932897, [2]]]);
    const hour = splitByPartition(batch, [{ column: 0, type: 'timestamp', transform: 'hour' }]).map((g) => g.values[0]);
    expect(hour).toEqual([2932896 * 24 + 23, -719528 * 24, 2932897 * 24]);
  });
});
