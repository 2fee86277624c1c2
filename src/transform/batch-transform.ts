// The transform step of one pipeline, as a pure function of a raw batch: decode by the format and the
// source schema, apply the transformation, return the good rows as an Arrow batch in the sink
// schema and the rest as dead letters. Nothing here keeps state between batches, so a failed
// task can be retried on any worker with the same result (CURRENT_TIMESTAMP aside, which is the
// batch's time: pass `nowMs` to make a retry reproduce it).

import type { PipelineConfig, TransformationEntry } from '../config/types.js';
import { StreamError } from '../errors.js';
import { createDecoder, preparerFor } from './decode/decoder.js';
import { loadTransformer, type ResolveOptions } from './registry.js';
import { finish, type BatchStep, type CompiledTransform, type CompileOptions } from './result.js';
import { sqlStep } from './sql-step.js';
import { columnarStep, rowsStep } from './ts-transform.js';
import { sourceTableName, type Transformer, type TransformerKind } from './transformer.js';

export type { CompiledTransform, CompileOptions, TransformResult, TransformStats } from './result.js';

/** Everything a worker needs to build a pipeline's transform; plain data, survives structured clone. */
export interface TransformSpec {
  pipeline: PipelineConfig;
  entry: TransformationEntry;
  /** Flink's `table.local-time-zone`; IANA name. Default UTC. */
  sessionTimeZone?: string;
  resolve?: ResolveOptions;
}

/**
 * The one batch loop, for every kind of transformation: decode by the pipeline's format, apply
 * the step, then the pipeline's on_error to the dead letters. The decoder is built once per
 * transform and reused batch after batch.
 */
export function batchTransform(pipeline: PipelineConfig, kind: TransformerKind, step: BatchStep): CompiledTransform {
  const decoder = createDecoder(pipeline);
  return {
    kind,
    sinkSchema: step.sinkSchema,
    prepare: preparerFor(pipeline) ?? undefined,
    run(raw, nowMs = Date.now()) {
      const decoded = decoder.decode(raw);
      const { rows, letters, filtered } = step.apply(decoded, nowMs, raw);
      return finish(pipeline, raw, decoded, letters, rows, filtered, nowMs);
    },
  };
}

/** Compiles a SQL transformation for a pipeline; throws SQL_* or SCHEMA_MISMATCH at start-up. */
export function compileSqlTransform(pipeline: PipelineConfig, sql: string, options: CompileOptions = {}): CompiledTransform {
  return batchTransform(pipeline, 'sql', sqlStep(pipeline, sql, options));
}

/** Builds the transform for a pipeline from its registry entry: compiles its SQL, or loads the class and compiles SQL or wraps TypeScript. */
export async function buildTransform(spec: TransformSpec): Promise<CompiledTransform> {
  const { pipeline, entry } = spec;
  const options: CompileOptions = spec.sessionTimeZone === undefined ? {} : { sessionTimeZone: spec.sessionTimeZone };
  if (entry.sql !== undefined) return compileEntrySql(pipeline, entry, entry.sql, options);
  const loaded = await loadTransformer(entry, pipeline, spec.resolve);
  return transformFor(pipeline, loaded.instance, loaded.kind, entry, options);
}

/**
 * A SQL entry of transformations.yaml, `{source_table}` replaced by the topic's source table. A
 * compile error is given the file and line it is on: the SQL's own line and column, counted from
 * where the SQL starts in its file.
 */
function compileEntrySql(pipeline: PipelineConfig, entry: TransformationEntry, sql: string, options: CompileOptions): CompiledTransform {
  try {
    return compileSqlTransform(pipeline, sql.replaceAll('{source_table}', sourceTableName(pipeline.topic)), options);
  } catch (err) {
    if (!(err instanceof StreamError) || entry.sqlOrigin === undefined) throw err;
    const line = typeof err.details.line === 'number' ? err.details.line : undefined;
    const at = line === undefined ? `${entry.sqlOrigin.file}:${entry.sqlOrigin.line}` : `${entry.sqlOrigin.file}:${entry.sqlOrigin.line + line - 1}`;
    throw new StreamError(err.code, `${at}: transformation '${entry.name}': ${err.message}`, { cause: err, retryable: err.retryable, details: { ...err.details, file: entry.sqlOrigin.file, fileLine: entry.sqlOrigin.line + (line ?? 1) - 1 } });
  }
}

export function transformFor(pipeline: PipelineConfig, instance: Transformer, kind: TransformerKind, entry: TransformationEntry | null, options: CompileOptions = {}): CompiledTransform {
  if (kind === 'sql') {
    const sql = instance.getTransformationSql!(sourceTableName(pipeline.topic));
    if (typeof sql !== 'string') {
      throw new StreamError('TRANSFORMER_LOAD_FAILED', `transformation '${entry?.name ?? '?'}': getTransformationSql() returned ${typeof sql}, not a string`);
    }
    return compileSqlTransform(pipeline, sql, options);
  }
  return batchTransform(pipeline, kind, kind === 'columnar' ? columnarStep(pipeline, instance) : rowsStep(pipeline, instance, options));
}
