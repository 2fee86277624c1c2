// Decompression of a Kafka record batch's records by the codec id in bits 0-2 of its attributes.
// gzip and zstd come from node:zlib; snappy from the napi-rs `snappy` package; LZ4 frames are
// walked here and their blocks decoded by the pure-JS `lz4js` (see the commits that chose them for
// measurements). The two packages load on the first batch that needs them, so a missing native
// binary fails only the snappy topics, as a coded error, rather than every decoder thread at import.
//
// Hazard: a few kilobytes of compressed input can claim gigabytes of output (a gzip or zstd
// "bomb"; their members and frames may also be concatenated without end). Every codec here takes
// a bound on its output and stops as soon as it would pass it — zlib inside its own loop
// (`maxOutputLength`), snappy before it starts (a block states its length up front), LZ4 block by
// block — so a hostile batch costs at most the bound, never an out-of-memory exit of the process.

import { createRequire } from 'node:module';
import { gunzipSync, zstdDecompressSync } from 'node:zlib';
import { StreamError } from '../errors.js';

export const CODEC_NONE = 0;
export const CODEC_GZIP = 1;
export const CODEC_SNAPPY = 2;
export const CODEC_LZ4 = 3;
export const CODEC_ZSTD = 4;

const CODEC_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type CodecName = (typeof CODEC_NAMES)[number];

/** The codec's name, or undefined for an id Kafka has not assigned (5-7). */
export function codecName(codec: number): CodecName | undefined {
  return CODEC_NAMES[codec];
}

interface SnappyModule {
  uncompressSync(input: Uint8Array, options: { asBuffer: true; copyOutputData: boolean }): Uint8Array;
}
interface Lz4Module {
  /** Decodes one raw LZ4 block of `src[sIndex, sIndex + sLength)` into `dst` at `dIndex`; returns the end index. */
  decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number;
}

const require = createRequire(import.meta.url);
let snappy: SnappyModule | null = null;
let lz4: Lz4Module | null = null;

function load<T>(name: string): T {
  try {
    return require(name) as T;
  } catch (err) {
    throw new StreamError('KAFKA_CODEC_UNSUPPORTED', `the ${name} package, needed to decompress this topic's record batches, could not load: ${(err as Error).message}`, {
      cause: err,
      details: { package: name },
    });
  }
}

function snappyModule(): SnappyModule {
  return (snappy ??= load<SnappyModule>('snappy'));
}

function lz4Module(): Lz4Module {
  return (lz4 ??= load<Lz4Module>('lz4js'));
}

/** snappy-java's stream header: magic, then int32 version and int32 minimum compatible version. */
const XERIAL_MAGIC = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00];
const XERIAL_HEADER_LENGTH = 16;

function isXerialFramed(data: Uint8Array): boolean {
  if (data.length < XERIAL_HEADER_LENGTH) return false;
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (data[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

/** A decompression stopped because its output would pass `limit` bytes. */
export class OutputLimitError extends Error {
  constructor(readonly limit: number) {
    super(`decompressed output passes the limit of ${limit} bytes`);
    this.name = 'OutputLimitError';
  }
}

/** The uncompressed length a raw snappy block states in its preamble (a varint of at most 5 bytes). */
function snappyLength(block: Uint8Array): number {
  let length = 0;
  for (let i = 0, shift = 1; i < 5 && i < block.length; i++, shift *= 128) {
    length += (block[i]! & 0x7f) * shift;
    if (block[i]! < 0x80) return length;
  }
  throw new Error('snappy block preamble is not a varint');
}

function snappyBlock(block: Uint8Array, room: number, limit: number): Uint8Array {
  // Checked before decompressing: the block's own preamble sizes the output buffer it allocates.
  if (snappyLength(block) > room) throw new OutputLimitError(limit);
  // copyOutputData: the default external buffers each carry a finalizer, and once a few thousand
  // are pending V8's GC work cut decode speed about tenfold in measurement.
  return snappyModule().uncompressSync(block, { asBuffer: true, copyOutputData: true });
}

/**
 * Snappy as either producer writes it: the Java client wraps blocks in snappy-java's framing
 * (header, then [int32 big-endian length][raw block] repeated); librdkafka writes one raw block.
 * A raw block cannot be mistaken for the framing: 0x82 0x53 would be its length varint and 0x4e its
 * first tag, a back-reference copy, which no valid block starts with.
 */
export function decompressSnappy(data: Uint8Array, limit = Infinity): Uint8Array {
  if (!isXerialFramed(data)) return snappyBlock(data, limit, limit);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const blocks: Uint8Array[] = [];
  let total = 0;
  let pos = XERIAL_HEADER_LENGTH;
  while (pos < data.length) {
    if (pos + 4 > data.length) throw new Error(`snappy-java framing: block length cut off at byte ${pos}`);
    const length = view.getInt32(pos);
    pos += 4;
    if (length < 0 || pos + length > data.length) throw new Error(`snappy-java framing: block of ${length} bytes at byte ${pos} runs past the ${data.length}-byte input`);
    const block = snappyBlock(data.subarray(pos, pos + length), limit - total, limit);
    blocks.push(block);
    total += block.length;
    pos += length;
  }
  if (blocks.length === 1) return blocks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

const LZ4_MAGIC = 0x184d2204;
/** Block maximum sizes by the frame descriptor's BD bits 4-6. */
const LZ4_BLOCK_MAX: Record<number, number> = { 4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024 };
/** One block's output, reused: a frame's header only bounds blocks, and lz4js's own `decompress`
 * allocates that bound for every block (4 MB each for its own frames), which measured 5x slower. */
let lz4Scratch = new Uint8Array(0);

/**
 * An LZ4 frame (what Kafka v2 batches carry): the frame walk is ours, each block is decoded by
 * lz4js. Checksums in the frame are not verified: the batch's CRC-32C already covers these bytes.
 */
export function decompressLz4Frame(data: Uint8Array, limit = Infinity): Uint8Array {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 7 || view.getUint32(0, true) !== LZ4_MAGIC) throw new Error('not an LZ4 frame (bad magic number)');
  const flags = data[4]!;
  if (flags >> 6 !== 1) throw new Error(`LZ4 frame version ${flags >> 6}`);
  const blockMax = LZ4_BLOCK_MAX[(data[5]! >> 4) & 7];
  if (blockMax === undefined) throw new Error(`LZ4 frame block size id ${(data[5]! >> 4) & 7}`);
  if (flags & 0x01) throw new Error('LZ4 frame needs a dictionary');
  const blockChecksums = (flags & 0x10) !== 0;
  let pos = 6;
  let out = new Uint8Array(0);
  let outLength = 0;
  if (flags & 0x08) {
    const contentSize = Number(view.getBigUint64(pos, true));
    pos += 8;
    // A lying size only costs a grow or a short result; cap what one batch may pre-allocate.
    if (contentSize > limit) throw new OutputLimitError(limit);
    out = new Uint8Array(Math.min(contentSize, 256 * 1024 * 1024));
  }
  pos += 1; // header checksum
  if (lz4Scratch.length < blockMax) lz4Scratch = new Uint8Array(blockMax);
  const lz4 = lz4Module();
  for (;;) {
    if (pos + 4 > data.length) throw new Error('LZ4 frame ends before its end mark');
    const word = view.getUint32(pos, true);
    pos += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    if (pos + size > data.length) throw new Error(`LZ4 block of ${size} bytes runs past the frame`);
    let block: Uint8Array;
    if (word & 0x80000000) block = data.subarray(pos, pos + size);
    else {
      const end = lz4.decompressBlock(data, lz4Scratch, pos, size, 0);
      if (end > blockMax) throw new Error(`LZ4 block decodes past the frame's ${blockMax}-byte block size`);
      block = lz4Scratch.subarray(0, end);
    }
    if (outLength + block.length > limit) throw new OutputLimitError(limit);
    if (outLength + block.length > out.length) {
      const grown = new Uint8Array(Math.max(outLength + block.length, out.length * 2));
      grown.set(out.subarray(0, outLength));
      out = grown;
    }
    out.set(block, outLength);
    outLength += block.length;
    pos += size + (blockChecksums ? 4 : 0);
  }
  return outLength === out.length ? out : out.subarray(0, outLength);
}

/** zlib's answer to output past `maxOutputLength`, told apart by its code, never its text. */
function zlibBounded(inflate: () => Uint8Array, limit: number): Uint8Array {
  try {
    return inflate();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new OutputLimitError(limit);
    throw err;
  }
}

/**
 * The uncompressed records of a batch, at most `limit` bytes of them (an OutputLimitError past
 * it). `data` is returned as is for codec 0. Codec library failures are thrown as they come (the
 * caller knows which batch it was); an unassigned codec id throws KAFKA_CODEC_UNSUPPORTED.
 */
export function decompress(codec: number, data: Uint8Array, limit = Infinity): Uint8Array {
  // zlib takes a finite length only; its own ceiling (kMaxLength) is where Infinity ends anyway.
  const maxOutputLength = Number.isFinite(limit) ? Math.max(1, Math.floor(limit)) : undefined;
  switch (codec) {
    case CODEC_NONE:
      return data;
    case CODEC_GZIP:
      return zlibBounded(() => gunzipSync(data, maxOutputLength === undefined ? {} : { maxOutputLength }), limit);
    case CODEC_SNAPPY:
      return decompressSnappy(data, limit);
    case CODEC_LZ4:
      return decompressLz4Frame(data, limit);
    case CODEC_ZSTD:
      return zlibBounded(() => zstdDecompressSync(data, maxOutputLength === undefined ? {} : { maxOutputLength }), limit);
    default:
      throw new StreamError('KAFKA_CODEC_UNSUPPORTED', `Kafka compression codec id ${codec} is not one this runtime knows (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd)`, {
        details: { codec },
      });
  }
}
