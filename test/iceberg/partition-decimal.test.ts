// Regression: decimals reached the sink rounded through doubles, so the bounds and the
// truncate / bucket partition values of 12345678901234567.89 were those of 12345678901234568.00.
// The rows here come from the real JSON decoder and SQL transform, as the sink receives them.

import { describe, expect, it } from 'vitest';
import { packRawBatch } from '../../src/kafka/raw-batch.js';
import { buildSchema } from '../../src/iceberg/schema.js';
import { bucket, murmur3x86_32 } from '../../src/iceberg/partition.js';
import { splitByPartition } from '../../src/iceberg/partition-split.js';
import { computeMetrics, decimalBytes } from '../../src/iceberg/stats.js';
import { compileSqlTransform } from '../../src/transform/batch-transform.js';
import { pipeline } from '../transform/helpers.js';

const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('hex');

function sinkBatch(values: string[]) {
  const config = pipeline({ topic: 't', source: { amt: 'DECIMAL(20, 2)' }, sink: { amt: 'DECIMAL(20, 2)' } });
  const raw = packRawBatch('t', 0, values.map((v, k) => ({ offset: k, timestamp: 0, value: `{"amt": ${v}}` })));
  return { config, batch: compileSqlTransform(config, 'SELECT amt FROM kafka_t').run(raw, 0).rows };
}

describe('decimal partition values and bounds from the transform, spec-exact', () => {
  const { config, batch } = sinkBatch(['12345678901234567.89', '99999999999999999.99', '-12345678901234567.85']);

  it('lower and upper bounds are the minimal two’s-complement bytes of the exact unscaled values', () => {
    const { schema } = buildSchema(config.sink.schema);
    const m = computeMetrics(schema, [batch]);
    const id = schema.fields[0]!.id;
    expect(hex(m.lowerBounds[id])).toBe(hex(decimalBytes(-1234567890123456785n)));
    expect(hex(m.upperBounds[id])).toBe(hex(decimalBytes(9999999999999999999n)));
  });

  it('truncate[W] is unscaled - (((unscaled % W) + W) % W), towards negative infinity', () => {
    const groups = splitByPartition(batch, [{ column: 0, type: 'decimal(20, 2)', transform: 'truncate[100]' }]);
    const byRow = new Map(groups.flatMap((g) => Array.from(g.rows, (r) => [r, g.values[0]] as const)));
    expect([0, 1, 2].map((r) => byRow.get(r))).toEqual([1234567890123456700n, 9999999999999999900n, -1234567890123456800n]);
  });

  it('bucket[N] hashes the minimal big-endian bytes of the unscaled value', () => {
    const groups = splitByPartition(batch, [{ column: 0, type: 'decimal(20, 2)', transform: 'bucket[1024]' }]);
    const byRow = new Map(groups.flatMap((g) => Array.from(g.rows, (r) => [r, g.values[0]] as const)));
    const expected = [1234567890123456789n, 9999999999999999999n, -1234567890123456785n].map((u) => (murmur3x86_32(decimalBytes(u)) & 0x7fffffff) % 1024);
    expect([0, 1, 2].map((r) => byRow.get(r))).toEqual(expected);
    expect(expected[0]).toBe(bucket('decimal(20, 2)', 1234567890123456789n, 1024));
    // The rounded value the double gave hashes elsewhere: the test can tell them apart.
    expect(expected[0]).not.toBe(bucket('decimal(20, 2)', 1234567890123456800n, 1024));
  });
});
