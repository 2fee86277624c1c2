import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StreamError } from '../../src/errors.js';
import { buildTransform, compileSqlTransform } from '../../src/transform/batch-transform.js';
import { packRawBatch } from '../../src/kafka/raw-batch.js';
import { entry, pipeline, ROOT, rowsOf, us } from './helpers.js';

const FIXTURES = path.join(ROOT, 'test/transform/fixtures');
const NOW = 1767225600000;

function raw(values: (string | null)[]) {
  return packRawBatch('t', 1, values.map((value, k) => ({ offset: 10 + k, timestamp: NOW, value })));
}

const castConfig = (onError: 'dlq' | 'skip' | 'fail') =>
  pipeline({ topic: 't', source: { name: 'STRING', amount: 'STRING' }, sink: { name: 'STRING', amount: 'INT' }, onError });
const CAST_SQL = 'SELECT name, CAST(amount AS INT) AS amount FROM kafka_t WHERE name IS NOT NULL';
const INPUT = ['{"name":"a","amount":"5"}', '{"name":"b","amount":"five"}', '{"amount":"x"}', '{"name":', null];

describe('SQL transform and on_error', () => {
  it('dlq: a failing CAST dead-letters its record with EXPRESSION_FAILED; WHERE runs first', () => {
    const out = compileSqlTransform(castConfig('dlq'), CAST_SQL).run(raw(INPUT), NOW);
    expect(rowsOf(out.rows)).toEqual([{ name: 'a', amount: 5 }]);
    const dl = rowsOf(out.deadLetters!);
    expect(dl.map((d) => [d.source_offset, d.error_code, d.error_message])).toEqual([
      [11n, 'EXPRESSION_FAILED', "cannot CAST 'five' AS INT"],
      [13n, 'RECORD_DECODE_FAILED', expect.stringMatching(/^invalid JSON/)],
    ]);
    expect(new TextDecoder().decode(dl[0]!.record_value as Uint8Array)).toBe(INPUT[1]);
    expect(out.stats).toEqual({ records: 5, rows: 1, filtered: 1, tombstones: 1, deadLetters: { RECORD_DECODE_FAILED: 1, RECORD_TOO_LARGE: 0, EXPRESSION_FAILED: 1 }, newestTimestampMs: NOW });
  });

  it('skip: no dead-letter batch, but the reasons are still counted', () => {
    const out = compileSqlTransform(castConfig('skip'), CAST_SQL).run(raw(INPUT), NOW);
    expect(out.deadLetters).toBeNull();
    expect(out.rows.numRows).toBe(1);
    expect(out.stats.deadLetters.EXPRESSION_FAILED).toBe(1);
  });

  it('fail: the first bad record fails the batch with its code, topic, partition and offset', () => {
    let err: unknown;
    try {
      compileSqlTransform(castConfig('fail'), CAST_SQL).run(raw(INPUT), NOW);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StreamError);
    expect((err as StreamError).code).toBe('EXPRESSION_FAILED');
    expect((err as StreamError).message).toBe("topic t partition 1 offset 11: cannot CAST 'five' AS INT (on_error is fail)");
  });

  it('RECORD_TOO_LARGE keeps the whole original value', () => {
    const big = JSON.stringify({ name: 'y'.repeat(100) });
    const config = { ...castConfig('dlq'), maxRecordBytes: 50 };
    const out = compileSqlTransform(config, CAST_SQL).run(raw([big]), NOW);
    const dl = rowsOf(out.deadLetters!)[0]!;
    expect(dl.error_code).toBe('RECORD_TOO_LARGE');
    expect(new TextDecoder().decode(dl.record_value as Uint8Array)).toBe(big);
  });

  it('enforces NOT NULL sink columns per row, as Flink does', () => {
    const config = pipeline({ topic: 't', source: { a: 'STRING' }, sink: { a: 'STRING NOT NULL' } });
    const out = compileSqlTransform(config, 'SELECT a FROM kafka_t').run(raw(['{"a":"x"}', '{}']), NOW);
    expect(rowsOf(out.rows)).toEqual([{ a: 'x' }]);
    expect(rowsOf(out.deadLetters!)[0]!.error_message).toBe('column a is NOT NULL but the value is null');
  });

  it('carries BIGINTs beyond 2^53 exactly into Int64, and through CAST and arithmetic', () => {
    const config = pipeline({ topic: 't', source: { id: 'BIGINT' }, sink: { id: 'BIGINT', txt: 'STRING', plus1: 'BIGINT', approx: 'DOUBLE' } });
    const sql = 'SELECT id, CAST(id AS STRING) AS txt, id + 1 AS plus1, id * 1.0E0 AS approx FROM kafka_t';
    const out = compileSqlTransform(config, sql).run(raw(['{"id":1234567890123456789}', '{"id":5}']), NOW);
    expect(rowsOf(out.rows)).toEqual([
      { id: 1234567890123456789n, txt: '1234567890123456789', plus1: 1234567890123456790n, approx: 1234567890123456800 },
      { id: 5n, txt: '5', plus1: 6n, approx: 5 },
    ]);
  });

  it('SELECT * takes the source columns by name', () => {
    const config = pipeline({ topic: 't', source: { a: 'STRING', b: 'INT' }, sink: { b: 'BIGINT', a: 'STRING' } });
    const out = compileSqlTransform(config, 'SELECT * FROM kafka_t').run(raw(['{"a":"x","b":2}']), NOW);
    expect(rowsOf(out.rows)).toEqual([{ b: 2n, a: 'x' }]);
  });
});

describe('output check at start-up', () => {
  const config = pipeline({ topic: 't', source: { a: 'STRING', n: 'BIGINT', ts: 'TIMESTAMP(6)' }, sink: { a: 'STRING', n: 'INT', t: 'TIMESTAMP(3)' } });
  const fails = (sql: string) => {
    try {
      compileSqlTransform(config, sql);
    } catch (e) {
      return e as StreamError;
    }
    throw new Error('expected a mismatch');
  };

  it('names missing, extra, unnamed and unwritable columns at once', () => {
    const e = fails('SELECT a, n, UPPER(a), ts AS extra FROM kafka_t');
    expect(e.code).toBe('SCHEMA_MISMATCH');
    expect(e.details.problems).toEqual([
      'select item 3 has no name; add AS <sink column>',
      'column extra is not in the sink schema',
      'column n: a BIGINT value cannot be written into INT; CAST it',
      'sink column t (TIMESTAMP(3)) is not produced',
    ]);
  });

  it('reports the newest record timestamp of the batch, dead letters and filtered records included', () => {
    const config = pipeline({ topic: 't', source: { a: 'STRING' }, sink: { a: 'STRING' }, onError: 'dlq' });
    const batch = packRawBatch('t', 1, [
      { offset: 1, timestamp: NOW - 5000, value: '{"a":"x"}' },
      { offset: 2, timestamp: NOW + 7000, value: 'not json' },
      { offset: 3, timestamp: NOW - 1000, value: '{"a":"y"}' },
    ]);
    const out = compileSqlTransform(config, "SELECT a FROM kafka_t WHERE a = 'x'").run(batch, NOW);
    expect(out.stats.rows).toBe(1);
    expect(out.stats.newestTimestampMs).toBe(NOW + 7000);
    expect(compileSqlTransform(config, 'SELECT a FROM kafka_t').run(packRawBatch('t', 1, []), NOW).stats.newestTimestampMs).toBeUndefined();
  });

  it('accepts widening and timestamp precision changes, and truncates to the sink precision', () => {
    const t = compileSqlTransform(config, 'SELECT a, CAST(n AS INT) AS n, ts AS t FROM kafka_t');
    const out = t.run(raw(['{"a":"x","n":1,"ts":"2024-01-01 00:00:00.123456"}']), NOW);
    expect(rowsOf(out.rows)).toEqual([{ a: 'x', n: 1, t: us('2024-01-01T00:00:00.123') }]);
  });

  it('refuses a sink type the column builders cannot write', () => {
    const nested = pipeline({ topic: 't', source: { a: 'STRING' }, sink: { a: 'ARRAY<BYTES>' } });
    expect(() => compileSqlTransform(nested, 'SELECT a FROM kafka_t')).toThrow(/sink column a: BYTES inside ARRAY, MAP or ROW is not supported/);
  });
});

describe('TypeScript transformers', () => {
  const resolve = { projectRoot: FIXTURES, distRoot: null };
  const fx = (cls: string, mod: string) => entry('fx', cls, mod, path.join(FIXTURES, mod.replace(/\./g, '/') + '.ts'));

  it('row-wise: filter, map, dropped rows, thrown errors and bad output become dead letters', async () => {
    const config = pipeline({ topic: 't', source: { name: 'STRING', user_id: 'BIGINT', ts: 'TIMESTAMP(3)' }, sink: { name: 'STRING', user_id: 'BIGINT', seen_at: 'TIMESTAMP_LTZ(3)' } });
    const t = await buildTransform({ pipeline: config, entry: fx('RowsUpperTransformer', 'transformations.rows_upper'), resolve });
    expect(t.kind).toBe('rows');
    const out = t.run(raw([
      '{"name":"ann","user_id":10,"ts":"2024-01-01 00:00:00.5"}',
      '{"name":"bob","user_id":9}',
      '{"name":"skip","user_id":11}',
      '{"name":"boom","user_id":12}',
      '{"name":"extra","user_id":13}',
      '{"name":"badtype","user_id":14}',
      '{"user_id":15}',
    ]), NOW);
    expect(rowsOf(out.rows)).toEqual([
      { name: 'ANN', user_id: 10n, seen_at: us('2024-01-01T00:00:00.500') },
      { name: null, user_id: 15n, seen_at: null },
    ]);
    expect(out.stats.filtered).toBe(2);
    expect(rowsOf(out.deadLetters!).map((d) => [d.source_offset, d.error_message])).toEqual([
      [13n, 'map() threw: boom requested'],
      [14n, 'map() returned column surplus, which is not in the sink schema'],
      [15n, 'map() returned number 42 for column name, which is STRING'],
    ]);
  });

  it('columnar: output reordered to the sink, a throwing batch dead-lettered whole', async () => {
    const config = pipeline({ topic: 't', source: { id: 'STRING', v: 'DOUBLE' }, sink: { id: 'STRING', doubled: 'DOUBLE' } });
    const t = await buildTransform({ pipeline: config, entry: fx('ColumnarDoubleTransformer', 'transformations.columnar_double'), resolve });
    expect(t.kind).toBe('columnar');
    const ok = t.run(raw(['{"id":"a","v":1.5}', '{"id":"b"}']), NOW);
    expect(ok.rows.schema.fields.map((f) => f.name)).toEqual(['id', 'doubled']);
    expect(rowsOf(ok.rows)).toEqual([{ id: 'a', doubled: 3 }, { id: 'b', doubled: 0 }]);
    const bad = t.run(raw(['{"id":"a","v":13}', '{"id":"b","v":1}']), NOW);
    expect(bad.rows.numRows).toBe(0);
    expect(rowsOf(bad.deadLetters!).map((d) => d.error_message)).toEqual(['transform() threw: unlucky batch', 'transform() threw: unlucky batch']);
  });

  it('columnar: a result type that does not match the sink is a SCHEMA_MISMATCH at start-up', async () => {
    const config = pipeline({ topic: 't', source: { id: 'STRING', v: 'BIGINT' }, sink: { id: 'STRING', doubled: 'DOUBLE' } });
    await expect(buildTransform({ pipeline: config, entry: fx('ColumnarWrongTypeTransformer', 'transformations.columnar_double'), resolve })).rejects.toThrow(
      /sink table out_table: column doubled is Int64, the sink needs Float64/,
    );
  });

  it('a getTransformationSql that returns no string is a load error', async () => {
    const config = pipeline({ topic: 't', source: { a: 'STRING' }, sink: { a: 'STRING' } });
    await expect(buildTransform({ pipeline: config, entry: fx('ReturnsNumber', 'transformations.broken'), resolve })).rejects.toThrow(/getTransformationSql\(\) returned number, not a string/);
  });

  it('a spec survives structured clone (what a worker receives)', async () => {
    const config = castConfig('dlq');
    const spec = structuredClone({ pipeline: config, entry: fx('CastingTransformer', 'transformations.filtered_sql'), resolve });
    const out = (await buildTransform(spec)).run(raw(['{"name":"a","amount":"7"}']), NOW);
    expect(rowsOf(out.rows)).toEqual([{ name: 'a', amount: 7 }]);
  });
});
