// Running TypeScript transformers, as batch steps of the one batch loop (batch-transform.ts):
// columnar ones get the decoded batch as Arrow in the source schema and return Arrow in the sink
// schema; row-wise ones get one plain object per record.

import * as arrow from 'apache-arrow';
import type { SqlType } from '../schema/sql-types.js';
import { formatSqlType } from '../schema/sql-types.js';
import type { PipelineConfig } from '../config/types.js';
import { StreamError } from '../errors.js';
import { arrowSchemaOf } from '../schema/type-mapping.js';
import { buildColumn, recordBatchOf } from './columns.js';
import type { DeadLetter } from './dead-letter.js';
import { checkArrowOutput } from './output-check.js';
import { buildSinkRows, type BatchStep, type CompileOptions } from './result.js';
import type { RawBatch } from '../kafka/raw-batch.js';
import { ExpressionError } from './sql/expression.js';
import { decimalFromNumber, fitsPrecision, formatDecimal, holdsDecimal, parseDecimalText, pow10 } from './decimal.js';
import { SessionZone, formatDate, parseDateText, parseTimestampText, truncateToPrecision } from './time.js';
import type { Row, TransformContext, Transformer } from './transformer.js';
import { dateInRange, dateRangeReason, timestampInRange, timestampRangeReason, timestampWordsInRange } from '../schema/calendar.js';

function describe(v: unknown): string {
  if (v instanceof Date) return 'a Date';
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? `'${v.length > 30 ? v.slice(0, 30) + '…' : v}'` : `${typeof v} ${String(v)}`;
}

/** Source value (transform representation) → what `map` / `filter` see. */
function toRowValue(type: SqlType): ((v: unknown) => unknown) | null {
  switch (type.kind) {
    case 'timestamp':
    case 'timestamp_ltz':
      return (v) => new Date(Math.floor((v as number) / 1000));
    case 'date':
      return (v) => formatDate(v as number);
    case 'decimal': {
      // Exact decimal text ('12345678901234567.89'): a number would round past 15 digits.
      const scale = type.scale;
      return (v) => formatDecimal(v as bigint, scale);
    }
    case 'array':
    case 'map':
    case 'row':
      // Only the DECIMAL leaves change; other nested leaves stay as they have always been given.
      return holdsDecimal(type) ? nestedLeaves(type, (t) => (t.kind === 'decimal' ? toRowValue(t) : null)) : null;
    default:
      return null;
  }
}

/**
 * A nested value with `leaf` applied to its leaves that need it (DECIMALs, so a transformer sees
 * the same decimal text at every depth); null leaves stay null.
 */
function nestedLeaves(type: SqlType, leaf: (t: SqlType) => ((v: unknown) => unknown) | null): (v: unknown) => unknown {
  const at = (t: SqlType): ((v: unknown) => unknown) => {
    const f = t.kind === 'array' || t.kind === 'map' || t.kind === 'row' ? (holdsDecimal(t) ? nestedLeaves(t, leaf) : null) : leaf(t);
    return f === null ? (v) => v : (v) => (v === null || v === undefined ? v : f(v));
  };
  switch (type.kind) {
    case 'array': {
      const e = at(type.element);
      return (v) => (Array.isArray(v) ? v.map(e) : v);
    }
    case 'map': {
      const [k, x] = [at(type.key), at(type.value)];
      return (v) => (v instanceof Map ? new Map([...v].map(([key, val]) => [k(key), x(val)])) : v);
    }
    case 'row': {
      const fs = type.fields.map((f) => [f.name, at(f.type)] as const);
      return (v) => {
        if (typeof v !== 'object' || v === null) return v;
        const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
        for (const [name, f] of fs) out[name] = f(out[name]);
        return out;
      };
    }
    default:
      return at(type);
  }
}

/**
 * What `map` returned for a DECIMAL column → its unscaled bigint (decimal.ts): decimal text and
 * bigint (a whole number) exactly, a number by its shortest text (BigDecimal.valueOf's reading).
 * Extra fraction digits round HALF_UP; a value beyond the precision is the record's dead letter,
 * naming the column and the value, rather than a NULL nobody asked for.
 */
function decimalFromRow(name: string, type: Extract<SqlType, { kind: 'decimal' }>, wrong: (v: unknown) => never): (v: unknown) => unknown {
  const { precision, scale } = type;
  return (v) => {
    let u: bigint | null;
    if (typeof v === 'string') u = parseDecimalText(v.trim(), scale);
    else if (typeof v === 'bigint') u = v * pow10(scale);
    else if (typeof v === 'number' && Number.isFinite(v)) u = decimalFromNumber(v, scale);
    else u = null;
    if (u === null) return wrong(v);
    if (!fitsPrecision(u, precision)) throw new ExpressionError(`map() returned ${describe(v)} for column ${name}, which does not fit ${formatSqlType(type)}`);
    return u;
  };
}

/** What `map` returned for a column → the transform representation of the sink type. */
function fromRowValue(name: string, type: SqlType, zone: SessionZone): (v: unknown) => unknown {
  const wrong = (v: unknown): never => {
    throw new ExpressionError(`map() returned ${describe(v)} for column ${name}, which is ${formatSqlType(type)}`);
  };
  const inRange = (value: number, reason: (x: number) => string | null): number => {
    const why = reason(value);
    if (why !== null) throw new ExpressionError(`map() returned a value for column ${name} (${formatSqlType(type)}) that is out of range: ${why}`);
    return value;
  };
  switch (type.kind) {
    case 'string':
      return (v) => (typeof v === 'string' ? v : wrong(v));
    case 'boolean':
      return (v) => (typeof v === 'boolean' ? v : wrong(v));
    case 'int':
    case 'bigint': {
      const max = type.kind === 'int' ? 2147483647 : Number.MAX_SAFE_INTEGER;
      return (v) => {
        if (typeof v === 'bigint' && type.kind === 'bigint') {
          if (BigInt.asIntN(64, v) !== v) wrong(v);
          return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
        }
        return typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= max ? v : wrong(v);
      };
    }
    case 'float':
    case 'double':
      return (v) => (typeof v === 'number' ? (type.kind === 'float' ? Math.fround(v) : v) : wrong(v));
    case 'decimal':
      return decimalFromRow(name, type, wrong);
    case 'date':
      // A Date reaches year 275760 and an epoch number anything: both are held to Flink's years.
      return (v) => {
        if (v instanceof Date) {
          if (Number.isNaN(v.getTime())) wrong(v);
          return inRange(Math.floor(v.getTime() / 86_400_000), dateRangeReason);
        }
        return typeof v === 'string' ? parseDateText(v) ?? wrong(v) : wrong(v);
      };
    case 'timestamp':
    case 'timestamp_ltz': {
      const ltz = type.kind === 'timestamp_ltz';
      const p = type.precision;
      // Dates and epoch numbers are instants; text is a wall clock in the session time zone.
      const instant = (us: number) => inRange(truncateToPrecision(ltz ? us : zone.toWall(us), p), timestampRangeReason);
      return (v) => {
        if (v instanceof Date) return Number.isNaN(v.getTime()) ? wrong(v) : instant(v.getTime() * 1000);
        if (typeof v === 'number') {
          if (!Number.isFinite(v)) wrong(v);
          // Checked before the session zone sees it: Intl cannot place an instant past year 275760.
          return timestampInRange(v * 1000) ? instant(Math.trunc(v * 1000)) : inRange(v * 1000, timestampRangeReason);
        }
        if (typeof v === 'string') {
          const w = parseTimestampText(v);
          return w === null ? wrong(v) : inRange(truncateToPrecision(ltz ? zone.toInstant(w) : w, p), timestampRangeReason);
        }
        return wrong(v);
      };
    }
    case 'bytes':
    case 'fixed':
      return (v) => (v instanceof Uint8Array ? v : typeof v === 'string' ? new Uint8Array(Buffer.from(v, 'utf8')) : wrong(v));
    default: {
      // A DECIMAL inside is read as at the top level: text, a whole bigint, or a number.
      const leaves = holdsDecimal(type) ? nestedLeaves(type, (t) => (t.kind === 'decimal' ? decimalFromRow(name, t, wrong) : null)) : null;
      return (v) => (typeof v !== 'object' ? wrong(v) : leaves === null ? v : leaves(v));
    }
  }
}

function contextOf(raw: RawBatch, nowMs: number): TransformContext {
  return { topic: raw.topic, partition: raw.partition, nowMs };
}

export function rowsStep(pipeline: PipelineConfig, t: Transformer, options: CompileOptions): BatchStep {
  const zone = new SessionZone(options.sessionTimeZone ?? 'UTC');
  const source = pipeline.sourceSchema.map((f) => ({ name: f.name, conv: toRowValue(f.type) }));
  const sink = pipeline.sink.schema.map((f) => ({ f, conv: fromRowValue(f.name, f.type, zone) }));
  const sinkNames = new Set(pipeline.sink.schema.map((f) => f.name));
  const sinkSchema = arrowSchemaOf(pipeline.sink.schema);
  const map = typeof t.map === 'function' ? t.map.bind(t) : null;
  const filter = typeof t.filter === 'function' ? t.filter.bind(t) : null;
  const apply: BatchStep['apply'] = (decoded, nowMs, raw) => {
    const n = decoded.count;
    const ctx = contextOf(raw, nowMs);
    const letters: DeadLetter[] = decoded.deadLetters;
    const values = sink.map(() => new Array<unknown>(n));
    const keep = new Int32Array(n);
    let m = 0;
    let filtered = 0;
    for (let j = 0; j < n; j++) {
      const row: Row = {};
      for (let f = 0; f < source.length; f++) {
        const v = decoded.columns[f]![j];
        const conv = source[f]!.conv;
        row[source[f]!.name] = v === null || conv === null ? v : conv(v);
      }
      try {
        if (filter !== null && filter(row, ctx) !== true) {
          filtered++;
          continue;
        }
        const out = map === null ? row : map(row, ctx);
        if (out === null || out === undefined) {
          filtered++;
          continue;
        }
        if (map !== null) {
          for (const key of Object.keys(out)) if (!sinkNames.has(key)) throw new ExpressionError(`map() returned column ${key}, which is not in the sink schema`);
        }
        for (let c = 0; c < sink.length; c++) {
          const { f, conv } = sink[c]!;
          const v = out[f.name];
          if (v === null || v === undefined) {
            if (!f.type.nullable) throw new ExpressionError(`column ${f.name} is NOT NULL but the value is null`);
            values[c]![j] = null;
          } else values[c]![j] = conv(v);
        }
      } catch (e) {
        const message = e instanceof ExpressionError ? e.message : `${map !== null ? 'map' : 'filter'}() threw: ${(e as Error)?.message ?? String(e)}`;
        letters.push({ index: decoded.recordIndex[j]!, code: 'EXPRESSION_FAILED', message });
        continue;
      }
      keep[m++] = j;
    }
    const selection = keep.subarray(0, m);
    const rows = buildSinkRows(sinkSchema, pipeline.sink.schema, values, selection, (j, message) =>
      letters.push({ index: decoded.recordIndex[j]!, code: 'EXPRESSION_FAILED', message }),
    );
    return { rows, letters, filtered };
  };
  return { sinkSchema, apply };
}

export function columnarStep(pipeline: PipelineConfig, t: Transformer): BatchStep {
  const sourceSchema = arrowSchemaOf(pipeline.sourceSchema);
  const sinkSchema = arrowSchemaOf(pipeline.sink.schema);
  const transform = t.transform!.bind(t);
  // The start-up output check: an empty batch shows the result schema before any data flows.
  // A transformer that cannot take an empty batch is checked on its first real one instead.
  let probe: arrow.RecordBatch | arrow.Table | null = null;
  try {
    probe = transform(recordBatchOf(sourceSchema, 0, pipeline.sourceSchema.map((f) => buildColumn([], f.type, null, 0))), { topic: pipeline.topic, partition: -1, nowMs: 0 });
  } catch {
    probe = null;
  }
  if (probe !== null) checkArrowOutput(pipeline.sink.tableName, asOneBatch(probe).schema, pipeline.sink.schema);
  const apply: BatchStep['apply'] = (decoded, nowMs, raw) => {
    const n = decoded.count;
    const input = recordBatchOf(sourceSchema, n, pipeline.sourceSchema.map((f, k) => buildColumn(decoded.columns[k]!, f.type, null, n)));
    let out: arrow.RecordBatch | arrow.Table;
    try {
      out = transform(input, contextOf(raw, nowMs));
    } catch (e) {
      // No record can be blamed, so the whole batch is dead-lettered; the source bytes are kept.
      const message = `transform() threw: ${(e as Error)?.message ?? String(e)}`;
      const letters = [...decoded.deadLetters];
      for (let j = 0; j < n; j++) letters.push({ index: decoded.recordIndex[j]!, code: 'EXPRESSION_FAILED', message });
      return { rows: recordBatchOf(sinkSchema, 0, pipeline.sink.schema.map((f) => buildColumn([], f.type, null, 0))), letters, filtered: 0 };
    }
    const batch = asOneBatch(out);
    checkArrowOutput(pipeline.sink.tableName, batch.schema, pipeline.sink.schema);
    const children = pipeline.sink.schema.map((f) => batch.getChild(f.name)!.data[0]!);
    const outOfRange = firstOutOfRange(pipeline.sink.schema, children);
    if (outOfRange !== null) {
      // As when transform() throws: its rows cannot be traced to records, so the batch's records
      // are the dead letters, rather than the table holding a date it would show wrapped.
      const letters = [...decoded.deadLetters];
      for (let j = 0; j < n; j++) letters.push({ index: decoded.recordIndex[j]!, code: 'EXPRESSION_FAILED', message: `transform() returned ${outOfRange}` });
      return { rows: recordBatchOf(sinkSchema, 0, pipeline.sink.schema.map((f) => buildColumn([], f.type, null, 0))), letters, filtered: 0 };
    }
    const rows = recordBatchOf(sinkSchema, batch.numRows, children);
    return { rows, letters: decoded.deadLetters, filtered: n - batch.numRows };
  };
  return { sinkSchema, apply };
}

/** The first DATE or TIMESTAMP value of a columnar result outside Flink's years, described; or null. */
function firstOutOfRange(fields: PipelineConfig['sink']['schema'], children: readonly arrow.Data[]): string | null {
  for (let c = 0; c < fields.length; c++) {
    const kind = fields[c]!.type.kind;
    if (kind !== 'date' && kind !== 'timestamp' && kind !== 'timestamp_ltz') continue;
    const data = children[c]!;
    const values = data.values as Int32Array | BigInt64Array;
    // 32-bit words, as the buffer holds them: no BigInt per value on the columnar fast path.
    const words = values instanceof BigInt64Array ? new Int32Array(values.buffer, values.byteOffset, values.length * 2) : values;
    for (let i = 0; i < data.length; i++) {
      if (kind === 'date' ? dateInRange(words[i]!) : timestampWordsInRange(words[2 * i]!, words[2 * i + 1]!)) continue;
      if (!data.getValid(i)) continue;
      const why = kind === 'date' ? dateRangeReason(words[i]!) : timestampRangeReason((BigInt(words[2 * i + 1]!) << 32n) | BigInt(words[2 * i]! >>> 0));
      return `column ${fields[c]!.name} row ${i}: ${formatSqlType(fields[c]!.type)} value ${why}`;
    }
  }
  return null;
}

function asOneBatch(out: arrow.RecordBatch | arrow.Table): arrow.RecordBatch {
  if (out instanceof arrow.RecordBatch) return out;
  if (out instanceof arrow.Table) {
    if (out.batches.length === 1) return out.batches[0]!;
    if (out.batches.length === 0) return new arrow.RecordBatch(out.schema, arrow.makeData({ type: new arrow.Struct(out.schema.fields), length: 0, nullCount: 0, children: out.schema.fields.map((f) => arrow.makeData({ type: f.type, length: 0 } as any)) }));
    throw new StreamError('EXPRESSION_FAILED', `transform() returned a table of ${out.batches.length} batches; return one RecordBatch`);
  }
  throw new StreamError('EXPRESSION_FAILED', 'transform() must return an apache-arrow RecordBatch or Table');
}
