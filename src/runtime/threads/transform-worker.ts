// The transform pool's task, on a worker thread: one task decodes one chunk of Kafka record
// batches of one pipeline (decompress, check CRCs, walk the records into one RawBatch) and
// transforms it into Arrow IPC bytes for the sink. Each pipeline's transform is compiled once per
// worker, on first use. workers/transform-worker.ts only hands this to piscina.

import * as arrow from 'apache-arrow';
import { Piscina } from 'piscina';
import { serializeError } from '../../errors.js';
import { releaseBytes } from '../../release-bytes.js';
import { decodeRecordBatches } from '../../kafka/record-batch.js';
import { buildTransform, type CompiledTransform, type TransformSpec } from '../../transform/batch-transform.js';
import { TableRows, type WriteTarget } from '../../iceberg/table-rows.js';
import { shouldFail } from '../faults.js';
import { nameThisThread } from './thread-name.js';
import type { TransformTask, TransformTaskOutcome } from './transform-messages.js';

/** The task function for a worker that serves these pipelines' specs. */
export function transformTaskRunner(specList: Array<[string, TransformSpec]>): (task: TransformTask) => Promise<TransformTaskOutcome> {
  nameThisThread('sb-transform');
  const specs = new Map<string, TransformSpec>(specList);
  const compiled = new Map<string, Promise<CompiledTransform>>();

  function transformOf(pipelineId: string): Promise<CompiledTransform> {
    let t = compiled.get(pipelineId);
    if (!t) {
      const spec = specs.get(pipelineId);
      if (!spec) throw new Error(`no transform spec for pipeline ${pipelineId}`);
      t = buildTransform(spec);
      compiled.set(pipelineId, t);
      // A failed build is not cached: the next task of this pipeline tries again.
      t.catch(() => compiled.delete(pipelineId));
    }
    return t;
  }

  /** Tables the rows are prepared for, by WriteTarget key (one per pipeline run, so few). */
  const tables = new Map<string, TableRows>();
  function tableRowsOf(target: WriteTarget): TableRows {
    let t = tables.get(target.key);
    if (!t) {
      // Keys of runs long gone are dropped now and then; a TableRows is cheap to build again.
      if (tables.size >= 256) tables.clear();
      tables.set(target.key, (t = new TableRows(target)));
    }
    return t;
  }

  function ipc(batch: arrow.RecordBatch): Uint8Array {
    return arrow.tableToIPC(new arrow.Table(batch), 'stream');
  }

  async function run(task: TransformTask): Promise<TransformTaskOutcome> {
    if (shouldFail('transform-exit', task.pipelineId) || shouldFail('transform-exit-every', task.pipelineId)) process.exit(70);
    let out;
    let decoded;
    let prepared;
    try {
      const transform = await transformOf(task.pipelineId);
      const { chunk } = task;
      decoded = decodeRecordBatches(chunk.bytes, {
        topic: chunk.topic,
        partition: chunk.partition,
        fromOffset: chunk.fromOffset,
        endOffset: task.endOffset,
        abortedTransactions: chunk.abortedTransactions,
        maxRecordBytes: specs.get(task.pipelineId)?.pipeline.maxRecordBytes,
      });
      if (transform.prepare !== undefined) await transform.prepare(decoded.raw);
      out = transform.run(decoded.raw, task.nowMs);
      prepared = task.target ? tableRowsOf(task.target).prepare(out.rows) : undefined;
    } catch (err) {
      releaseBytes(task.chunk.bytes);
      return { kind: 'failed', error: serializeError(err) };
    }
    // Prepared rows for the table's files (none when every record was filtered or a dead letter).
    const rows = prepared === undefined ? ipc(out.rows) : (prepared?.ipc ?? new Uint8Array(0));
    const parts = prepared === undefined ? undefined : (prepared?.parts ?? []);
    const deadLetters = out.deadLetters && out.deadLetters.numRows > 0 ? ipc(out.deadLetters) : null;
    const valueBytes = decoded.raw.valueOffsets[decoded.raw.count]! - decoded.raw.valueOffsets[0]!;
    // This worker's copy of the chunk: its records are in `rows` and `deadLetters` now (a value
    // may have been a view into it until here).
    releaseBytes(task.chunk.bytes);
    const result: TransformTaskOutcome = { kind: 'done', rows, ...(parts ? { parts } : {}), deadLetters, stats: out.stats, valueBytes };
    // Moved, not copied, back to the main thread.
    const transfer = deadLetters ? [rows.buffer as ArrayBuffer, deadLetters.buffer as ArrayBuffer] : [rows.buffer as ArrayBuffer];
    const movable = { [Piscina.transferableSymbol]: transfer, [Piscina.valueSymbol]: result };
    return Piscina.move(movable as never) as unknown as TransformTaskOutcome;
  }

  return run;
}
