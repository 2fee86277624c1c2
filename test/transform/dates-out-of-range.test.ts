// Regression: a DATE or TIMESTAMP past year 9999 (or before 0000) used to reach the sink — text
// with a five-digit year parsed, epoch numbers were taken as they came, and values wrapped in the
// Int32/Int64 columns — where the day(ts) partition transform threw a RangeError on every retry.
// Now such a value is its record's dead letter, with the reason, on every input path.

import * as arrow from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { packRawBatch } from '../../src/kafka/raw-batch.js';
import { compileSqlTransform, transformFor } from '../../src/transform/batch-transform.js';
import { buildColumn } from '../../src/transform/columns.js';
import { buildSinkRows } from '../../src/transform/result.js';
import { arrowSchemaOf } from '../../src/schema/type-mapping.js';
import type { PipelineConfig } from '../../src/config/types.js';
import type { Transformer } from '../../src/transform/transformer.js';
import { StreamError } from '../../src/errors.js';
import { fields, pipeline, rowsOf, us } from './helpers.js';

const NOW = 1767225600000;

function raw(values: string[]) {
  return packRawBatch('t', 0, values.map((value, k) => ({ offset: k, timestamp: NOW, value })));
}

function letters(out: { deadLetters: arrow.RecordBatch | null }): Array<[bigint, string]> {
  return out.deadLetters === null ? [] : rowsOf(out.deadLetters).map((d) => [d.source_offset as bigint, d.error_message as string]);
}

const FOUR = ['{"ts":"2024-01-01 00:00:00"}', '{"ts":"280000-01-01 00:00:00"}', '{"ts":"9999-12-31 23:59:59"}', '{"ts":"0000-01-01 00:00:00"}'];
/** Arrow's DateDay getter gives milliseconds. */
const DAY_MS = 86_400_000;

describe('JSON and CSV text', () => {
  it('a five-digit year is the record’s dead letter naming the field and what is read; years 0000 and 9999 land', () => {
    const config = pipeline({ source: { ts: 'TIMESTAMP(3)' }, sink: { ts: 'TIMESTAMP(3)' } });
    const out = compileSqlTransform(config, 'SELECT ts FROM kafka_test_events').run(raw(FOUR), NOW);
    expect(rowsOf(out.rows).map((r) => r.ts)).toEqual([us('2024-01-01T00:00:00'), 253402300799000000n, -62167219200000000n]);
    expect(letters(out)).toEqual([[1n, 'field ts: "280000-01-01 00:00:00" cannot be read as TIMESTAMP(3) (expected yyyy-MM-dd[ HH:mm[:ss[.fraction]]], years 0000–9999)']]);
    // An epoch number is not TIMESTAMP text for Flink's JSON format either, whatever its size.
    const epoch = compileSqlTransform(config, 'SELECT ts FROM kafka_test_events').run(raw(['{"ts":8773779340800000}']), NOW);
    expect(letters(epoch)).toEqual([[0n, 'field ts: 8773779340800000 cannot be read as TIMESTAMP(3)']]);
  });

  it('DATE text past 9999 or with a sign, in JSON and CSV', () => {
    const json = pipeline({ source: { d: 'DATE' }, sink: { d: 'DATE' } });
    const out = compileSqlTransform(json, 'SELECT d FROM kafka_test_events').run(raw(['{"d":"10000-01-01"}', '{"d":"-0001-01-01"}', '{"d":"9999-12-31"}']), NOW);
    expect(rowsOf(out.rows).map((r) => r.d)).toEqual([2932896 * DAY_MS]);
    expect(letters(out).map(([o]) => o)).toEqual([0n, 1n]);
    expect(letters(out)[0]![1]).toMatch(/^field d: "10000-01-01" cannot be read as DATE \(expected yyyy-MM-dd, years 0000–9999\)$/);
    const csv: PipelineConfig = { ...pipeline({ source: { d: 'DATE', ts: 'TIMESTAMP(3)' }, sink: { d: 'DATE', ts: 'TIMESTAMP(3)' } }), format: 'csv' };
    const c = compileSqlTransform(csv, 'SELECT d, ts FROM kafka_test_events').run(raw(['2024-01-01,123456-01-01 00:00:00', '2024-01-02,2024-01-02 00:00:00']), NOW);
    expect(c.rows.numRows).toBe(1);
    expect(letters(c)).toEqual([[0n, 'field ts (column 2): "123456-01-01 00:00:00" cannot be read as TIMESTAMP(3) (expected yyyy-MM-dd[ HH:mm[:ss[.fraction]]], years 0000–9999)']]);
  });
});

describe('SQL functions that make dates and timestamps', () => {
  const config = pipeline({ source: { ms: 'BIGINT', s: 'STRING', ts: 'TIMESTAMP(3)' }, sink: { t: 'TIMESTAMP_LTZ(3)' } });

  it('TO_TIMESTAMP_LTZ of an epoch number past 9999 is a dead letter with the number', () => {
    const out = compileSqlTransform(config, 'SELECT TO_TIMESTAMP_LTZ(ms, 3) AS t FROM kafka_test_events').run(raw(['{"ms":1704067200000}', '{"ms":8773779340800000}', '{"ms":-62167219200001}']), NOW);
    expect(rowsOf(out.rows).map((r) => r.t)).toEqual([us('2024-01-01T00:00:00')]);
    expect(letters(out)).toEqual([
      [1n, 'TO_TIMESTAMP_LTZ(8773779340800000, 3): 280000-01-01 00:00:00.000000 (8773779340800000000 µs since 1970-01-01) is outside the TIMESTAMP range 0000-01-01 00:00:00 to 9999-12-31 23:59:59.999999'],
      [2n, expect.stringMatching(/^TO_TIMESTAMP_LTZ\(-62167219200001, 3\): -0001-12-31 23:59:59\.999000 .* is outside the TIMESTAMP range/)],
    ]);
  });

  it('TO_TIMESTAMP and CAST do not read a five-digit year; a patterned year past 9999 is NULL as unparsable text', () => {
    const sink = pipeline({ source: { s: 'STRING' }, sink: { a: 'TIMESTAMP(3)', b: 'TIMESTAMP(3)' } });
    const out = compileSqlTransform(sink, "SELECT TO_TIMESTAMP(s) AS a, TO_TIMESTAMP(s, 'y-MM-dd HH:mm:ss') AS b FROM kafka_test_events").run(raw(['{"s":"12345-01-01 00:00:00"}', '{"s":"9999-01-01 00:00:00"}']), NOW);
    expect(rowsOf(out.rows)).toEqual([{ a: null, b: null }, { a: 253370764800000000n, b: 253370764800000000n }]);
    const cast = pipeline({ source: { s: 'STRING' }, sink: { d: 'DATE' } });
    const c = compileSqlTransform(cast, 'SELECT CAST(s AS DATE) AS d FROM kafka_test_events').run(raw(['{"s":"12345-01-01"}']), NOW);
    expect(letters(c)).toEqual([[0n, "cannot CAST '12345-01-01' AS DATE"]]);
  });

  it('CAST between timestamp kinds that crosses the end of 9999 in the session zone is a dead letter', () => {
    const cast = pipeline({ source: { ts: 'TIMESTAMP(3)' }, sink: { t: 'TIMESTAMP_LTZ(3)' } });
    const out = compileSqlTransform(cast, 'SELECT CAST(ts AS TIMESTAMP_LTZ(3)) AS t FROM kafka_test_events', { sessionTimeZone: 'America/New_York' }).run(raw(['{"ts":"9999-12-31 22:00:00"}', '{"ts":"2024-01-01 00:00:00"}']), NOW);
    expect(rowsOf(out.rows).map((r) => r.t)).toEqual([us('2024-01-01T05:00:00')]);
    expect(letters(out)).toEqual([[0n, expect.stringMatching(/^cannot CAST 253402293600000000 AS TIMESTAMP_LTZ\(3\): 10000-01-01 03:00:00\.000000 .* is outside the TIMESTAMP range/)]]);
  });
});

describe('TypeScript transformers', () => {
  const config = pipeline({ source: { n: 'BIGINT' }, sink: { ts: 'TIMESTAMP_LTZ(3)', d: 'DATE' } });

  it('map() returning a Date or an epoch number past 9999 costs that record, not the batch', () => {
    const t: Transformer = {
      getDescription: () => 'dates from map()',
      map: (row) => {
        const n = row.n as number;
        if (n === 1) return { ts: new Date(Date.UTC(20000, 0, 1)), d: '2024-01-01' };
        if (n === 2) return { ts: 1e20, d: '2024-01-01' };
        if (n === 3) return { ts: 0, d: new Date(Date.UTC(10000, 0, 1)) };
        return { ts: Date.UTC(2024, 0, 1), d: new Date(Date.UTC(9999, 11, 31)) };
      },
    };
    const out = transformFor(config, t, 'rows', null).run(raw(['{"n":0}', '{"n":1}', '{"n":2}', '{"n":3}']), NOW);
    expect(rowsOf(out.rows)).toEqual([{ ts: us('2024-01-01T00:00:00'), d: 2932896 * DAY_MS }]);
    expect(letters(out)).toEqual([
      [1n, 'map() returned a value for column ts (TIMESTAMP_LTZ(3)) that is out of range: 20000-01-01 00:00:00.000000 (568971820800000000 µs since 1970-01-01) is outside the TIMESTAMP range 0000-01-01 00:00:00 to 9999-12-31 23:59:59.999999'],
      [2n, expect.stringMatching(/^map\(\) returned a value for column ts \(TIMESTAMP_LTZ\(3\)\) that is out of range: .* is outside the TIMESTAMP range/)],
      [3n, 'map() returned a value for column d (DATE) that is out of range: 10000-01-01 (day 2932897) is outside the DATE range 0000-01-01 to 9999-12-31'],
    ]);
  });

  it('a columnar result with a timestamp past 9999 dead-letters the batch, naming column, row and value', () => {
    const sink = fields({ ts: 'TIMESTAMP_LTZ(3)', d: 'DATE' });
    const t: Transformer = {
      getDescription: () => 'dates from transform()',
      transform: (batch) => {
        const n = batch.numRows;
        const values = Array.from({ length: n }, (_, i) => BigInt(i === 1 ? 8773779340800000000n : 0n));
        const ts = arrow.makeData({ type: new arrow.TimestampMicrosecond('UTC'), length: n, nullCount: 0, data: BigInt64Array.from(values) });
        const d = arrow.makeData({ type: new arrow.DateDay(), length: n, nullCount: 0, data: new Int32Array(n) });
        return new arrow.RecordBatch(arrowSchemaOf(sink), arrow.makeData({ type: new arrow.Struct(arrowSchemaOf(sink).fields), length: n, nullCount: 0, children: [ts, d] }));
      },
    };
    const run = transformFor(config, t, 'columnar', null);
    expect(run.run(raw(['{"n":0}']), NOW).rows.numRows).toBe(1);
    const out = run.run(raw(['{"n":0}', '{"n":1}']), NOW);
    expect(out.rows.numRows).toBe(0);
    const why = 'transform() returned column ts row 1: TIMESTAMP_LTZ(3) value 280000-01-01 00:00:00.000000 (8773779340800000000 µs since 1970-01-01) is outside the TIMESTAMP range 0000-01-01 00:00:00 to 9999-12-31 23:59:59.999999';
    expect(letters(out)).toEqual([[0n, why], [1n, why]]);
  });
});

describe('the column builders, the last guard before the table', () => {
  it('refuse a DATE or TIMESTAMP outside 0000–9999 instead of wrapping it, and buildSinkRows makes that row a dead letter', () => {
    const [d, ts] = fields({ d: 'DATE', ts: 'TIMESTAMP(6)' }).map((f) => f.type);
    expect(() => buildColumn([2_932_897], d!, null, 1)).toThrow(StreamError);
    expect(() => buildColumn([2 ** 31], d!, null, 1)).toThrow(/DATE value .* is outside the DATE range 0000-01-01 to 9999-12-31/);
    expect(() => buildColumn([9_223_372_036_854_775_807n], ts!, null, 1)).toThrow(/TIMESTAMP\(6\) value .* is outside the TIMESTAMP range/);
    expect(() => buildColumn([253402300800000000], ts!, null, 1)).toThrow(/10000-01-01 00:00:00\.000000/);
    const sink = fields({ id: 'INT', ts: 'TIMESTAMP(6)' });
    const rejected: Array<[number, string]> = [];
    const rows = buildSinkRows(arrowSchemaOf(sink), sink, [[1, 2, 3], [0, 1e19, -62167219200000000]], Int32Array.of(0, 1, 2), (j, m) => rejected.push([j, m]));
    expect(rows.numRows).toBe(2);
    expect(rejected).toEqual([[1, expect.stringMatching(/^column ts: the value cannot be written \(TIMESTAMP\(6\) value .* is outside the TIMESTAMP range/)]]);
  });
});
