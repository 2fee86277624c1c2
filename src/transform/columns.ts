// Arrow columns built straight into typed arrays and wrapped with makeData: Arrow JS's generic
// builders cost several times what JSON.parse does per row. Every batch gets fresh buffers, never
// a slice of a shared one, because result batches are transferred to the sink thread and a
// transfer detaches the whole underlying ArrayBuffer.
//
// Values arrive as JS arrays in the transform layer's representation (see time.ts): strings,
// booleans, numbers (integers, floats, days, µs), bigints for DECIMAL (unscaled, at the column's
// scale: see decimal.ts) and BIGINT beyond ±2^53, Uint8Array for bytes, arrays and plain objects
// for nested types; null is null.

import * as arrow from 'apache-arrow';
import { formatSqlType, type SqlType } from '../schema/sql-types.js';
import { END_MICROS_BIG, MIN_MICROS_BIG, dateInRange, dateRangeReason, timestampInRange, timestampRangeReason } from '../schema/calendar.js';
import { StreamError } from '../errors.js';
import { arrowTypeOf } from '../schema/type-mapping.js';
import { decimalFromNumber } from './decimal.js';

/** Rows to take, as indices into the value array; null takes rows 0..count-1. */
export type Selection = Int32Array | null;

const NOT_POOLED_MIN = 64;

/**
 * Grows a byte buffer outside Node's shared Buffer pool: a pooled Buffer's ArrayBuffer holds other
 * allocations too, and transferring it would detach them.
 */
function allocBytes(n: number): Buffer {
  return Buffer.allocUnsafeSlow(Math.max(n, NOT_POOLED_MIN));
}

export class Utf8ColumnBuilder {
  private bytes: Buffer;
  private readonly offsets: Int32Array;
  private valid: Uint8Array | null = null;
  private pos = 0;
  private i = 0;

  constructor(private readonly capacity: number, bytesHint = capacity * 16) {
    this.bytes = allocBytes(bytesHint);
    this.offsets = new Int32Array(capacity + 1);
  }

  append(s: string | null): void {
    if (s === null) {
      this.markNull();
    } else {
      // A UTF-16 code unit never takes more than 3 UTF-8 bytes.
      const need = this.pos + s.length * 3;
      if (need > this.bytes.length) this.grow(need);
      this.pos += this.bytes.write(s, this.pos);
    }
    this.offsets[++this.i] = this.pos;
  }

  private markNull(): void {
    if (this.valid === null) this.valid = new Uint8Array(this.capacity).fill(1);
    this.valid[this.i] = 0;
  }

  private grow(need: number): void {
    const next = allocBytes(Math.max(need, this.bytes.length * 2));
    this.bytes.copy(next, 0, 0, this.pos);
    this.bytes = next;
  }

  finish(type: arrow.DataType = new arrow.Utf8()): arrow.Data {
    const n = this.i;
    // Shrink when more than a quarter would be wasted: the whole buffer travels with the batch.
    const data = this.pos < this.bytes.length * 0.75 ? new Uint8Array(this.bytes.subarray(0, this.pos)) : this.bytes.subarray(0, this.pos);
    return arrow.makeData({ type, length: n, valueOffsets: this.offsets.subarray(0, n + 1), data, ...validity(this.valid, n) } as any);
  }
}

export class BinaryColumnBuilder {
  private bytes: Uint8Array;
  private readonly offsets: Int32Array;
  private valid: Uint8Array | null = null;
  private pos = 0;
  private i = 0;

  constructor(private readonly capacity: number, bytesHint = capacity * 64) {
    this.bytes = new Uint8Array(Math.max(bytesHint, NOT_POOLED_MIN));
    this.offsets = new Int32Array(capacity + 1);
  }

  append(b: Uint8Array | null): void {
    if (b === null) {
      if (this.valid === null) this.valid = new Uint8Array(this.capacity).fill(1);
      this.valid[this.i] = 0;
    } else {
      if (this.pos + b.length > this.bytes.length) {
        const next = new Uint8Array(Math.max(this.pos + b.length, this.bytes.length * 2));
        next.set(this.bytes.subarray(0, this.pos));
        this.bytes = next;
      }
      this.bytes.set(b, this.pos);
      this.pos += b.length;
    }
    this.offsets[++this.i] = this.pos;
  }

  finish(type: arrow.DataType = new arrow.Binary()): arrow.Data {
    const n = this.i;
    return arrow.makeData({ type, length: n, valueOffsets: this.offsets.subarray(0, n + 1), data: this.bytes.slice(0, this.pos), ...validity(this.valid, n) } as any);
  }
}

/** Arrow's validity bitmap (LSB first) from one byte per row; omitted when nothing is null. */
export function validity(valid: Uint8Array | null, n: number): { nullCount: number; nullBitmap?: Uint8Array } {
  if (valid === null) return { nullCount: 0 };
  const bitmap = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (valid[i] === 1) bitmap[i >> 3]! |= 1 << (i & 7);
    else nulls++;
  }
  return nulls === 0 ? { nullCount: 0 } : { nullCount: nulls, nullBitmap: bitmap };
}

export function recordBatchOf(schema: arrow.Schema, length: number, children: arrow.Data[]): arrow.RecordBatch {
  const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length, nullCount: 0, children });
  return new arrow.RecordBatch(schema, struct);
}

const MASK_32 = 0xffffffffn;

/** Two's-complement 128-bit little-endian words of an unscaled decimal, as Arrow's Decimal128 stores it. */
function writeDecimal128(words: Uint32Array, at: number, unscaled: bigint): void {
  let v = unscaled < 0n ? (1n << 128n) + unscaled : unscaled;
  for (let w = 0; w < 4; w++) {
    words[at + w] = Number(v & MASK_32);
    v >>= 32n;
  }
}

/**
 * One Arrow column of `type` from values[sel[j]] (or values[j]). Callers have already checked
 * NOT NULL columns; a null here becomes a null in the column.
 */
export function buildColumn(values: ArrayLike<unknown>, type: SqlType, sel: Selection, count: number): arrow.Data {
  const at = (j: number): unknown => values[sel === null ? j : sel[j]!];
  const arrowType = arrowTypeOf(type);
  let valid: Uint8Array | null = null;
  const setNull = (j: number) => {
    if (valid === null) valid = new Uint8Array(count).fill(1);
    valid[j] = 0;
  };
  const fixed = (data: ArrayBufferView) => arrow.makeData({ type: arrowType, length: count, data, ...validity(valid, count) } as any);

  switch (type.kind) {
    case 'string':
      return buildUtf8(at, arrowType, count);
    case 'bytes': {
      const b = new BinaryColumnBuilder(count);
      for (let j = 0; j < count; j++) b.append(at(j) as Uint8Array | null);
      return b.finish(arrowType);
    }
    case 'boolean': {
      const bits = new Uint8Array((count + 7) >> 3);
      for (let j = 0; j < count; j++) {
        const v = at(j);
        if (v === null || v === undefined) setNull(j);
        else if (v === true) bits[j >> 3]! |= 1 << (j & 7);
      }
      return fixed(bits);
    }
    case 'int': {
      const data = new Int32Array(count);
      for (let j = 0; j < count; j++) {
        const v = at(j);
        if (v === null || v === undefined) setNull(j);
        else data[j] = v as number;
      }
      return fixed(data);
    }
    case 'date': {
      // The last guard of Flink's DATE range: a day count past it would wrap in an Int32, and
      // land in the table as some other date.
      const data = new Int32Array(count);
      for (let j = 0; j < count; j++) {
        const v = at(j);
        if (v === null || v === undefined) setNull(j);
        else if (dateInRange(v as number)) data[j] = v as number;
        else throw outOfRange(type, dateRangeReason(v as number)!);
      }
      return fixed(data);
    }
    case 'float':
    case 'double': {
      const data = type.kind === 'float' ? new Float32Array(count) : new Float64Array(count);
      for (let j = 0; j < count; j++) {
        const v = at(j);
        if (v === null || v === undefined) setNull(j);
        else data[j] = typeof v === 'bigint' ? Number(v) : (v as number);
      }
      return fixed(data);
    }
    case 'bigint':
    case 'time':
    case 'timestamp':
    case 'timestamp_ltz': {
      // Written as two 32-bit halves: a BigInt per value costs more than the rest of the loop.
      // Timestamps are held to Flink's years here, the last place before the table: past them a
      // value wraps or reaches years that readers (and the partition transforms) cannot show.
      const words = new Int32Array(count * 2);
      const ranged = type.kind === 'timestamp' || type.kind === 'timestamp_ltz';
      const precision = ranged ? type.precision : 6;
      for (let j = 0; j < count; j++) {
        const v = at(j);
        if (v === null || v === undefined) setNull(j);
        else if (ranged && !timestampInRange(v as number | bigint)) throw outOfRange(type, timestampRangeReason(v as number | bigint)!);
        else if (typeof v === 'bigint' || (precision < 6 && Math.abs(v as number) > Number.MAX_SAFE_INTEGER)) {
          // BIGINTs beyond ±2^53 arrive as bigint (see json-decoder.ts); a far timestamp of
          // a precision below 6 is made exact first (exactMicros).
          const b = typeof v === 'bigint' ? v : exactMicros(v as number, precision);
          words[2 * j] = Number(BigInt.asIntN(32, b));
          words[2 * j + 1] = Number(BigInt.asIntN(32, b >> 32n));
        } else {
          const x = Math.trunc(v as number);
          const hi = Math.floor(x / 4294967296);
          words[2 * j] = x - hi * 4294967296;
          words[2 * j + 1] = hi;
        }
      }
      return fixed(new BigInt64Array(words.buffer));
    }
    case 'decimal': {
      const words = new Uint32Array(count * 4);
      const scale = type.scale;
      for (let j = 0; j < count; j++) {
        const v = at(j);
        if (v === null || v === undefined) setNull(j);
        // A double here is a transformer's value not yet made exact; it rounds as BigDecimal.valueOf.
        else writeDecimal128(words, j * 4, typeof v === 'bigint' ? v : decimalFromNumber(v as number, scale));
      }
      return fixed(words);
    }
    case 'fixed': {
      const width = type.length;
      const data = new Uint8Array(count * width);
      for (let j = 0; j < count; j++) {
        const v = at(j) as Uint8Array | null | undefined;
        if (v === null || v === undefined) setNull(j);
        else data.set(v.subarray(0, width), j * width);
      }
      return fixed(data);
    }
    case 'array':
    case 'map':
    case 'row': {
      const leaf = builderValue(type);
      return retype(buildNested(leaf === null ? at : (j) => leaf(at(j)), physicalArrowType(type), count), arrowType);
    }
  }
}

function outOfRange(type: SqlType, reason: string): StreamError {
  return new StreamError('EXPRESSION_FAILED', `${formatSqlType(type)} value ${reason}`);
}

/**
 * Strings of a column encoded with one native call: when the joined text is ASCII, its byte
 * offsets are its character offsets. Other text falls back to one write per value.
 */
function buildUtf8(at: (j: number) => unknown, type: arrow.DataType, count: number): arrow.Data {
  const parts: string[] = new Array(count);
  const offsets = new Int32Array(count + 1);
  let valid: Uint8Array | null = null;
  let chars = 0;
  for (let j = 0; j < count; j++) {
    const v = at(j);
    if (v === null || v === undefined) {
      if (valid === null) valid = new Uint8Array(count).fill(1);
      valid[j] = 0;
      parts[j] = '';
    } else {
      parts[j] = v as string;
      chars += (v as string).length;
    }
    offsets[j + 1] = chars;
  }
  const joined = parts.join('');
  const bytes = Buffer.allocUnsafeSlow(Math.max(joined.length * 3, NOT_POOLED_MIN));
  const written = bytes.write(joined, 0);
  if (written === joined.length) {
    return arrow.makeData({ type, length: count, valueOffsets: offsets, data: new Uint8Array(bytes.subarray(0, written)), ...validity(valid, count) } as any);
  }
  const b = new Utf8ColumnBuilder(count, written + 16);
  for (let j = 0; j < count; j++) b.append(valid !== null && valid[j] === 0 ? null : parts[j]!);
  return b.finish(type);
}

type Leaf = (v: unknown) => unknown;

/**
 * Arrow's Int64 builder takes bigint only, and its Decimal builder the four little-endian words:
 * converts BIGINT and DECIMAL leaves of a nested value; null when there are none.
 */
function builderValue(t: SqlType): Leaf | null {
  switch (t.kind) {
    case 'bigint':
    case 'time':
      // Times go in as their µs in an Int64 (physicalArrowType).
      return (v) => (v === null || v === undefined || typeof v === 'bigint' ? v : BigInt(Math.trunc(v as number)));
    case 'timestamp':
    case 'timestamp_ltz':
      // µs in an Int64; a Date (a TypeScript transformer's own value) counts its milliseconds.
      return (v) => (v === null || v === undefined || typeof v === 'bigint' ? v : v instanceof Date ? BigInt(v.getTime()) * 1000n : exactMicros(v as number, t.precision));
    case 'decimal': {
      const scale = t.scale;
      return (v) => {
        if (v === null || v === undefined) return v;
        const words = new Uint32Array(4);
        writeDecimal128(words, 0, typeof v === 'bigint' ? v : decimalFromNumber(v as number, scale));
        return words;
      };
    }
    case 'array': {
      const e = builderValue(t.element);
      return e === null ? null : (v) => (Array.isArray(v) ? v.map(e) : v);
    }
    case 'map': {
      const k = builderValue(t.key);
      const val = builderValue(t.value);
      if (k === null && val === null) return null;
      return (v) => {
        if (!(v instanceof Map)) return v;
        const out = new Map<unknown, unknown>();
        for (const [key, x] of v) out.set(k === null ? key : k(key), val === null ? x : val(x));
        return out;
      };
    }
    case 'row': {
      const conv = t.fields.map((f) => [f.name, builderValue(f.type)] as const);
      if (conv.every(([, c]) => c === null)) return null;
      return (v) => {
        if (v === null || typeof v !== 'object') return v;
        const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
        for (const [name, c] of conv) if (c !== null) out[name] = c(out[name]);
        return out;
      };
    }
    default:
      return null;
  }
}

/**
 * A timestamp's micros as the table takes them. Beyond ±2^53 µs (before 1685, after 2255) a double
 * holds a time only to 2–32 µs, but a value of precision p < 6 is a whole number of 10^(6-p) µs,
 * so the nearest such number, when within that error, is its exact value: TO_TIMESTAMP_LTZ(
 * 253402300799999, 3) is written as 9999-12-31 23:59:59.999, not .999008. A value not that near
 * one (not made at its precision) and one the rounding would carry past 9999 stay as they are.
 */
function exactMicros(x: number, precision: number): bigint {
  const held = BigInt(Math.trunc(x));
  if (precision >= 6 || Math.abs(x) <= Number.MAX_SAFE_INTEGER) return held;
  const unit = 10 ** (6 - precision);
  const exact = BigInt(Math.round(x / unit)) * BigInt(unit);
  const off = exact > held ? exact - held : held - exact;
  return off <= 64n && exact >= MIN_MICROS_BIG && exact < END_MICROS_BIG ? exact : held;
}

/**
 * The Arrow type a nested column is built as: its own, with each temporal leaf as the integer
 * that holds it (TIMESTAMP and TIME µs as Int64, DATE days as Int32). Arrow's builders take a
 * timestamp as epoch milliseconds and multiply by 1000 in a double, which loses microseconds and
 * throws on a fraction; the integers go in exactly, and retype gives the leaves their types back.
 */
function physicalArrowType(t: SqlType): arrow.DataType {
  switch (t.kind) {
    case 'timestamp':
    case 'timestamp_ltz':
    case 'time':
      return new arrow.Int64();
    case 'date':
      return new arrow.Int32();
    case 'array':
      return new arrow.List(new arrow.Field('element', physicalArrowType(t.element), t.element.nullable));
    case 'map':
      return new arrow.Map_(
        new arrow.Field('entries', new arrow.Struct<any>([
          new arrow.Field('key', physicalArrowType(t.key), false),
          new arrow.Field('value', physicalArrowType(t.value), t.value.nullable),
        ]), false),
      );
    case 'row':
      return new arrow.Struct(t.fields.map((f) => new arrow.Field(f.name, physicalArrowType(f.type), f.type.nullable)));
    default:
      return arrowTypeOf(t);
  }
}

/** The same buffers under `type`: same layout, the leaves' logical types restored. */
function retype(data: arrow.Data, type: arrow.DataType): arrow.Data {
  const children = data.children.map((c, k) => retype(c, type.children[k]!.type));
  return new arrow.Data(type, data.offset, data.length, data.nullCount, data.buffers, children);
}

/**
 * Nested columns go through Arrow's generic builder: they are rare in Kafka event pipelines, and
 * their leaves are limited to types whose JS form the builder takes as is (see output-check.ts).
 */
function buildNested(at: (j: number) => unknown, type: arrow.DataType, count: number): arrow.Data {
  const builder = arrow.makeBuilder({ type, nullValues: [null, undefined] });
  for (let j = 0; j < count; j++) {
    const v = at(j);
    builder.append(type instanceof arrow.Map_ && v !== null && v !== undefined && !(v instanceof Map) ? new Map(Object.entries(v as object)) : v);
  }
  return builder.finish().flush();
}
