// A batch of Kafka records as the JSON decoder takes it: every message value packed into one byte
// buffer with offsets, keys likewise. The record-batch decoder (src/kafka/record-batch.ts) writes
// it straight from Kafka's bytes in the transform worker; tests and benchmarks pack one from
// plain records.

/** Kafka records of one topic-partition, in offset order. Every array has `count` entries. */
export interface RawBatch {
  topic: string;
  partition: number;
  count: number;
  /** All message values back to back. */
  values: Uint8Array;
  /** `count + 1` entries: value i is `values[valueOffsets[i] .. valueOffsets[i + 1])`. */
  valueOffsets: Int32Array | Uint32Array;
  /** 1 where the value is null (a tombstone); null when no value in the batch is null. */
  valueNulls: Uint8Array | null;
  /** Kafka offsets; int64 in the protocol. */
  offsets: BigInt64Array;
  /** Record timestamps in epoch milliseconds. */
  timestamps: Float64Array;
  keys: Uint8Array;
  /** `count + 1` entries, as `valueOffsets`. */
  keyOffsets: Int32Array | Uint32Array;
  /** 1 where the key is null; null when no key in the batch is null. */
  keyNulls: Uint8Array | null;
}

export interface RawRecordInput {
  offset: bigint | number | string;
  timestamp: number;
  key?: Uint8Array | string | null;
  value: Uint8Array | string | null;
}

const encoder = new TextEncoder();

function bytesOf(v: Uint8Array | string): Uint8Array {
  return typeof v === 'string' ? encoder.encode(v) : v;
}

/** Packs plain records into a RawBatch (tests and benchmarks). */
export function packRawBatch(topic: string, partition: number, records: readonly RawRecordInput[]): RawBatch {
  const count = records.length;
  const valueBytes: (Uint8Array | null)[] = new Array(count);
  const keyBytes: (Uint8Array | null)[] = new Array(count);
  let valueTotal = 0;
  let keyTotal = 0;
  let anyNullValue = false;
  let anyNullKey = false;
  for (let i = 0; i < count; i++) {
    const r = records[i]!;
    const v = r.value === null ? null : bytesOf(r.value);
    const k = r.key === null || r.key === undefined ? null : bytesOf(r.key);
    valueBytes[i] = v;
    keyBytes[i] = k;
    if (v === null) anyNullValue = true;
    else valueTotal += v.length;
    if (k === null) anyNullKey = true;
    else keyTotal += k.length;
  }
  const values = new Uint8Array(valueTotal);
  const valueOffsets = new Int32Array(count + 1);
  const valueNulls = anyNullValue ? new Uint8Array(count) : null;
  const keys = new Uint8Array(keyTotal);
  const keyOffsets = new Int32Array(count + 1);
  const keyNulls = anyNullKey ? new Uint8Array(count) : null;
  const offsets = new BigInt64Array(count);
  const timestamps = new Float64Array(count);
  let vo = 0;
  let ko = 0;
  for (let i = 0; i < count; i++) {
    const r = records[i]!;
    const v = valueBytes[i]!;
    if (v === null) valueNulls![i] = 1;
    else {
      values.set(v, vo);
      vo += v.length;
    }
    valueOffsets[i + 1] = vo;
    const k = keyBytes[i]!;
    if (k === null) keyNulls![i] = 1;
    else {
      keys.set(k, ko);
      ko += k.length;
    }
    keyOffsets[i + 1] = ko;
    offsets[i] = BigInt(r.offset);
    timestamps[i] = r.timestamp;
  }
  return { topic, partition, count, values, valueOffsets, valueNulls, offsets, timestamps, keys, keyOffsets, keyNulls };
}

/** A view (no copy) of record i's value; null for a tombstone. */
export function rawValue(batch: RawBatch, i: number): Uint8Array | null {
  if (batch.valueNulls !== null && batch.valueNulls[i] === 1) return null;
  return batch.values.subarray(batch.valueOffsets[i]!, batch.valueOffsets[i + 1]!);
}

/** A view (no copy) of record i's key; null when the record has none. */
export function rawKey(batch: RawBatch, i: number): Uint8Array | null {
  if (batch.keyNulls !== null && batch.keyNulls[i] === 1) return null;
  return batch.keys.subarray(batch.keyOffsets[i]!, batch.keyOffsets[i + 1]!);
}
