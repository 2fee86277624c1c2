// Splitting a record batch by partition: each row's partition tuple is computed column by
// column over the typed arrays (no per-row objects for the common transforms: time transforms
// of timestamps, bucket of ints/longs/strings), coded as small dense ids, and rows are grouped
// by the combined code. Rows keep their relative order within a partition.

import type * as arrow from 'apache-arrow';
import type { PartitionValue } from './partition.js';
import { applyTransform, murmur3x86_32 } from './partition.js';
import type { IcebergValue } from './stats.js';
import { decimalAt } from './stats.js';

export interface PartitionSource {
  /** Index of the source column in the batch. */
  column: number;
  /** Iceberg type of the source column. */
  type: string;
  transform: string;
}

export interface PartitionGroup {
  values: PartitionValue[];
  /** Row indices, ascending. */
  rows: Int32Array;
}

const MICROS_PER_DAY = 86_400_000_000;
const MICROS_PER_HOUR = 3_600_000_000;

/** The transformed value of every row of one column, as dense codes plus the distinct values. */
function codeColumn(data: arrow.Data, src: PartitionSource): { codes: Int32Array; values: PartitionValue[] } {
  const n = data.length;
  const codes = new Int32Array(n);
  const values: PartitionValue[] = [];
  const ids = new Map<unknown, number>();
  const code = (key: unknown, value: () => PartitionValue): number => {
    let id = ids.get(key);
    if (id === undefined) {
      id = values.length;
      ids.set(key, id);
      values.push(value());
    }
    return id;
  };
  const hasNulls = data.nullCount > 0 && !!data.nullBitmap && data.nullBitmap.length > 0;
  const isNull = (i: number): boolean => {
    const bit = data.offset + i;
    return hasNulls && ((data.nullBitmap![bit >> 3]! >> (bit & 7)) & 1) === 0;
  };
  const raw = data.values as unknown;
  const temporal = src.type === 'timestamp' || src.type === 'timestamptz';

  if (raw instanceof BigInt64Array && temporal && (src.transform === 'day' || src.transform === 'hour')) {
    // Micros fit a double exactly up to year 2255, where floor division stays exact; further out
    // a double can round across a day or hour boundary, so those values divide as bigint.
    const unit = src.transform === 'day' ? MICROS_PER_DAY : MICROS_PER_HOUR;
    const bigUnit = BigInt(unit);
    for (let i = 0; i < n; i++) {
      if (isNull(i)) codes[i] = code(null, () => null);
      else {
        const x = raw[i]!;
        const d = Number(x);
        const v = Number.isSafeInteger(d) ? Math.floor(d / unit) : Number(x / bigUnit - (x % bigUnit < 0n ? 1n : 0n));
        codes[i] = code(v, () => v);
      }
    }
    return { codes, values };
  }
  const int64 = raw instanceof BigInt64Array && ['long', 'time', 'timestamp', 'timestamptz'].includes(src.type);
  const int32 = raw instanceof Int32Array && (src.type === 'int' || src.type === 'date');
  if (src.transform.startsWith('bucket[') && (int64 || int32)) {
    const nBuckets = Number(/\[(\d+)\]/.exec(src.transform)![1]);
    const buf = new Uint8Array(8);
    const view = new DataView(buf.buffer);
    for (let i = 0; i < n; i++) {
      if (isNull(i)) codes[i] = code(null, () => null);
      else {
        if (int64) view.setBigInt64(0, (raw as BigInt64Array)[i]!, true);
        else {
          const x = (raw as Int32Array)[i]!;
          view.setInt32(0, x, true);
          view.setInt32(4, x < 0 ? -1 : 0, true);
        }
        const b = (murmur3x86_32(buf) & 0x7fffffff) % nBuckets;
        codes[i] = code(b, () => b);
      }
    }
    return { codes, values };
  }
  if (src.transform.startsWith('bucket[') && src.type === 'string') {
    const nBuckets = Number(/\[(\d+)\]/.exec(src.transform)![1]);
    const offs = data.valueOffsets as Int32Array;
    const bytes = data.values as Uint8Array;
    for (let i = 0; i < n; i++) {
      if (isNull(i)) codes[i] = code(null, () => null);
      else {
        const b = (murmur3x86_32(bytes.subarray(offs[i]!, offs[i + 1]!)) & 0x7fffffff) % nBuckets;
        codes[i] = code(b, () => b);
      }
    }
    return { codes, values };
  }
  for (let i = 0; i < n; i++) {
    const v = valueAt(data, i, src.type);
    const t = v === null ? null : applyTransform(src.transform, src.type, v);
    const key = t instanceof Uint8Array ? `b:${Buffer.from(t).toString('hex')}` : typeof t === 'bigint' ? `n:${t}` : t;
    codes[i] = code(key, () => t);
  }
  return { codes, values };
}

/** Groups the rows of `batch` by partition tuple. */
export function splitByPartition(batch: arrow.RecordBatch, sources: readonly PartitionSource[]): PartitionGroup[] {
  const n = batch.numRows;
  if (sources.length === 0) return [{ values: [], rows: identity(n) }];
  const cols = sources.map((s) => codeColumn(batch.data.children[s.column]!, s));
  // Mixed-radix combination of the per-column codes; exact while the product stays < 2^53.
  const combined = new Float64Array(n);
  let radix = 1;
  for (const c of cols) {
    for (let i = 0; i < n; i++) combined[i] = combined[i]! + c.codes[i]! * radix;
    radix *= Math.max(1, c.values.length);
  }
  const groupOf = new Map<number, number>();
  const counts: number[] = [];
  const firstRow: number[] = [];
  const rowGroup = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let g = groupOf.get(combined[i]!);
    if (g === undefined) {
      g = counts.length;
      groupOf.set(combined[i]!, g);
      counts.push(0);
      firstRow.push(i);
    }
    counts[g]!++;
    rowGroup[i] = g;
  }
  if (counts.length === 1) return [{ values: cols.map((c) => c.values[c.codes[0]!]!), rows: identity(n) }];
  const groups = counts.map((count, g) => ({ values: cols.map((c) => c.values[c.codes[firstRow[g]!]!]!), rows: new Int32Array(count) }));
  const fill = new Int32Array(counts.length);
  for (let i = 0; i < n; i++) {
    const g = rowGroup[i]!;
    groups[g]!.rows[fill[g]!++] = i;
  }
  return groups;
}

function identity(n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

/** A string that identifies a partition tuple, for grouping files across batches. */
export function partitionKey(values: readonly PartitionValue[]): string {
  return values
    .map((v) => (v === null ? '\u0000' : v instanceof Uint8Array ? `b${Buffer.from(v).toString('hex')}` : `${typeof v}${String(v)}`))
    .join('\u0001');
}

const dec = new TextDecoder();

/** The value of row i of a top-level primitive column, in the writer's value representation. */
export function valueAt(data: arrow.Data, i: number, type: string): IcebergValue | null {
  if (data.nullCount > 0 && data.nullBitmap && data.nullBitmap.length > 0) {
    const bit = data.offset + i;
    if (((data.nullBitmap[bit >> 3]! >> (bit & 7)) & 1) === 0) return null;
  }
  // Value and offset buffers of a sliced Arrow JS Data start at its first row; bitmaps do not.
  const idx = i;
  if (type === 'string' || type === 'binary') {
    const offs = data.valueOffsets as Int32Array;
    const bytes = (data.values as Uint8Array).subarray(offs[idx]!, offs[idx + 1]!);
    return type === 'string' ? dec.decode(bytes) : bytes.slice();
  }
  if (type === 'boolean') {
    const bit = data.offset + i;
    return (((data.values as Uint8Array)[bit >> 3]! >> (bit & 7)) & 1) === 1;
  }
  if (type.startsWith('decimal')) return decimalAt(data.values as Uint32Array, idx);
  if (type.startsWith('fixed[')) {
    const w = (data.type as arrow.FixedSizeBinary).byteWidth;
    return (data.values as Uint8Array).slice(idx * w, idx * w + w);
  }
  const values = data.values as unknown;
  if (values instanceof BigInt64Array) return values[idx]!;
  if (values instanceof Int32Array && (type === 'long' || type === 'timestamp' || type === 'timestamptz' || type === 'time')) {
    return (BigInt(values[2 * idx + 1]!) << 32n) | BigInt(values[2 * idx]! >>> 0);
  }
  return (values as Float64Array)[idx]!;
}
