// Giving a buffer's memory back as soon as its last reader is done with it, instead of when the
// thread's garbage collector next finds it unreachable.

/**
 * Detaches the ArrayBuffer under `view` (ES2024 `ArrayBuffer.prototype.transfer` to length 0),
 * which frees its bytes at once, when the view spans the whole buffer and so owns it. A view into
 * a larger buffer (a slice of a socket read, a pooled Node.js Buffer) or into shared memory is
 * left alone. Every other view of the buffer reads as empty afterwards: call it only when nothing
 * will read the bytes again.
 *
 * Why: a thread that passes many large buffers along and allocates little else (the main thread
 * routing chunks to the transform pool, a worker after decoding its chunk) collects them late; in
 * W1 the main thread held 77–108 MB of such buffers at its peak (benchmarks/README.md, Memory).
 */
export function releaseBytes(view: ArrayBufferView | null | undefined): void {
  if (!view) return;
  const buffer = view.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer; detached?: boolean };
  if (typeof buffer.transfer !== 'function' || buffer.detached === true) return;
  if (view.byteOffset !== 0 || view.byteLength !== buffer.byteLength || buffer.byteLength === 0) return;
  buffer.transfer(0);
}
