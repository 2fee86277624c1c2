// Partition specs and transforms (Iceberg table spec, "Partitioning" and "Partition
// Transforms"; bucket hashing per Appendix B, "32-bit Hash Requirements"). A transform that
// disagrees with the spec by one bit puts rows in partitions where other engines never look
// for them, so the hash and the date arithmetic are tested against the spec's vectors.

import type { PartitionFieldConfig } from '../config/types.js';
import { StreamError } from '../errors.js';
import type { IcebergSchema } from './schema.js';
import { findField, parseDecimal } from './schema.js';
import type { IcebergValue } from './stats.js';
import { decimalBytes } from './stats.js';
import { civilFromDays, dateText } from '../schema/calendar.js';

export interface PartitionField {
  'source-id': number;
  'field-id': number;
  name: string;
  /** `identity`, `year`, `month`, `day`, `hour`, `bucket[N]`, `truncate[W]`, `void` */
  transform: string;
}

export interface PartitionSpec {
  'spec-id': number;
  fields: PartitionField[];
}

/** Partition field ids start here (spec: "partition field IDs ... start at 1000"). */
export const PARTITION_FIELD_ID_START = 1000;

/** A partition value as stored in a DataFile descriptor; null for a null source value. */
export type PartitionValue = IcebergValue | null;

export function transformText(t: PartitionFieldConfig['transform']): string {
  switch (t.kind) {
    case 'bucket':
      return `bucket[${t.n}]`;
    case 'truncate':
      return `truncate[${t.width}]`;
    default:
      return t.kind;
  }
}

function defaultName(source: string, transform: PartitionFieldConfig['transform']): string {
  switch (transform.kind) {
    case 'identity':
      return source;
    case 'truncate':
      return `${source}_trunc`;
    default:
      return `${source}_${transform.kind}`;
  }
}

/** A partition spec for the sink's `partition_by`, with ids from the table schema. */
export function buildPartitionSpec(schema: IcebergSchema, partitionBy: readonly PartitionFieldConfig[], specId = 0): PartitionSpec {
  const fields = partitionBy.map((p, i) => {
    const source = findField(schema, p.source);
    if (!source) {
      throw new StreamError('CONFIG_INVALID', `partition field ${p.text}: no column named ${p.source} in the sink schema`, {
        details: { partition: p.text },
      });
    }
    if (typeof source.type !== 'string') {
      throw new StreamError('CONFIG_INVALID', `partition field ${p.text}: column ${p.source} is not a primitive type`, {
        details: { partition: p.text },
      });
    }
    resultType(transformText(p.transform), source.type);
    return { 'source-id': source.id, 'field-id': PARTITION_FIELD_ID_START + i, name: defaultName(p.source, p.transform), transform: transformText(p.transform) };
  });
  return { 'spec-id': specId, fields };
}

/** Two specs partition the same way (ids of partition fields aside). */
export function sameSpec(a: PartitionSpec, b: PartitionSpec): boolean {
  if (a.fields.length !== b.fields.length) return false;
  return a.fields.every((f, i) => f['source-id'] === b.fields[i]!['source-id'] && f.transform === b.fields[i]!.transform);
}

/** The Iceberg type of a transform's result for a source type; throws when it does not apply. */
export function resultType(transform: string, sourceType: string): string {
  const bad = (): never => {
    throw new StreamError('CONFIG_INVALID', `partition transform ${transform} does not apply to ${sourceType}`);
  };
  const temporal = ['date', 'timestamp', 'timestamptz'];
  if (transform === 'identity') return sourceType;
  if (transform === 'year' || transform === 'month') return temporal.includes(sourceType) ? 'int' : bad();
  if (transform === 'day') return temporal.includes(sourceType) ? 'date' : bad();
  if (transform === 'hour') return sourceType === 'timestamp' || sourceType === 'timestamptz' ? 'int' : bad();
  if (transform.startsWith('bucket[')) {
    const ok = ['int', 'long', 'date', 'time', 'timestamp', 'timestamptz', 'string', 'binary'].includes(sourceType);
    return ok || parseDecimal(sourceType) || sourceType.startsWith('fixed[') ? 'int' : bad();
  }
  if (transform.startsWith('truncate[')) {
    const ok = ['int', 'long', 'string', 'binary'].includes(sourceType) || parseDecimal(sourceType);
    return ok ? sourceType : bad();
  }
  if (transform === 'void') return sourceType;
  return bad();
}

function param(transform: string): number {
  return Number(/\[(\d+)\]/.exec(transform)![1]);
}

const MICROS_PER_HOUR = 3_600_000_000n;
const MICROS_PER_DAY = 86_400_000_000n;

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n) && ((a < 0n) !== (b < 0n)) ? q - 1n : q;
}

/** Days since 1970-01-01 of a date (int days) or timestamp (bigint micros); exact for any int64. */
function toDays(v: IcebergValue, sourceType: string): number {
  return sourceType === 'date' ? Number(v) : Number(floorDiv(BigInt(v as bigint), MICROS_PER_DAY));
}

// Years and months by integer calendar arithmetic, not Date: a Date ends at year 275760 and a
// 64-bit timestamp does not, and a transform that throws here would fail the table's sink on
// every retry of the same rows.

/** Years since 1970 of a days-since-epoch value. */
function yearsOf(days: number): number {
  return civilFromDays(days).year - 1970;
}

/** Months since 1970-01 of a days-since-epoch value. */
function monthsOf(days: number): number {
  const c = civilFromDays(days);
  return (c.year - 1970) * 12 + c.month - 1;
}

/**
 * Applies a transform to one non-null source value. Source values: int/date as number,
 * long/time/timestamp as bigint, decimals as unscaled bigint, strings as string, binary as bytes.
 * Total over every value of the source type: it never throws on a value.
 */
export function applyTransform(transform: string, sourceType: string, v: IcebergValue): IcebergValue {
  if (transform === 'identity') return v;
  if (transform === 'year') return yearsOf(toDays(v, sourceType));
  if (transform === 'month') return monthsOf(toDays(v, sourceType));
  if (transform === 'day') return toDays(v, sourceType);
  if (transform === 'hour') return Number(floorDiv(BigInt(v as bigint), MICROS_PER_HOUR));
  if (transform.startsWith('bucket[')) return bucket(sourceType, v, param(transform));
  if (transform.startsWith('truncate[')) return truncate(sourceType, v, param(transform));
  throw new StreamError('CONFIG_INVALID', `unsupported partition transform ${transform}`);
}

const enc = new TextEncoder();

/** The bytes that the bucket transform hashes for a value (Appendix B). */
export function bucketHashInput(sourceType: string, v: IcebergValue): Uint8Array {
  switch (sourceType) {
    case 'int':
    case 'date':
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz': {
      // Ints and dates hash as their long value.
      const out = new Uint8Array(8);
      new DataView(out.buffer).setBigInt64(0, BigInt(v as number | bigint), true);
      return out;
    }
    case 'string':
      return typeof v === 'string' ? enc.encode(v) : (v as Uint8Array);
    default:
      if (parseDecimal(sourceType)) return decimalBytes(BigInt(v as bigint));
      return v as Uint8Array;
  }
}

export function bucket(sourceType: string, v: IcebergValue, n: number): number {
  return (murmur3x86_32(bucketHashInput(sourceType, v)) & 0x7fffffff) % n;
}

export function truncate(sourceType: string, v: IcebergValue, width: number): IcebergValue {
  if (sourceType === 'int') {
    const x = Number(v);
    return x - (((x % width) + width) % width);
  }
  if (sourceType === 'long' || parseDecimal(sourceType)) {
    const x = BigInt(v as bigint);
    const w = BigInt(width);
    return x - (((x % w) + w) % w);
  }
  if (sourceType === 'string') {
    const s = typeof v === 'string' ? v : new TextDecoder().decode(v as Uint8Array);
    // Width counts code points, not UTF-16 units.
    let out = '';
    let count = 0;
    for (const ch of s) {
      if (count++ === width) break;
      out += ch;
    }
    return out;
  }
  return (v as Uint8Array).subarray(0, width);
}

/** MurmurHash3 x86 32-bit, seed 0, as a signed 32-bit int (Appendix B). */
export function murmur3x86_32(data: Uint8Array, seed = 0): number {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let h = seed | 0;
  const nblocks = data.length >> 2;
  for (let i = 0; i < nblocks; i++) {
    const j = i << 2;
    let k = data[j]! | (data[j + 1]! << 8) | (data[j + 2]! << 16) | (data[j + 3]! << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = nblocks << 2;
  const rem = data.length & 3;
  if (rem > 0) {
    let k = 0;
    if (rem === 3) k ^= data[tail + 2]! << 16;
    if (rem >= 2) k ^= data[tail + 1]! << 8;
    k ^= data[tail]!;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= data.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/**
 * The `name=value/...` directory of a partition tuple, as Iceberg's writers lay them out. Only
 * URI-safe characters are kept (others become `_`): file paths travel as URIs in manifests and
 * readers differ on whether they percent-decode them. Readers never parse these directories
 * (partition values live in the manifests), so two values sharing a directory is harmless.
 */
export function partitionPath(spec: PartitionSpec, values: readonly PartitionValue[]): string {
  return spec.fields.map((f, i) => `${safeSegment(f.name)}=${safeSegment(humanValue(f.transform, values[i] ?? null))}`).join('/');
}

function safeSegment(text: string): string {
  return encodeURIComponent(text).replace(/[^A-Za-z0-9._-]/g, '_');
}

function humanValue(transform: string, v: PartitionValue): string {
  if (v === null) return 'null';
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  if (transform === 'year') return String(1970 + Number(v));
  if (transform === 'month') {
    const m = Number(v);
    return `${1970 + Math.floor(m / 12)}-${pad((((m % 12) + 12) % 12) + 1)}`;
  }
  if (transform === 'day') return dateText(Number(v));
  if (transform === 'hour') {
    const h = Number(v);
    return `${dateText(Math.floor(h / 24))}-${pad((((h % 24) + 24) % 24))}`;
  }
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return String(v);
}
