// The transform step of one pipeline, as a pure function of a raw batch: decode by the format and the
// source schema, apply the transformation, return the good rows as an Arrow batch in the sink
// schema and the rest as dead letters. Nothing here keeps state between batches, so a failed
// task can be retried on any worker with the same result (CURRENT_TIMESTAMP aside, which is the
// batch's time: pass `nowMs` to make a retry reproduce it).

import type { PipelineConfig, TransformationEntry } from '../config/types.js';
import { StreamError } from '../errors.js';
import { arrowSchemaOf } from '../schema/type-mapping.js';
import { createDecoder, preparerFor } from './decode/decoder.js';
import { checkOutput } from './output-check.js';
import { loadTransformer, type ResolveOptions } from './registry.js';
import { runColumnar, runRows, type TsRunner } from './ts-transform.js';
import { ExpressionError, type Frame } from './sql/expression.js';
import { compileSelect } from './sql/select.js';
import { SessionZone } from './time.js';
import { sourceTableName, type Transformer, type TransformerKind } from './transformer.js';
import { buildSinkRows, finish, type CompiledTransform, type CompileOptions } from './result.js';

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
 * The dead-letter message for an error thrown while evaluating one record. Anything other than
 * an ExpressionError is a defect here, but one record must not cost the whole batch: it is
 * dead-lettered under a message that says so, and shows up in the per-reason counts.
 */
function rowFailure(e: unknown): string {
  if (e instanceof ExpressionError) return e.message;
  return `internal error evaluating the transformation: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
}

/** Compiles a SQL transformation for a pipeline; throws SQL_* or SCHEMA_MISMATCH at start-up. */
export function compileSqlTransform(pipeline: PipelineConfig, sql: string, options: CompileOptions = {}): CompiledTransform {
  const zone = new SessionZone(options.sessionTimeZone ?? 'UTC');
  const frame: Frame = { cols: [], nowMicros: 0, zone };
  const table = sourceTableName(pipeline.topic);
  const sel = compileSelect(sql, [table, `default_catalog.default_database.${table}`], pipeline.sourceSchema, frame);
  const assignments = checkOutput(pipeline.sink.tableName, sel.items.map((i) => ({ name: i.name, type: i.expr.type })), pipeline.sink.schema, zone);
  const sinkSchema = arrowSchemaOf(pipeline.sink.schema);
  const decoder = createDecoder(pipeline);
  const where = sel.where?.eval ?? null;

  // A sink column fed by a bare source column with nothing to convert is the decoded array itself.
  const passthrough = assignments.map((a) => {
    const e = sel.items[a.from]!.expr;
    return e.column !== undefined && a.convert === null ? e.column : -1;
  });
  const computed = assignments
    .map((a, c) => ({ a, c, ev: sel.items[a.from]!.expr.eval }))
    .filter(({ c }) => passthrough[c]! < 0);
  const notNullChecks = assignments
    .map((a, c) => ({ a, c }))
    .filter(({ a, c }) => a.checkNotNull && passthrough[c]! >= 0);

  return {
    kind: 'sql',
    sinkSchema,
    prepare: preparerFor(pipeline) ?? undefined,
    run(raw, nowMs = Date.now()) {
      const decoded = decoder.decode(raw);
      const n = decoded.count;
      frame.cols = decoded.columns;
      frame.nowMicros = Math.trunc(nowMs) * 1000;
      const letters = decoded.deadLetters;
      const values: unknown[][] = assignments.map((_a, c) => (passthrough[c]! >= 0 ? decoded.columns[passthrough[c]!]! : new Array(n)));
      // WHERE first, so a projection never runs (or fails) for a record the filter drops.
      const rowsIn = new Int32Array(n);
      let m = 0;
      let filtered = 0;
      for (let j = 0; j < n; j++) {
        if (where !== null) {
          let keepRow: unknown;
          try {
            keepRow = where(j);
          } catch (e) {
            letters.push({ index: decoded.recordIndex[j]!, code: 'EXPRESSION_FAILED', message: rowFailure(e) });
            continue;
          }
          if (keepRow !== true) {
            filtered++;
            continue;
          }
        }
        rowsIn[m++] = j;
      }
      // Then one column at a time, which keeps each call site monomorphic; a row that fails in one
      // column is skipped by the later ones and removed at the end.
      let failed: Uint8Array | null = null;
      for (let k = 0; k < computed.length; k++) {
        const { a, c, ev } = computed[k]!;
        const out = values[c]!;
        const convert = a.convert;
        for (let r = 0; r < m; r++) {
          if (failed !== null && failed[r] === 1) continue;
          const j = rowsIn[r]!;
          try {
            let v = ev(j);
            if (v !== null && convert !== null) v = convert(v);
            if (v === null && a.checkNotNull) throw new ExpressionError(`column ${a.sink.name} is NOT NULL but the value is null`);
            out[j] = v;
          } catch (e) {
            failed ??= new Uint8Array(m);
            failed[r] = 1;
            letters.push({ index: decoded.recordIndex[j]!, code: 'EXPRESSION_FAILED', message: rowFailure(e) });
          }
        }
      }
      for (const { a, c } of notNullChecks) {
        const col = values[c]!;
        for (let r = 0; r < m; r++) {
          if ((failed === null || failed[r] === 0) && col[rowsIn[r]!] === null) {
            failed ??= new Uint8Array(m);
            failed[r] = 1;
            letters.push({ index: decoded.recordIndex[rowsIn[r]!]!, code: 'EXPRESSION_FAILED', message: `column ${a.sink.name} is NOT NULL but the value is null` });
          }
        }
      }
      if (failed !== null) {
        let w = 0;
        for (let r = 0; r < m; r++) if (failed[r] === 0) rowsIn[w++] = rowsIn[r]!;
        m = w;
      }
      const keep = rowsIn;
      frame.cols = [];
      const selection = keep.subarray(0, m);
      const rows = buildSinkRows(sinkSchema, assignments.map((a) => a.sink), values, selection, (j, message) =>
        letters.push({ index: decoded.recordIndex[j]!, code: 'EXPRESSION_FAILED', message }),
      );
      return finish(pipeline, raw, decoded, letters, rows, filtered, nowMs);
    },
  };
}

/** Builds the transform for a pipeline from its registry entry: loads the class, compiles SQL or wraps TypeScript. */
export async function buildTransform(spec: TransformSpec): Promise<CompiledTransform> {
  const { pipeline, entry } = spec;
  const loaded = await loadTransformer(entry, pipeline, spec.resolve);
  const options: CompileOptions = spec.sessionTimeZone === undefined ? {} : { sessionTimeZone: spec.sessionTimeZone };
  return transformFor(pipeline, loaded.instance, loaded.kind, entry, options);
}

export function transformFor(pipeline: PipelineConfig, instance: Transformer, kind: TransformerKind, entry: TransformationEntry | null, options: CompileOptions = {}): CompiledTransform {
  if (kind === 'sql') {
    const sql = instance.getTransformationSql!(sourceTableName(pipeline.topic));
    if (typeof sql !== 'string') {
      throw new StreamError('TRANSFORMER_LOAD_FAILED', `transformation '${entry?.name ?? '?'}': getTransformationSql() returned ${typeof sql}, not a string`);
    }
    return compileSqlTransform(pipeline, sql, options);
  }
  const runner: TsRunner = kind === 'columnar' ? runColumnar(pipeline, instance, options) : runRows(pipeline, instance, options);
  return { kind, sinkSchema: arrowSchemaOf(pipeline.sink.schema), run: runner, prepare: preparerFor(pipeline) ?? undefined };
}
