// One bad record never costs its batch: every kind of poison becomes that record's dead letter
// (topic, partition, offset, key, reason) and the good records of the same batch land.

import { describe, expect, it } from 'vitest';
import { compileSqlTransform, transformFor } from '../../src/transform/batch-transform.js';
import { packRawBatch } from '../../src/kafka/raw-batch.js';
import type { Row } from '../../src/transform/transformer.js';
import { pipeline, rowsOf } from './helpers.js';

const NOW = 1767225600000;
const GOOD_BEFORE = '{"id":1,"s":"before"}';
const GOOD_AFTER = '{"id":3,"s":"after"}';

/** good, poison, good — at offsets 500, 501, 502 of partition 4, keys k500.. */
function sandwich(poison: string) {
  return packRawBatch('events', 4, [GOOD_BEFORE, poison, GOOD_AFTER].map((value, k) => ({ offset: 500 + k, timestamp: NOW, key: `k${500 + k}`, value })));
}

const text = (b: unknown) => new TextDecoder().decode(b as Uint8Array);

function runSql(source: Record<string, string>, poison: string, sql = `SELECT ${Object.keys(source).join(', ')} FROM kafka_events`) {
  const config = pipeline({ topic: 'events', source, sink: source });
  return compileSqlTransform(config, sql).run(sandwich(poison), NOW);
}

/** Asserts the batch kept both good records and dead-lettered exactly the poison; returns its reason. */
function onlyPoisonDeadLettered(out: ReturnType<typeof runSql>, poison: string): string {
  expect(rowsOf(out.rows).map((r) => r.id)).toEqual([1n, 3n]);
  const dl = rowsOf(out.deadLetters!);
  expect(dl).toHaveLength(1);
  const d = dl[0]!;
  expect([d.source_topic, d.source_partition, d.source_offset, text(d.record_key), text(d.record_value)]).toEqual(['events', 4, 501n, 'k501', poison]);
  return d.error_message as string;
}

const nestedArrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('poison records', () => {
  it('a top-level STRING field holding 20,000 nested arrays keeps their text, and the batch lands', () => {
    const deep = nestedArrays(20_000);
    const out = runSql({ id: 'BIGINT', s: 'STRING' }, `{"id":2,"s":${deep}}`);
    expect(out.deadLetters).toBeNull();
    expect(rowsOf(out.rows).map((r) => [r.id, r.s])).toEqual([[1n, 'before'], [2n, deep], [3n, 'after']]);
  });

  it('a STRING nested in a ROW holding 20,000 nested arrays is a dead letter, not a failed task', () => {
    const poison = `{"id":2,"r":{"s":${nestedArrays(20_000)}}}`;
    const out = runSql({ id: 'BIGINT', r: 'ROW<s STRING>' }, poison);
    expect(onlyPoisonDeadLettered(out, poison)).toMatch(/^field r: a value that cannot be written as JSON text for STRING \(Maximum call stack size exceeded\)$/);
  });

  it('nesting deep enough for any recursive parser is read without overflowing', () => {
    const deep = nestedArrays(200_000);
    const out = runSql({ id: 'BIGINT', s: 'STRING' }, `{"id":2,"s":${deep}}`);
    expect(rowsOf(out.rows).map((r) => (r.s as string).length)).toEqual([6, deep.length, 5]);
  });

  it('a 1,000-digit number in a STRING field is stored as those digits exactly', () => {
    const digits = '9' + '1234567890'.repeat(100).slice(1);
    const out = runSql({ id: 'BIGINT', s: 'STRING' }, `{"id":2,"s":${digits}}`);
    expect(out.deadLetters).toBeNull();
    expect(rowsOf(out.rows).map((r) => r.s)).toEqual(['before', digits, 'after']);
  });

  it('numbers in a STRING field keep their source spelling, containers lose only whitespace', () => {
    const out = runSql({ id: 'BIGINT', s: 'STRING' }, '{"id":2, "s" : { "a" : [1.0, 1e2, 12345678901234567890], "t": " x y " } }');
    expect(rowsOf(out.rows)[1]!.s).toBe('{"a":[1.0,1e2,12345678901234567890],"t":" x y "}');
    const plain = runSql({ id: 'BIGINT', s: 'STRING' }, '{"id":2,"s":1.50}');
    expect(rowsOf(plain.rows)[1]!.s).toBe('1.50');
  });

  it('a 1,000-digit number in a BIGINT field is a dead letter naming its leading digits and the type', () => {
    const digits = '1234567890'.repeat(100);
    const poison = `{"id":2,"n":${digits}}`;
    const out = runSql({ id: 'BIGINT', n: 'BIGINT' }, poison);
    const reason = onlyPoisonDeadLettered(out, poison);
    expect(reason).toBe('field n: 123456789012345678901234… (1000 characters) cannot be read as BIGINT');
    expect(reason).not.toContain('Infinity');
  });

  it('a number beyond a double inside an ARRAY<STRING> is refused, not stored as "Infinity"', () => {
    const poison = `{"id":2,"tags":["a",${'7'.repeat(400)}]}`;
    const out = runSql({ id: 'BIGINT', tags: 'ARRAY<STRING>' }, poison);
    const reason = onlyPoisonDeadLettered(out, poison);
    expect(reason).toBe('field tags: a number beyond the range of a double cannot be kept exactly as STRING inside a nested value');
  });

  it('a number beyond INT names its source text', () => {
    const poison = '{"id":2,"i":1e400}';
    expect(onlyPoisonDeadLettered(runSql({ id: 'BIGINT', i: 'INT' }, poison), poison)).toBe('field i: 1e400 cannot be read as INT');
  });

  it('a map() that throws, or overflows its stack, costs only its record', () => {
    const config = pipeline({ topic: 'events', source: { id: 'BIGINT', s: 'STRING' }, sink: { id: 'BIGINT', s: 'STRING' } });
    const transformer = {
      getDescription: () => 'test',
      map(row: Row): Row {
        if (row.id === 2) {
          const recurse = (n: number): number => recurse(n + 1) + 1;
          return { id: row.id, s: String(recurse(0)) };
        }
        if (row.id === 4) throw Object.assign(new Error('lookup failed'), { code: 'ENOENT' });
        return row;
      },
    };
    const run = transformFor(config, transformer, 'rows', null);
    const overflow = run.run(sandwich('{"id":2,"s":"x"}'), NOW);
    expect(onlyPoisonDeadLettered(overflow, '{"id":2,"s":"x"}')).toBe('map() threw: Maximum call stack size exceeded');
    const thrown = run.run(sandwich('{"id":4,"s":"x"}'), NOW);
    expect(rowsOf(thrown.rows).map((r) => r.id)).toEqual([1n, 3n]);
    expect(rowsOf(thrown.deadLetters!).map((d) => [d.source_offset, d.error_code, d.error_message])).toEqual([[501n, 'EXPRESSION_FAILED', 'map() threw: lookup failed']]);
  });

  it('a map() whose nested value the column builder refuses costs only its record', () => {
    const config = pipeline({ topic: 'events', source: { id: 'BIGINT', s: 'STRING' }, sink: { id: 'BIGINT', nums: 'ARRAY<BIGINT>' } });
    const transformer = {
      getDescription: () => 'test',
      map: (row: Row): Row => ({ id: row.id, nums: row.id === 2 ? ['not a number'] : [row.id] }),
    };
    const out = transformFor(config, transformer, 'rows', null).run(sandwich('{"id":2,"s":"x"}'), NOW);
    const reason = onlyPoisonDeadLettered(out, '{"id":2,"s":"x"}');
    expect(reason).toMatch(/^column nums: the value cannot be written \(/);
    expect(rowsOf(out.rows).map((r) => Array.from((r.nums as { toArray(): ArrayLike<unknown> }).toArray()))).toEqual([[1n], [3n]]);
  });
});

describe('duplicate keys in one object: the last value wins (Jackson ObjectNode.replace, JSON.parse)', () => {
  it('for scalars, exact BIGINTs and STRING source text alike', () => {
    const out = runSql(
      { id: 'BIGINT', s: 'STRING', big: 'BIGINT', raw: 'STRING' },
      '{"id":2,"s":"first","big":9007199254740993,"raw":{"v":1},"s":"last","big":9007199254740995,"raw":{"v":2}}',
    );
    const row = rowsOf(out.rows)[1]!;
    expect([row.s, row.big, row.raw]).toEqual(['last', 9007199254740995n, '{"v":2}']);
  });

  it('inside a ROW', () => {
    const out = runSql({ id: 'BIGINT', r: 'ROW<a INT>' }, '{"id":2,"r":{"a":1,"a":2}}');
    expect((rowsOf(out.rows)[1]!.r as { toJSON(): unknown }).toJSON()).toEqual({ a: 2 });
  });
});
