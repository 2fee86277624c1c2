// The memory record chunks are copied into on the fetching thread: shared memory, reused.
//
// A chunk travels from the fetching thread to the main thread and on to a transform worker, and
// the main thread keeps it until its task settles (a task whose worker died runs again from the
// same bytes). In an ArrayBuffer of its own the second hand-over was a structured clone: a copy of
// every chunk into freshly mapped memory, on the main thread (in W1, 294 chunks of ~0.95 MB; cloned
// to a worker alone they cost 0.26–0.44 CPU-seconds, most of it system time, against 0.03–0.09
// transferred). In a SharedArrayBuffer both hand-overs pass the same memory. Such memory is freed
// only once every thread's garbage collector has let go of it, so rather than a new one per
// chunk (W1's peak RSS rose by 70–80 MB that way), a buffer comes back here when its chunk is
// released and the next chunk of its size class is copied into it.
//
// Hazard: a released buffer is written again by the next chunk. Release a chunk only when no
// thread will read its bytes again: its task settled (no retry can come) or it was never handed
// to one. A lease is taken back once; a second release of it, or of a lease this instance never
// gave, is ignored.

/** Sizes are rounded up to a quarter of their power of two (at most 25 % unused), and to at least this. */
const MIN_BUFFER_BYTES = 64 * 1024;

/** Buffers kept for reuse by one thread, in bytes; a buffer coming back past it is left to the collector. */
export const KEPT_BUFFER_BYTES = 32 * 1024 * 1024;

export interface ChunkCopy {
  /** The bytes copied, a view at the start of a shared buffer of their size class. */
  bytes: Uint8Array;
  /** What to give back with the bytes when the chunk is released. */
  lease: number;
}

/** Node.js' byte copy, on plain Uint8Arrays: one native call. */
const copyBytes = Buffer.prototype.copy as (this: Uint8Array, target: Uint8Array, targetStart: number, sourceStart: number, sourceEnd: number) => number;

export class ChunkBuffers {
  private readonly kept = new Map<number, SharedArrayBuffer[]>();
  private keptBytes = 0;
  /** Leases given and not yet taken back (numbers only: a chunk never released costs no memory here). */
  private readonly leased = new Set<number>();
  private nextLease = 1;

  constructor(private readonly keepBytes = KEPT_BUFFER_BYTES) {}

  /** bytes[start, end) copied into a shared buffer, kept or new. */
  copy(bytes: Uint8Array, start: number, end: number): ChunkCopy {
    const n = end - start;
    const size = sizeClass(n);
    let buffer = this.kept.get(size)?.pop();
    if (buffer !== undefined) this.keptBytes -= size;
    else buffer = new SharedArrayBuffer(size);
    const out = new Uint8Array(buffer, 0, n);
    copyBytes.call(bytes, out, 0, start, end);
    const lease = this.nextLease++;
    this.leased.add(lease);
    return { bytes: out, lease };
  }

  /**
   * Takes a released chunk's buffer back for the next copies: `bytes` is the chunk's view (or
   * that view as received from another thread: the same shared memory).
   */
  release(lease: number, bytes: Uint8Array): void {
    if (!this.leased.delete(lease)) return;
    const buffer = bytes.buffer;
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength !== sizeClass(buffer.byteLength)) return;
    if (this.keptBytes + buffer.byteLength > this.keepBytes) return;
    let list = this.kept.get(buffer.byteLength);
    if (list === undefined) this.kept.set(buffer.byteLength, (list = []));
    list.push(buffer);
    this.keptBytes += buffer.byteLength;
  }

  /** Bytes of the buffers kept for reuse. */
  get keptByteCount(): number {
    return this.keptBytes;
  }
}

/** The buffer size a copy of n bytes gets: n rounded up to a quarter of its power of two. */
export function sizeClass(n: number): number {
  if (n <= MIN_BUFFER_BYTES) return MIN_BUFFER_BYTES;
  const quarter = 2 ** (Math.floor(Math.log2(n)) - 2);
  return Math.ceil(n / quarter) * quarter;
}

/** The fetching thread's buffers (each thread has its own module instance). */
export const chunkBuffers = new ChunkBuffers();
