// A SQL transformation as a batch step: the compiled SELECT applied to one decoded batch, WHERE
// first and then one column at a time, a record that fails in any expression becoming a dead
// letter while the rest of the batch goes on.

import type { PipelineConfig } from '../config/types.js';
import { arrowSchemaOf } from '../schema/type-mapping.js';
import { checkOutput } from './output-check.js';
import { buildSinkRows, type BatchStep, type CompileOptions } from './result.js';
import { ExpressionError, type Frame } from './sql/expression.js';
import { compileSelect } from './sql/select.js';
import { SessionZone } from './time.js';
import { sourceTableName } from './transformer.js';

/**
 * The dead-letter message for an error thrown while evaluating one record. Anything other than
 * an ExpressionError is a defect here, but one record must not cost the whole batch: it is
 * dead-lettered under a message that says so, and shows up in the per-reason counts.
 */
function rowFailure(e: unknown): string {
  if (e instanceof ExpressionError) return e.message;
  return `internal error evaluating the transformation: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
}

/** Compiles a SQL transformation for a pipeline into its batch step; throws SQL_* or SCHEMA_MISMATCH at start-up. */
export function sqlStep(pipeline: PipelineConfig, sql: string, options: CompileOptions = {}): BatchStep {
  const zone = new SessionZone(options.sessionTimeZone ?? 'UTC');
  const frame: Frame = { cols: [], nowMicros: 0, zone };
  const table = sourceTableName(pipeline.topic);
  const sel = compileSelect(sql, [table, `default_catalog.default_database.${table}`], pipeline.sourceSchema, frame);
  const assignments = checkOutput(pipeline.sink.tableName, sel.items.map((i) => ({ name: i.name, type: i.expr.type })), pipeline.sink.schema, zone);
  const sinkSchema = arrowSchemaOf(pipeline.sink.schema);
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
    sinkSchema,
    apply(decoded, nowMs) {
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
      return { rows, letters, filtered };
    },
  };
}
