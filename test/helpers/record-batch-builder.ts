// Encoder of Kafka RecordBatch v2 for tests: writes batches as a broker stores them, with any codec
// (snappy both as the Java client's snappy-java framing and as librdkafka's raw block), the
// transactional and control flags, LogAppendTime, null keys and values, and headers. Written from
// the protocol description, independently of the decoder it checks.

import { createRequire } from 'node:module';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { crc32cTable } from '../../src/kafka/crc32c.js';

const require = createRequire(import.meta.url);
const snappy = require('snappy') as { compressSync(input: Uint8Array): Buffer };
const lz4 = require('lz4js') as { compress(src: Uint8Array): Uint8Array };

export type BuilderCodec = 'none' | 'gzip' | 'snappy' | 'snappy-xerial' | 'lz4' | 'zstd';

const CODEC_IDS: Record<BuilderCodec, number> = { none: 0, gzip: 1, snappy: 2, 'snappy-xerial': 2, lz4: 3, zstd: 4 };

type Bytes = Uint8Array | string;

export interface BuilderRecord {
  /** Defaults to the record's index in the batch. */
  offsetDelta?: number;
  timestampDelta?: number;
  key?: Bytes | null;
  value: Bytes | null;
  headers?: { key: string; value: Bytes | null }[];
}

export interface BatchSpec {
  baseOffset: bigint;
  records: BuilderRecord[];
  codec?: BuilderCodec;
  /** Overrides the codec id written into the attributes (to write ids no codec has). */
  codecId?: number;
  baseTimestamp?: number;
  /** Defaults to the largest record timestamp. */
  maxTimestamp?: number;
  logAppendTime?: boolean;
  transactional?: boolean;
  control?: boolean;
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  /** Defaults to the largest offsetDelta. */
  lastOffsetDelta?: number;
  /** Block size of the snappy-java framing; small values force several blocks. */
  xerialBlockSize?: number;
  magic?: number;
  /** The records field as given, in place of the records compressed by `codec` (hostile bodies). */
  compressedBody?: Uint8Array;
}

const text = new TextEncoder();
const bytesOf = (b: Bytes): Uint8Array => (typeof b === 'string' ? text.encode(b) : b);

/** Growable byte sink with Kafka's primitive encodings. */
class Writer {
  private buf = new Uint8Array(256);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    grown.set(this.buf.subarray(0, this.length));
    this.buf = grown;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  int8(v: number): void {
    this.reserve(1);
    this.buf[this.length++] = v & 0xff;
  }

  int16(v: number): void {
    this.fixed(2, (d) => d.setInt16(0, v));
  }

  int32(v: number): void {
    this.fixed(4, (d) => d.setInt32(0, v));
  }

  uint32(v: number): void {
    this.fixed(4, (d) => d.setUint32(0, v));
  }

  int64(v: bigint): void {
    this.fixed(8, (d) => d.setBigInt64(0, v));
  }

  /** Zigzag varint of any int64, via bigint so large timestamp deltas encode exactly. */
  varlong(v: number | bigint): void {
    const n = BigInt(v);
    let z = BigInt.asUintN(64, (n << 1n) ^ (n >> 63n));
    do {
      let byte = Number(z & 0x7fn);
      z >>= 7n;
      if (z !== 0n) byte |= 0x80;
      this.int8(byte);
    } while (z !== 0n);
  }

  /** Length-prefixed bytes, -1 for null. */
  nullable(b: Bytes | null | undefined): void {
    if (b === null || b === undefined) {
      this.varlong(-1);
      return;
    }
    const bytes = bytesOf(b);
    this.varlong(bytes.length);
    this.bytes(bytes);
  }

  private fixed(n: number, write: (d: DataView) => void): void {
    this.reserve(n);
    write(new DataView(this.buf.buffer, this.length, n));
    this.length += n;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function encodeRecord(r: BuilderRecord, index: number): Uint8Array {
  const body = new Writer();
  body.int8(0);
  body.varlong(r.timestampDelta ?? 0);
  body.varlong(r.offsetDelta ?? index);
  body.nullable(r.key);
  body.nullable(r.value);
  const headers = r.headers ?? [];
  body.varlong(headers.length);
  for (const h of headers) {
    body.nullable(h.key);
    body.nullable(h.value);
  }
  const framed = new Writer();
  const bytes = body.result();
  framed.varlong(bytes.length);
  framed.bytes(bytes);
  return framed.result();
}

/** snappy-java's stream: magic, version 1, compatible version 1, then [int32 length][raw block]. */
export function xerialSnappy(data: Uint8Array, blockSize = 32 * 1024): Uint8Array {
  const w = new Writer();
  w.bytes(Uint8Array.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]));
  w.int32(1);
  w.int32(1);
  for (let at = 0; at < data.length; at += blockSize) {
    const block = snappy.compressSync(data.subarray(at, Math.min(data.length, at + blockSize)));
    w.int32(block.length);
    w.bytes(block);
  }
  return w.result();
}

export function compress(codec: BuilderCodec, data: Uint8Array, xerialBlockSize?: number): Uint8Array {
  switch (codec) {
    case 'none':
      return data;
    case 'gzip':
      return gzipSync(data);
    case 'snappy':
      return snappy.compressSync(data);
    case 'snappy-xerial':
      return xerialSnappy(data, xerialBlockSize);
    case 'lz4':
      return lz4.compress(data);
    case 'zstd':
      return zstdCompressSync(data);
  }
}

export function buildRecordBatch(spec: BatchSpec): Uint8Array {
  const codec = spec.codec ?? 'none';
  const records = spec.records.map(encodeRecord);
  const plainLength = records.reduce((n, r) => n + r.length, 0);
  const plain = new Uint8Array(plainLength);
  let at = 0;
  for (const r of records) {
    plain.set(r, at);
    at += r.length;
  }
  const body = spec.compressedBody ?? compress(codec, plain, spec.xerialBlockSize);
  const baseTimestamp = spec.baseTimestamp ?? 1_700_000_000_000;
  const deltas = spec.records.map((r, i) => r.offsetDelta ?? i);
  const lastOffsetDelta = spec.lastOffsetDelta ?? (deltas.length === 0 ? 0 : Math.max(...deltas));
  const maxTimestamp = spec.maxTimestamp ?? baseTimestamp + Math.max(0, ...spec.records.map((r) => r.timestampDelta ?? 0));
  const attributes =
    (spec.codecId ?? CODEC_IDS[codec]) | (spec.logAppendTime ? 0x08 : 0) | (spec.transactional || spec.control ? 0x10 : 0) | (spec.control ? 0x20 : 0);

  // What the CRC covers: attributes to the end of the batch.
  const tail = new Writer();
  tail.int16(attributes);
  tail.int32(lastOffsetDelta);
  tail.int64(BigInt(baseTimestamp));
  tail.int64(BigInt(maxTimestamp));
  tail.int64(spec.producerId ?? -1n);
  tail.int16(spec.producerEpoch ?? (spec.producerId === undefined ? -1 : 0));
  tail.int32(spec.baseSequence ?? (spec.producerId === undefined ? -1 : 0));
  tail.int32(spec.records.length);
  tail.bytes(body);
  const covered = tail.result();

  const out = new Writer();
  out.int64(spec.baseOffset);
  out.int32(4 + 1 + 4 + covered.length);
  out.int32(0);
  out.int8(spec.magic ?? 2);
  out.uint32(crc32cTable(covered));
  out.bytes(covered);
  return out.result();
}

/** A control batch holding one marker: ABORT (type 0) or COMMIT (type 1) for a producer. */
export function controlBatch(baseOffset: bigint, producerId: bigint, marker: 'abort' | 'commit'): Uint8Array {
  const key = new Uint8Array(4);
  new DataView(key.buffer).setInt16(2, marker === 'abort' ? 0 : 1);
  // Value: version int16, coordinator epoch int32.
  return buildRecordBatch({ baseOffset, producerId, control: true, records: [{ key, value: new Uint8Array(6) }] });
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
