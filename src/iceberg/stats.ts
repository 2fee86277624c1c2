// Per-file column metrics computed from the Arrow columns that went into a Parquet file, and
// Iceberg's single-value binary serialization for the bounds (Iceberg table spec, Appendix D,
// "Single-value serialization"). Engines prune files with these bounds, so a wrong bound loses
// rows from query results: lower bounds must be ≤ every value, upper bounds ≥ every value.

import * as arrow from 'apache-arrow';
import type { IcebergField, IcebergSchema, IcebergType } from './schema.js';
import { parseDecimal } from './schema.js';

/** A typed value as the writer sees it: ints as number, longs/timestamps as bigint, decimals as unscaled bigint. */
export type IcebergValue = boolean | number | bigint | string | Uint8Array;

const enc = new TextEncoder();

/** Iceberg's binary form of one value of a primitive type (Appendix D). */
export function serializeValue(type: string, value: IcebergValue): Uint8Array {
  switch (type) {
    case 'boolean':
      return Uint8Array.of(value ? 1 : 0);
    case 'int':
    case 'date': {
      const out = new Uint8Array(4);
      new DataView(out.buffer).setInt32(0, Number(value), true);
      return out;
    }
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz': {
      const out = new Uint8Array(8);
      new DataView(out.buffer).setBigInt64(0, BigInt(value as number | bigint), true);
      return out;
    }
    case 'float': {
      const out = new Uint8Array(4);
      new DataView(out.buffer).setFloat32(0, Number(value), true);
      return out;
    }
    case 'double': {
      const out = new Uint8Array(8);
      new DataView(out.buffer).setFloat64(0, Number(value), true);
      return out;
    }
    case 'string':
      return typeof value === 'string' ? enc.encode(value) : (value as Uint8Array);
    case 'binary':
      return value as Uint8Array;
    default:
      if (type.startsWith('fixed[')) return value as Uint8Array;
      if (parseDecimal(type)) return decimalBytes(BigInt(value as bigint));
      throw new Error(`no single-value serialization for ${type}`);
  }
}

/** Minimal two's-complement big-endian bytes of an unscaled decimal (Appendix D). */
export function decimalBytes(unscaled: bigint): Uint8Array {
  const bytes: number[] = [];
  let v = unscaled;
  for (;;) {
    bytes.unshift(Number(v & 0xffn));
    const rest = v >> 8n;
    const signBit = (bytes[0]! & 0x80) !== 0;
    if ((rest === 0n && !signBit) || (rest === -1n && signBit)) break;
    v = rest;
  }
  return Uint8Array.from(bytes);
}

/** Metrics of one data file, keyed by Iceberg field id. */
export interface ColumnMetrics {
  valueCounts: Record<number, number>;
  nullValueCounts: Record<number, number>;
  nanValueCounts: Record<number, number>;
  lowerBounds: Record<number, Uint8Array>;
  upperBounds: Record<number, Uint8Array>;
}

/** Iceberg's default `write.metadata.metrics.default` is truncate(16) for strings and binary. */
const TRUNCATE = 16;

/** One leaf column's counts and the smallest and largest of its values so far. */
export interface Acc {
  type: string;
  values: number;
  nulls: number;
  nans: number;
  min?: IcebergValue;
  max?: IcebergValue;
}

/**
 * Metrics for the leaves of `schema` over a list of Arrow record batches (already bound to the
 * table's Arrow schema). Leaves under a list or map get value and null counts only; bounds of
 * repeated values are left out, as Iceberg's own writers do.
 */
export function computeMetrics(schema: IcebergSchema, batches: readonly arrow.RecordBatch[]): ColumnMetrics {
  const m = new MetricsAccumulator(schema);
  for (const batch of batches) m.add(batch);
  return m.result();
}

/**
 * What a MetricsAccumulator has counted, as plain data (structured-clone-able): per field id,
 * its counts and the smallest and largest value so far. Made where the rows are made and merged
 * where the file is written.
 */
export type MetricsState = Array<[number, Acc]>;

/** computeMetrics one batch at a time, for a file whose rows are not kept once encoded. */
export class MetricsAccumulator {
  private readonly accs = new Map<number, Acc>();

  constructor(private readonly schema: IcebergSchema) {}

  add(batch: arrow.RecordBatch): void {
    this.schema.fields.forEach((f, i) => visit(f, batch.data.children[i]!, null, this.accs, false));
  }

  /** The counts so far, to be merged into another accumulator of the same schema. */
  state(): MetricsState {
    return [...this.accs].map(([id, a]) => [id, { ...a }]);
  }

  /** Adds what another accumulator of the same schema counted (its `state()`). */
  merge(state: MetricsState): void {
    for (const [id, b] of state) {
      const a = this.accs.get(id);
      if (!a) {
        this.accs.set(id, { ...b });
        continue;
      }
      a.values += b.values;
      a.nulls += b.nulls;
      a.nans += b.nans;
      if (b.min !== undefined && (a.min === undefined || below(b.min, a.min))) a.min = b.min;
      if (b.max !== undefined && (a.max === undefined || below(a.max, b.max))) a.max = b.max;
    }
  }

  result(): ColumnMetrics {
    const out: ColumnMetrics = { valueCounts: {}, nullValueCounts: {}, nanValueCounts: {}, lowerBounds: {}, upperBounds: {} };
    for (const [id, a] of this.accs) {
      out.valueCounts[id] = a.values;
      out.nullValueCounts[id] = a.nulls;
      if (a.type === 'float' || a.type === 'double') out.nanValueCounts[id] = a.nans;
      if (a.min !== undefined && a.max !== undefined) {
        const lower = lowerBound(a.type, a.min);
        const upper = upperBound(a.type, a.max);
        if (lower) out.lowerBounds[id] = lower;
        if (upper) out.upperBounds[id] = upper;
      }
    }
    return out;
  }
}

function visit(f: IcebergField, data: arrow.Data, parentValid: ((i: number) => boolean) | null, accs: Map<number, Acc>, repeated: boolean): void {
  const t: IcebergType = f.type;
  const valid = (i: number): boolean => (parentValid === null || parentValid(i)) && isValid(data, i);
  if (typeof t === 'string') {
    let a = accs.get(f.id);
    if (!a) accs.set(f.id, (a = { type: t, values: 0, nulls: 0, nans: 0 }));
    accumulate(a, data, parentValid === null && data.nullCount === 0 ? null : valid, !repeated);
    return;
  }
  if (t.type === 'struct') {
    t.fields.forEach((c, i) => visit(c, data.children[i]!, valid, accs, repeated));
    return;
  }
  // Children of lists and maps are counted per element, over the whole child array.
  const child = data.children[0]!;
  if (t.type === 'list') {
    const el: IcebergField = { id: t['element-id'], name: 'element', required: t['element-required'], type: t.element };
    visit(el, sliceChild(data, child), null, accs, true);
  } else {
    const entries = sliceChild(data, child);
    visit({ id: t['key-id'], name: 'key', required: true, type: t.key }, entries.children[0]!, null, accs, true);
    visit({ id: t['value-id'], name: 'value', required: t['value-required'], type: t.value }, entries.children[1]!, null, accs, true);
  }
}

/** The part of a list/map child array that the (possibly sliced) parent refers to. */
function sliceChild(parent: arrow.Data, child: arrow.Data): arrow.Data {
  // Arrow JS slices offset buffers eagerly: index 0 is the parent's first row.
  const offs = parent.valueOffsets as Int32Array;
  const start = offs[0]!;
  const end = offs[parent.length]!;
  return child.slice(start, end - start);
}

function isValid(data: arrow.Data, i: number): boolean {
  if (data.nullCount === 0 || !data.nullBitmap || data.nullBitmap.length === 0) return true;
  const bit = data.offset + i;
  return ((data.nullBitmap[bit >> 3]! >> (bit & 7)) & 1) === 1;
}

function accumulate(a: Acc, data: arrow.Data, valid: ((i: number) => boolean) | null, bounds: boolean): void {
  // Arrow JS slices value and offset buffers eagerly (index 0 is row 0) but not validity or
  // boolean bitmaps, which still start at bit `data.offset`.
  const n = data.length;
  a.values += n;
  const off = data.offset;
  const t = a.type;
  const values = data.values as unknown;
  let nulls = 0;
  if (t === 'string' || t === 'binary' || t.startsWith('fixed[')) {
    // Compared where they lie in the batch's value buffer (no view per value): the smallest and
    // largest so far are ranges of it, copied out once at the end.
    const bytes = data.values as Uint8Array;
    const offs = data.valueOffsets as Int32Array | undefined;
    const width = offs ? 0 : (data.type as arrow.FixedSizeBinary).byteWidth;
    let minAt = -1;
    let minEnd = -1;
    let maxAt = -1;
    let maxEnd = -1;
    for (let i = 0; i < n; i++) {
      if (valid && !valid(i)) {
        nulls++;
        continue;
      }
      if (!bounds) continue;
      const s = offs ? offs[i]! : i * width;
      const e = offs ? offs[i + 1]! : s + width;
      if (minAt < 0 || compareRanges(bytes, s, e, minAt, minEnd) < 0) {
        minAt = s;
        minEnd = e;
      }
      if (maxAt < 0 || compareRanges(bytes, s, e, maxAt, maxEnd) > 0) {
        maxAt = s;
        maxEnd = e;
      }
    }
    // Copies, so that the accumulator never pins a large Arrow buffer.
    if (minAt >= 0) {
      const v = bytes.subarray(minAt, minEnd);
      if (a.min === undefined || compareBytes(v, a.min as Uint8Array) < 0) a.min = v.slice();
    }
    if (maxAt >= 0) {
      const v = bytes.subarray(maxAt, maxEnd);
      if (a.max === undefined || compareBytes(v, a.max as Uint8Array) > 0) a.max = v.slice();
    }
  } else if (t === 'boolean') {
    const bits = data.values as Uint8Array;
    for (let i = 0; i < n; i++) {
      if (valid && !valid(i)) {
        nulls++;
        continue;
      }
      if (!bounds) continue;
      const bit = off + i;
      const v = ((bits[bit >> 3]! >> (bit & 7)) & 1) === 1;
      if (a.min === undefined || (a.min === true && !v)) a.min = v;
      if (a.max === undefined || (a.max === false && v)) a.max = v;
    }
  } else if (parseDecimal(t)) {
    const words = data.values as Uint32Array;
    for (let i = 0; i < n; i++) {
      if (valid && !valid(i)) {
        nulls++;
        continue;
      }
      if (!bounds) continue;
      const v = decimalAt(words, i);
      if (a.min === undefined || v < (a.min as bigint)) a.min = v;
      if (a.max === undefined || v > (a.max as bigint)) a.max = v;
    }
  } else if (values instanceof BigInt64Array || (values instanceof Int32Array && (t === 'long' || t === 'timestamp' || t === 'timestamptz' || t === 'time'))) {
    // 64-bit values compared as their (signed high, unsigned low) 32-bit words: reading a
    // BigInt64Array makes a BigInt per value. Only the smallest and largest become BigInts.
    const view = values as BigInt64Array | Int32Array;
    const words = new Int32Array(view.buffer, view.byteOffset, n * 2);
    let minAt = -1;
    let maxAt = -1;
    for (let i = 0; i < n; i++) {
      if (valid && !valid(i)) {
        nulls++;
        continue;
      }
      if (!bounds) continue;
      const hi = words[2 * i + 1]!;
      const lo = words[2 * i]! >>> 0;
      if (minAt < 0) {
        minAt = maxAt = i;
        continue;
      }
      const minHi = words[2 * minAt + 1]!;
      if (hi < minHi || (hi === minHi && lo < words[2 * minAt]! >>> 0)) minAt = i;
      const maxHi = words[2 * maxAt + 1]!;
      if (hi > maxHi || (hi === maxHi && lo > words[2 * maxAt]! >>> 0)) maxAt = i;
    }
    if (minAt >= 0) {
      const at = (i: number) => (BigInt(words[2 * i + 1]!) << 32n) | BigInt(words[2 * i]! >>> 0);
      const min = at(minAt);
      const max = at(maxAt);
      if (a.min === undefined || min < (a.min as bigint)) a.min = min;
      if (a.max === undefined || max > (a.max as bigint)) a.max = max;
    }
  } else {
    const arr = values as Int32Array | Float32Array | Float64Array;
    const isFloat = t === 'float' || t === 'double';
    let min = a.min as number | undefined;
    let max = a.max as number | undefined;
    for (let i = 0; i < n; i++) {
      if (valid && !valid(i)) {
        nulls++;
        continue;
      }
      const v = arr[i]!;
      if (isFloat && Number.isNaN(v)) {
        a.nans++;
        continue;
      }
      if (!bounds) continue;
      if (min === undefined || v < min || (v === 0 && min === 0 && Object.is(v, -0))) min = v;
      if (max === undefined || v > max || (v === 0 && max === 0 && Object.is(max, -0))) max = v;
    }
    if (min !== undefined) a.min = min;
    if (max !== undefined) a.max = max;
  }
  a.nulls += nulls;
}

/** Whether x sorts before y as the accumulator orders values (bytes unsigned, false before true, -0 before 0). */
function below(x: IcebergValue, y: IcebergValue): boolean {
  if (x instanceof Uint8Array) return compareBytes(x, y as Uint8Array) < 0;
  if (typeof x === 'boolean') return !x && (y as boolean);
  if (typeof x === 'bigint') return x < (y as bigint);
  const a = x as number;
  const b = y as number;
  return a < b || (a === 0 && b === 0 && Object.is(a, -0) && !Object.is(b, -0));
}

/** The signed 128-bit little-endian integer at index i of an Arrow Decimal buffer. */
export function decimalAt(words: Uint32Array, i: number): bigint {
  const b = 4 * i;
  const v =
    BigInt(words[b]!) | (BigInt(words[b + 1]!) << 32n) | (BigInt(words[b + 2]!) << 64n) | (BigInt(words[b + 3]!) << 96n);
  return BigInt.asIntN(128, v);
}

/** compareBytes of two ranges of one buffer. */
function compareRanges(bytes: Uint8Array, s1: number, e1: number, s2: number, e2: number): number {
  const n = Math.min(e1 - s1, e2 - s2);
  for (let i = 0; i < n; i++) {
    const d = bytes[s1 + i]! - bytes[s2 + i]!;
    if (d !== 0) return d;
  }
  return e1 - s1 - (e2 - s2);
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

function lowerBound(type: string, v: IcebergValue): Uint8Array | undefined {
  if (type === 'string') return truncateUtf8(v as Uint8Array, TRUNCATE);
  if (type === 'binary') return (v as Uint8Array).subarray(0, TRUNCATE);
  return serializeValue(type, v);
}

function upperBound(type: string, v: IcebergValue): Uint8Array | undefined {
  if (type === 'string') {
    const t = truncateUtf8(v as Uint8Array, TRUNCATE);
    return t.length === (v as Uint8Array).length ? t : incrementUtf8(t);
  }
  if (type === 'binary') {
    const b = v as Uint8Array;
    if (b.length <= TRUNCATE) return b;
    // Increment the last byte that is not 0xff and drop what follows; none → no upper bound.
    const t = b.slice(0, TRUNCATE);
    for (let i = t.length - 1; i >= 0; i--) {
      if (t[i]! < 0xff) {
        t[i]!++;
        return t.subarray(0, i + 1);
      }
    }
    return undefined;
  }
  return serializeValue(type, v);
}

/** The first `chars` code points of UTF-8 bytes. */
function truncateUtf8(b: Uint8Array, chars: number): Uint8Array {
  let count = 0;
  for (let i = 0; i < b.length; i++) {
    if ((b[i]! & 0xc0) !== 0x80) {
      if (count === chars) return b.subarray(0, i);
      count++;
    }
  }
  return b;
}

/** A string just above every string with this prefix: its last code point incremented. */
function incrementUtf8(b: Uint8Array): Uint8Array | undefined {
  const cps = Array.from(new TextDecoder().decode(b));
  for (let i = cps.length - 1; i >= 0; i--) {
    let cp = cps[i]!.codePointAt(0)! + 1;
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xe000;
    if (cp <= 0x10ffff) return enc.encode(cps.slice(0, i).join('') + String.fromCodePoint(cp));
  }
  return undefined;
}
