// Decoder of Kafka RecordBatch v2 (magic 2): the `records` bytes of one partition of a Fetch
// response, turned straight into a RawBatch for the transform pool. It runs on worker threads for
// every record, so the record walk makes no object per record: index arithmetic over the bytes,
// writes into preallocated typed arrays, key and value bytes copied with `set`.
//
// Hazards handled here: the broker cuts a response at its byte limit, so the last batch may be
// partial (ignored, and nextOffset stops before it); a fetch returns whole batches, so the first
// one may start before the fetch offset (records below it are skipped); control batches and, under
// read_committed, aborted transactions occupy offsets but are never delivered.

import { endianness } from 'node:os';
import { StreamError, isStreamError } from '../errors.js';
import type { RawBatch } from './raw-batch.js';
import { CODEC_NONE, OutputLimitError, codecName, decompress } from './codecs.js';
import { crc32c } from './crc32c.js';
import {
  ATTR_CODEC_MASK,
  ATTR_CONTROL,
  ATTR_LOG_APPEND_TIME,
  ATTR_TRANSACTIONAL,
  ATTRIBUTES,
  BASE_TIMESTAMP,
  CONTROL_TYPE_ABORT,
  CRC,
  LAST_OFFSET_DELTA,
  MAX_TIMESTAMP,
  PRODUCER_ID,
  RECORD_COUNT,
  RECORDS,
  completeBatchLength,
  corrupt,
  hex,
  where,
  type BatchSpan,
} from './record-batch-format.js';

export interface AbortedTransaction {
  producerId: bigint;
  firstOffset: bigint;
}

export interface DecodeRecordsOptions {
  topic: string;
  partition: number;
  /** Records below this offset are skipped: a fetch may return a batch that starts before the fetch offset. */
  fromOffset: bigint;
  /** Records at or past this offset are skipped (a bounded run's end); undefined: no bound. */
  endOffset?: bigint | undefined;
  /** read_committed: the Fetch response's aborted transactions for this partition (possibly empty). null: read_uncommitted (every data record is delivered, control batches still skipped). */
  abortedTransactions: AbortedTransaction[] | null;
  /** The pipeline's max_record_bytes: bounds what one compressed batch may inflate to (see `decompressedLimit`). */
  maxRecordBytes?: number;
}

export interface DecodedRecords {
  /** The data records kept, packed as the transform pool's decoder takes them (offsets, timestamps, keys, values; headers dropped). */
  raw: RawBatch;
  /** One past the last offset covered by the complete batches in the input, control and aborted records included; equals fromOffset when no batch was complete. */
  nextOffset: bigint;
  /** Records not delivered, by reason. */
  skipped: { control: number; aborted: number; belowFrom: number; pastEnd: number };
}


/** Key, headers and framing a record may carry beside its value, within the decompression bound. */
const RECORD_HEADROOM = 64 * 1024;
/** Any batch may inflate this far: a single record somewhat over max_record_bytes is still read, and becomes that record's dead letter. */
const MIN_BATCH_OUTPUT = 64 * 1024 * 1024;
/** No batch inflates past this, whatever its header claims: the record count is the producer's word. */
const MAX_BATCH_OUTPUT = 512 * 1024 * 1024;
const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;
/** length, attributes, timestamp delta, offset delta, key length, value length, header count: one byte each at least. */
const MIN_RECORD_BYTES = 7;

/**
 * The most a compressed batch of `recordCount` records may inflate to: each record's value up to
 * max_record_bytes plus headroom for its key and headers, never below MIN_BATCH_OUTPUT nor above
 * MAX_BATCH_OUTPUT. Past it the batch is KAFKA_BATCH_CORRUPT: records that large would be dead
 * letters anyway, and the bound is what keeps a decompression bomb from taking the process down.
 */
export function decompressedLimit(recordCount: number, maxRecordBytes = DEFAULT_MAX_RECORD_BYTES): number {
  return Math.min(MAX_BATCH_OUTPUT, Math.max(MIN_BATCH_OUTPUT, recordCount * (maxRecordBytes + RECORD_HEADROOM)));
}

const TWO_POW_32 = 4294967296;
/** Offsets are stored as two int32 words when the platform is little-endian (every Node target today). */
const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * Node.js' byte copy, called on plain Uint8Arrays: one native call per value, where
 * `set(subarray())` makes a view object first. For W1's 135-byte values, 2 M copies took 76–79
 * against 124–127 ms.
 */
const copyBytes = Buffer.prototype.copy as (this: Uint8Array, target: Uint8Array, targetStart: number, sourceStart: number, sourceEnd: number) => number;

/** A data batch that passed the checks, waiting for its records to be copied out. */
interface PendingBatch {
  baseOffset: bigint;
  records: Uint8Array;
  recordCount: number;
  baseTimestamp: number;
  /** Every record's timestamp under LogAppendTime; NaN for CreateTime. */
  appendTime: number;
  /** Offset deltas below this are under fromOffset; at or past `maxDelta` are at or past endOffset. */
  minDelta: number;
  maxDelta: number;
}

/** A bigint offset difference clamped into the int32 range that offset deltas live in. */
function clampDelta(d: bigint): number {
  if (d <= 0n) return 0;
  if (d > 0x7fffffffn) return 0x7fffffff + 1;
  return Number(d);
}

/** Decodes back-to-back record batches (the `records` field of one partition of a Fetch response). A truncated last batch (the broker cuts responses at the byte limit) is ignored, not an error. */
export function decodeRecordBatches(bytes: Uint8Array, options: DecodeRecordsOptions): DecodedRecords {
  const { topic, partition, fromOffset, endOffset } = options;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const skipped = { control: 0, aborted: 0, belowFrom: 0, pastEnd: 0 };
  const aborted = options.abortedTransactions === null ? null : [...options.abortedTransactions].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  const abortOngoing = new Set<bigint>();
  let nextAborted = 0;
  let nextOffset = fromOffset;
  const pending: PendingBatch[] = [];
  let recordCapacity = 0;
  let byteCapacity = 0;

  let pos = 0;
  for (;;) {
    const total = completeBatchLength(view, pos, topic, partition);
    if (total < 0) break;
    const start = pos;
    pos += total;
    const baseOffset = view.getBigInt64(start);
    const lastOffset = baseOffset + BigInt(view.getInt32(start + LAST_OFFSET_DELTA));
    if (lastOffset + 1n > nextOffset) nextOffset = lastOffset + 1n;
    const attributes = view.getInt16(start + ATTRIBUTES);
    const recordCount = view.getInt32(start + RECORD_COUNT);
    if (recordCount < 0) throw corrupt(topic, partition, baseOffset, `negative record count ${recordCount}`);
    const producerId = view.getBigInt64(start + PRODUCER_ID);
    const isControl = (attributes & ATTR_CONTROL) !== 0;

    // The consumer's read_committed walk: an aborted transaction's producer turns "ongoing" at the
    // first batch reaching its first offset and stays so until that producer's ABORT marker.
    if (aborted !== null) {
      while (nextAborted < aborted.length && aborted[nextAborted]!.firstOffset <= lastOffset) {
        abortOngoing.add(aborted[nextAborted]!.producerId);
        nextAborted++;
      }
    }
    if (isControl && aborted === null) {
      skipped.control += recordCount;
      continue;
    }
    if (!isControl && aborted !== null && (attributes & ATTR_TRANSACTIONAL) !== 0 && abortOngoing.has(producerId)) {
      skipped.aborted += recordCount;
      continue;
    }
    if (!isControl && (lastOffset < fromOffset || (endOffset !== undefined && baseOffset >= endOffset))) {
      if (lastOffset < fromOffset) skipped.belowFrom += recordCount;
      else skipped.pastEnd += recordCount;
      continue;
    }

    const stored = view.getUint32(start + CRC);
    const computed = crc32c(bytes.subarray(start + ATTRIBUTES, start + total));
    if (stored !== computed) {
      throw new StreamError('KAFKA_BATCH_CORRUPT', `CRC-32C mismatch in ${where(topic, partition, baseOffset)}: stored ${hex(stored)}, computed ${hex(computed)}`, {
        details: { topic, partition, offset: baseOffset },
      });
    }
    const codec = attributes & ATTR_CODEC_MASK;
    const body = bytes.subarray(start + RECORDS, start + total);
    let records: Uint8Array;
    if (codec === CODEC_NONE) records = body;
    else {
      const name = codecName(codec);
      if (name === undefined) {
        throw new StreamError('KAFKA_CODEC_UNSUPPORTED', `unknown compression codec id ${codec} in ${where(topic, partition, baseOffset)}`, {
          details: { topic, partition, offset: baseOffset, codec },
        });
      }
      const limit = decompressedLimit(recordCount, options.maxRecordBytes);
      try {
        records = decompress(codec, body, limit);
      } catch (err) {
        if (err instanceof OutputLimitError) {
          throw corrupt(topic, partition, baseOffset, `${name} records inflate past ${limit} bytes, the most a batch of ${recordCount} record(s) may hold under max_record_bytes ${options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES} (a decompression bomb, or records far over max_record_bytes)`, err);
        }
        if (isStreamError(err)) {
          throw new StreamError(err.code, `${err.message} (${where(topic, partition, baseOffset)})`, { cause: err, details: { ...err.details, topic, partition, offset: baseOffset } });
        }
        throw corrupt(topic, partition, baseOffset, `${name} decompression failed: ${(err as Error).message}`, err);
      }
    }

    // The header's count sizes the arrays every record is written into: a count no bytes could
    // hold (a record takes at least 7) would allocate gigabytes before the walk finds the lie.
    if (recordCount * MIN_RECORD_BYTES > records.length) throw corrupt(topic, partition, baseOffset, `record count ${recordCount} cannot fit in ${records.length} bytes of records`);
    if (isControl) {
      skipped.control += recordCount;
      if (aborted !== null && recordCount > 0 && controlType(records, topic, partition, baseOffset) === CONTROL_TYPE_ABORT) abortOngoing.delete(producerId);
      continue;
    }
    const appendTime = (attributes & ATTR_LOG_APPEND_TIME) !== 0 ? Number(view.getBigInt64(start + MAX_TIMESTAMP)) : NaN;
    pending.push({
      baseOffset,
      records,
      recordCount,
      baseTimestamp: Number(view.getBigInt64(start + BASE_TIMESTAMP)),
      appendTime,
      minDelta: clampDelta(fromOffset - baseOffset),
      maxDelta: endOffset === undefined ? 0x7fffffff + 1 : clampDelta(endOffset - baseOffset),
    });
    recordCapacity += recordCount;
    byteCapacity += records.length;
  }

  const out = new RecordWriter(recordCapacity, byteCapacity);
  for (const batch of pending) out.writeBatch(batch, topic, partition, skipped);
  return { raw: out.finish(topic, partition), nextOffset, skipped };
}

/**
 * The producer whose transaction the batch at `span` aborts, or null for any other batch (data,
 * a COMMIT marker, or a control batch that is compressed, which brokers do not write). Reads the
 * header and the marker's key only: no CRC check, no decompression.
 */
export function abortMarkerProducer(bytes: Uint8Array, span: BatchSpan): bigint | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset + span.start, span.end - span.start);
  const attributes = view.getInt16(ATTRIBUTES);
  if ((attributes & ATTR_CONTROL) === 0 || (attributes & ATTR_CODEC_MASK) !== 0 || span.recordCount === 0) return null;
  const records = bytes.subarray(span.start + RECORDS, span.end);
  return controlType(records, '?', -1, span.baseOffset) === CONTROL_TYPE_ABORT ? view.getBigInt64(PRODUCER_ID) : null;
}

/** The type of a control batch's marker: its record key is int16 version, int16 type. */
function controlType(records: Uint8Array, topic: string, partition: number, baseOffset: bigint): number {
  readVarint(records, 0); // record length
  readVarlong(records, vpos + 1); // the attributes byte, then timestampDelta
  readVarint(records, vpos); // offsetDelta
  const keyLength = readVarint(records, vpos);
  const p = vpos;
  if (keyLength < 4 || p + keyLength > records.length) throw corrupt(topic, partition, baseOffset, `control record key of ${keyLength} bytes`);
  return (records[p + 2]! << 8) | records[p + 3]!;
}

// Varint readers return the value and leave the position after it in `vpos`: a module-level
// out-parameter keeps the hot loop free of result objects.
let vpos = 0;

/** Zigzag varint of at most 5 bytes (int32). */
function readVarint(b: Uint8Array, p: number): number {
  let x = b[p++]!;
  if (x >= 0x80) {
    x &= 0x7f;
    let shift = 7;
    let c: number;
    do {
      c = b[p++]!;
      x |= (c & 0x7f) << shift;
      shift += 7;
    } while (c >= 0x80 && shift < 35);
  }
  vpos = p;
  return (x >>> 1) ^ -(x & 1);
}

/** Zigzag varint of at most 10 bytes (int64), as a Number: exact within ±2^53. */
function readVarlong(b: Uint8Array, p: number): number {
  let c = b[p++]!;
  let x = c & 0x7f;
  let scale = 128;
  while (c >= 0x80 && scale < 2 ** 70) {
    c = b[p++]!;
    x += (c & 0x7f) * scale;
    scale *= 128;
  }
  vpos = p;
  return x % 2 === 0 ? x / 2 : -(x + 1) / 2;
}

/** Packs records into the RawBatch arrays, sized for every pending record and byte. */
class RecordWriter {
  private count = 0;
  private readonly offsets: BigInt64Array;
  private readonly offsetWords: Int32Array;
  private readonly timestamps: Float64Array;
  private readonly values: Uint8Array;
  private readonly valueOffsets: Int32Array;
  private valueNulls: Uint8Array | null = null;
  private keys: Uint8Array;
  private readonly keyOffsets: Int32Array;
  private keyNulls: Uint8Array | null = null;
  private valueEnd = 0;
  private keyEnd = 0;

  constructor(private readonly capacity: number, byteCapacity: number) {
    this.offsets = new BigInt64Array(capacity);
    this.offsetWords = new Int32Array(this.offsets.buffer);
    this.timestamps = new Float64Array(capacity);
    // Keys and values together fit in the record bytes, so values need no growth; keys are often
    // null or short, so their buffer starts small and grows.
    this.values = new Uint8Array(byteCapacity);
    this.valueOffsets = new Int32Array(capacity + 1);
    this.keys = new Uint8Array(Math.min(byteCapacity, 4096 + capacity * 16));
    this.keyOffsets = new Int32Array(capacity + 1);
  }

  writeBatch(batch: PendingBatch, topic: string, partition: number, skipped: DecodedRecords['skipped']): void {
    const b = batch.records;
    const end = b.length;
    const { minDelta, maxDelta, baseTimestamp, appendTime, recordCount } = batch;
    const useAppendTime = appendTime === appendTime;
    const baseNumber = Number(batch.baseOffset);
    const wordsSafe = LITTLE_ENDIAN && baseNumber + 0x7fffffff < Number.MAX_SAFE_INTEGER;
    const { offsets, offsetWords, timestamps, values, valueOffsets, keyOffsets } = this;
    let i = this.count;
    let valueEnd = this.valueEnd;
    let keyEnd = this.keyEnd;
    let p = 0;
    let seen = 0;
    while (p < end) {
      if (seen === recordCount) throw corrupt(topic, partition, batch.baseOffset, `more records than the ${recordCount} the header counts`);
      seen++;
      const length = readVarint(b, p);
      p = vpos;
      const recordEnd = p + length;
      if (length < 0 || recordEnd > end) throw corrupt(topic, partition, batch.baseOffset, `record of ${length} bytes running past the batch`);
      const timestampDelta = readVarlong(b, p + 1);
      const offsetDelta = readVarint(b, vpos);
      if (offsetDelta < minDelta) {
        skipped.belowFrom++;
        p = recordEnd;
        continue;
      }
      if (offsetDelta >= maxDelta) {
        skipped.pastEnd++;
        p = recordEnd;
        continue;
      }
      const keyLength = readVarint(b, vpos);
      p = vpos;
      if (keyLength < 0) {
        (this.keyNulls ??= new Uint8Array(this.capacity))[i] = 1;
      } else {
        if (p + keyLength > recordEnd) throw corrupt(topic, partition, batch.baseOffset, `record key of ${keyLength} bytes running past its record`);
        if (keyEnd + keyLength > this.keys.length) this.growKeys(keyEnd + keyLength);
        copyBytes.call(b, this.keys, keyEnd, p, p + keyLength);
        keyEnd += keyLength;
        p += keyLength;
      }
      keyOffsets[i + 1] = keyEnd;
      const valueLength = readVarint(b, p);
      p = vpos;
      if (valueLength < 0) {
        (this.valueNulls ??= new Uint8Array(this.capacity))[i] = 1;
      } else {
        if (p + valueLength > recordEnd) throw corrupt(topic, partition, batch.baseOffset, `record value of ${valueLength} bytes running past its record`);
        copyBytes.call(b, values, valueEnd, p, p + valueLength);
        valueEnd += valueLength;
      }
      valueOffsets[i + 1] = valueEnd;
      if (wordsSafe) {
        const offset = baseNumber + offsetDelta;
        const lo = offset >>> 0;
        offsetWords[2 * i] = lo;
        offsetWords[2 * i + 1] = (offset - lo) / TWO_POW_32;
      } else {
        offsets[i] = batch.baseOffset + BigInt(offsetDelta);
      }
      timestamps[i] = useAppendTime ? appendTime : baseTimestamp + timestampDelta;
      i++;
      // Headers are dropped: the record length lets the walk step over them unread.
      p = recordEnd;
    }
    if (seen !== recordCount) throw corrupt(topic, partition, batch.baseOffset, `${seen} records where the header counts ${recordCount}`);
    this.count = i;
    this.valueEnd = valueEnd;
    this.keyEnd = keyEnd;
  }

  private growKeys(needed: number): void {
    const grown = new Uint8Array(Math.max(needed, this.keys.length * 2));
    grown.set(this.keys.subarray(0, this.keyEnd));
    this.keys = grown;
  }

  finish(topic: string, partition: number): RawBatch {
    const n = this.count;
    return {
      topic,
      partition,
      count: n,
      values: this.values.subarray(0, this.valueEnd),
      valueOffsets: this.valueOffsets.subarray(0, n + 1),
      valueNulls: this.valueNulls === null ? null : this.valueNulls.subarray(0, n),
      offsets: this.offsets.subarray(0, n),
      timestamps: this.timestamps.subarray(0, n),
      keys: this.keys.subarray(0, this.keyEnd),
      keyOffsets: this.keyOffsets.subarray(0, n + 1),
      keyNulls: this.keyNulls === null ? null : this.keyNulls.subarray(0, n),
    };
  }
}
