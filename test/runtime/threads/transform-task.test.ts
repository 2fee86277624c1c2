// The transform pool's task function in this thread: one chunk of Kafka record batches in, Arrow
// IPC rows and dead letters out, and the worker's copy of the chunk freed once its records are in
// them (a worker that waited for its garbage collector held the chunks of many tasks).

import * as arrow from 'apache-arrow';
import { Piscina } from 'piscina';
import { describe, expect, it } from 'vitest';
import { transformTaskRunner } from '../../../src/runtime/threads/transform-worker.js';
import { buildPartitionSpec } from '../../../src/iceberg/partition.js';
import { buildSchema } from '../../../src/iceberg/schema.js';
import type { TransformTaskOutcome } from '../../../src/runtime/threads/transform-messages.js';
import { buildRecordBatch } from '../../helpers/record-batch-builder.js';
import { pipeline, rowsOf } from '../../transform/helpers.js';

const config = pipeline({ topic: 't', source: { name: 'STRING', amount: 'STRING' }, sink: { name: 'STRING', amount: 'INT' } });
const entry = { name: 'x', className: '', module: '', modulePath: '', description: 'cast', sql: 'SELECT name, CAST(amount AS INT) AS amount FROM {source_table}' };

function chunk(values: string[]) {
  const bytes = buildRecordBatch({ baseOffset: 40n, records: values.map((v) => ({ value: new TextEncoder().encode(v) })) });
  return { topic: 't', partition: 2, bytes, fromOffset: 40n, nextOffset: 40n + BigInt(values.length), recordCount: values.length, compressedBytes: 0, weight: bytes.byteLength, abortedTransactions: null };
}

describe('transform task', () => {
  it('turns a chunk into rows and dead letters, then frees its copy of the chunk', async () => {
    const run = transformTaskRunner([['p', { pipeline: config, entry }]]);
    const input = ['{"name":"a","amount":"5"}', '{"name":"b","amount":"five"}', '{"name":"c","amount":"7"}'];
    const task = { pipelineId: 'p', chunk: chunk(input), endOffset: undefined, nowMs: 0 };
    const size = task.chunk.bytes.byteLength;
    // Wrapped for piscina, which transfers the IPC buffers instead of copying them.
    const moved = (await run(task)) as unknown as Record<symbol, TransformTaskOutcome>;
    const out = moved[Piscina.valueSymbol] as TransformTaskOutcome & { kind: 'done' };
    expect(out.kind).toBe('done');
    expect(rowsOf(arrow.tableFromIPC(out.rows).batches[0]!)).toEqual([
      { name: 'a', amount: 5 },
      { name: 'c', amount: 7 },
    ]);
    const dead = rowsOf(arrow.tableFromIPC(out.deadLetters!).batches[0]!);
    expect(dead.map((d) => [d.source_partition, d.source_offset, d.error_code])).toEqual([[2, 41n, 'EXPRESSION_FAILED']]);
    // The dead letter keeps the record's value though the chunk it came from is gone.
    expect(new TextDecoder().decode(dead[0]!.record_value as Uint8Array)).toBe(input[1]);
    expect(size).toBeGreaterThan(0);
    expect(task.chunk.bytes.byteLength).toBe(0);
  });

  it('prepares the rows for the table it is given: bound to its field ids, one batch per partition value, each counted', async () => {
    const run = transformTaskRunner([['p', { pipeline: config, entry }]]);
    const { schema } = buildSchema(config.sink.schema);
    const spec = buildPartitionSpec(schema, [{ source: 'name', transform: { kind: 'identity' }, text: 'name' }]);
    const target = { key: 'db.t/u/0/0', tableName: 'db.t', schema, spec };
    const input = ['{"name":"a","amount":"5"}', '{"name":"b","amount":"6"}', '{"name":"a","amount":"7"}', '{"name":"b","amount":"x"}'];
    const moved = (await run({ pipelineId: 'p', chunk: chunk(input), endOffset: undefined, nowMs: 0, target })) as unknown as Record<symbol, TransformTaskOutcome>;
    const out = moved[Piscina.valueSymbol] as TransformTaskOutcome & { kind: 'done' };
    expect(out.parts!.map((p) => [p.values, p.rows])).toEqual([
      [['a'], 2],
      [['b'], 1],
    ]);
    const table = arrow.tableFromIPC(out.rows);
    expect(table.batches.map((b) => rowsOf(b))).toEqual([[{ name: 'a', amount: 5 }, { name: 'a', amount: 7 }], [{ name: 'b', amount: 6 }]]);
    expect(table.schema.fields.map((f) => f.metadata.get('PARQUET:field_id'))).toEqual(['1', '2']);
    expect(new Map(out.parts![0]!.metrics).get(2)).toMatchObject({ values: 2, nulls: 0, min: 5, max: 7 });
    // The dead letter is not among the prepared rows.
    expect(out.stats.deadLetters).toMatchObject({ EXPRESSION_FAILED: 1 });

    // Every record filtered out or dead: no parts, an empty stream.
    const none = (await run({ pipelineId: 'p', chunk: chunk(['{"name":"b","amount":"x"}']), endOffset: undefined, nowMs: 0, target })) as unknown as Record<symbol, TransformTaskOutcome>;
    const empty = none[Piscina.valueSymbol] as TransformTaskOutcome & { kind: 'done' };
    expect(empty.parts).toEqual([]);
    expect(empty.rows.byteLength).toBe(0);
  });

  it('frees the chunk when the task fails too, and reports the failure as data', async () => {
    const run = transformTaskRunner([['p', { pipeline: { ...config, onError: 'fail' }, entry }]]);
    const task = { pipelineId: 'p', chunk: chunk(['{"name":"b","amount":"five"}']), endOffset: undefined, nowMs: 0 };
    const out = await run(task);
    expect(out).toMatchObject({ kind: 'failed', error: { code: 'EXPRESSION_FAILED' } });
    expect(task.chunk.bytes.byteLength).toBe(0);
  });
});
