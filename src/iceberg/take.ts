// Row selection on Arrow data: a new Data holding rows `indices` of the input, in that order.
// Arrow JS slices value and offset buffers eagerly (index 0 is the first row of a slice) but
// leaves validity and boolean bitmaps whole, indexed from bit `data.offset`.
// Used to split a batch by partition. Buffers are built directly (typed arrays), since Arrow
// JS's generic builders are several times slower than the rest of the data path.

import * as arrow from 'apache-arrow';

function bitAt(bits: Uint8Array, i: number): boolean {
  return ((bits[i >> 3]! >> (i & 7)) & 1) === 1;
}

function takeValidity(data: arrow.Data, indices: Int32Array): { bitmap: Uint8Array | undefined; nullCount: number } {
  const bits = data.nullBitmap;
  if (data.nullCount === 0 || !bits || bits.length === 0) return { bitmap: undefined, nullCount: 0 };
  const out = new Uint8Array((indices.length + 7) >> 3);
  let nulls = 0;
  for (let j = 0; j < indices.length; j++) {
    if (bitAt(bits, data.offset + indices[j]!)) out[j >> 3]! |= 1 << (j & 7);
    else nulls++;
  }
  return { bitmap: out, nullCount: nulls };
}

export function takeData(data: arrow.Data, indices: Int32Array): arrow.Data {
  const n = indices.length;
  const { bitmap, nullCount } = takeValidity(data, indices);
  const type = data.type;
  const off = data.offset;

  if (arrow.DataType.isStruct(type)) {
    const children = data.children.map((c) => takeData(c, indices));
    return arrow.makeData({ type, length: n, nullCount, nullBitmap: bitmap, children } as never);
  }

  if (arrow.DataType.isList(type) || arrow.DataType.isMap(type)) {
    const offs = data.valueOffsets as Int32Array;
    const newOffs = gatherOffsets(offs, indices);
    const total = newOffs[n]!;
    const childIdx = new Int32Array(total);
    let k = 0;
    for (let j = 0; j < n; j++) {
      const i = indices[j]!;
      for (let c = offs[i]!; c < offs[i + 1]!; c++) childIdx[k++] = c;
    }
    const child = takeData(data.children[0]!, childIdx);
    return arrow.makeData({ type, length: n, nullCount, nullBitmap: bitmap, valueOffsets: newOffs, child } as never);
  }

  if (arrow.DataType.isUtf8(type) || arrow.DataType.isBinary(type)) {
    const offs = data.valueOffsets as Int32Array;
    const bytes = data.values as Uint8Array;
    const newOffs = gatherOffsets(offs, indices);
    const total = newOffs[n]!;
    const out = new Uint8Array(total);
    for (let j = 0; j < n; j++) {
      const i = indices[j]!;
      out.set(bytes.subarray(offs[i]!, offs[i + 1]!), newOffs[j]!);
    }
    return arrow.makeData({ type, length: n, nullCount, nullBitmap: bitmap, valueOffsets: newOffs, data: out } as never);
  }

  if (arrow.DataType.isBool(type)) {
    const bits = data.values as Uint8Array;
    const out = new Uint8Array((n + 7) >> 3);
    for (let j = 0; j < n; j++) if (bitAt(bits, off + indices[j]!)) out[j >> 3]! |= 1 << (j & 7);
    return arrow.makeData({ type, length: n, nullCount, nullBitmap: bitmap, data: out } as never);
  }

  if (arrow.DataType.isNull(type)) return arrow.makeData({ type, length: n, nullCount: n } as never);

  // Fixed-width values: `stride` elements of the values array per row.
  const values = data.values as unknown as { length: number; subarray(a: number, b: number): ArrayLike<unknown>; constructor: new (n: number) => { set(src: ArrayLike<unknown>, at: number): void } };
  const stride = data.stride;
  const out = new values.constructor(n * stride);
  for (let j = 0; j < n; j++) {
    const s = indices[j]! * stride;
    out.set(values.subarray(s, s + stride), j * stride);
  }
  return arrow.makeData({ type, length: n, nullCount, nullBitmap: bitmap, data: out } as never);
}

export function takeBatch(batch: arrow.RecordBatch, indices: Int32Array): arrow.RecordBatch {
  const children = batch.data.children.map((c) => takeData(c, indices));
  const struct = arrow.makeData({ type: batch.data.type, length: indices.length, nullCount: 0, children });
  return new arrow.RecordBatch(batch.schema, struct);
}

/** The picked rows' value offsets, packed: entry j+1 minus entry j is row indices[j]'s length. */
function gatherOffsets(offs: Int32Array, indices: Int32Array): Int32Array {
  const out = new Int32Array(indices.length + 1);
  let total = 0;
  for (let j = 0; j < indices.length; j++) {
    const i = indices[j]!;
    total += offs[i + 1]! - offs[i]!;
    out[j + 1] = total;
  }
  return out;
}
