import * as arrow from 'apache-arrow';
import * as pq from 'parquet-wasm/node';
import { describe, expect, it } from 'vitest';
import { DataFileWriter, MAX_STREAMED_FILES, PLAIN_AFTER_FALLBACK_FILES, dictionariesGivenUp, parseCodec } from '../../src/iceberg/data-file-writer.js';
import { StreamError } from '../../src/errors.js';
import type { FileIO } from '../../src/iceberg/file-io.js';
import { buildPartitionSpec } from '../../src/iceberg/partition.js';
import { buildSchema } from '../../src/iceberg/schema.js';
import { releaseBytes } from '../../src/release-bytes.js';
import { parquetMetadata } from 'hyparquet';
import { TableRows } from '../../src/iceberg/table-rows.js';
import { arrowSchemaOf } from '../../src/schema/type-mapping.js';
import { batchOf, days, fields, micros } from '../helpers/iceberg-fixtures.js';

class MemoryIO implements FileIO {
  files = new Map<string, Uint8Array>();
  async write(uri: string, bytes: Uint8Array): Promise<void> {
    if (this.files.has(uri)) throw new Error(`overwrite ${uri}`);
    this.files.set(uri, bytes);
  }
  async read(uri: string): Promise<Uint8Array> {
    return this.files.get(uri)!;
  }
  async delete(uri: string): Promise<void> {
    this.files.delete(uri);
  }
  async list(): Promise<never[]> {
    return [];
  }
}

const cols = fields({ ts: 'TIMESTAMP(3)', platform: 'STRING', n: 'INT' });
const { schema } = buildSchema(cols);

describe('DataFileWriter', () => {
  it('writes one file per partition value, with plain descriptors keyed by field id', async () => {
    const spec = buildPartitionSpec(schema, [
      { source: 'ts', transform: { kind: 'day' }, text: 'day(ts)' },
      { source: 'platform', transform: { kind: 'identity' }, text: 'platform' },
    ]);
    const io = new MemoryIO();
    const w = new DataFileWriter({ location: 'file:///t', schema, spec, properties: {}, inputSchema: arrowSchemaOf(cols), io, writerId: 'w1' });
    const rows = [
      { ts: micros('2024-01-01T01:00:00Z'), platform: 'ios', n: 1 },
      { ts: micros('2024-01-02T01:00:00Z'), platform: 'ios', n: 2 },
      { ts: micros('2024-01-01T05:00:00Z'), platform: null, n: 3 },
      { ts: micros('2024-01-01T09:00:00Z'), platform: 'ios', n: 4 },
    ];
    await w.write(batchOf(cols, rows.slice(0, 2)));
    await w.write(batchOf(cols, rows.slice(2)));
    const files = (await w.close()).sort((a, b) => a.filePath.localeCompare(b.filePath));
    expect(files.map((f) => [f.partition, f.recordCount])).toEqual([
      [[days('2024-01-01'), 'ios'], 2],
      [[days('2024-01-01'), null], 1],
      [[days('2024-01-02'), 'ios'], 1],
    ]);
    expect(files[0]!.filePath).toMatch(/^file:\/\/\/t\/data\/ts_day=2024-01-01\/platform=ios\/\d{5}-w1\.parquet$/);
    expect(structuredClone(files)).toEqual(files);
    for (const f of files) {
      expect(Object.keys(f.columnSizes).map(Number).sort()).toEqual([1, 2, 3]);
      expect(f.fileSizeInBytes).toBe(io.files.get(f.filePath)!.length);
    }
    const n = new DataView(files[0]!.upperBounds[3]!.buffer, files[0]!.upperBounds[3]!.byteOffset).getInt32(0, true);
    expect(n).toBe(4);
    expect(await w.close()).toEqual([]);
  });

  it('refuses a timestamp or date outside years 0000–9999 with an error naming table, column and value, never a RangeError', async () => {
    // Such a value used to reach the day() partition transform, whose Date threw "Invalid time
    // value" on every retry of the same rows.
    const spec = buildPartitionSpec(schema, [{ source: 'ts', transform: { kind: 'day' }, text: 'day(ts)' }]);
    const w = new DataFileWriter({ location: 'file:///t', schema, spec, properties: {}, inputSchema: arrowSchemaOf(cols), io: new MemoryIO(), writerId: 'w1', tableName: 'analytics.events' });
    const err = await w.write(batchOf(cols, [{ ts: micros('2024-01-01T00:00:00Z'), platform: 'a', n: 1 }, { ts: 8773779340800000000n, platform: 'b', n: 2 }])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamError);
    expect(err).not.toBeInstanceOf(RangeError);
    expect((err as StreamError).code).toBe('EXPRESSION_FAILED');
    expect((err as StreamError).retryable).toBe(false);
    expect((err as StreamError).message).toBe(
      'table analytics.events column ts: 280000-01-01 00:00:00.000000 (8773779340800000000 µs since 1970-01-01) is outside the TIMESTAMP range 0000-01-01 00:00:00 to 9999-12-31 23:59:59.999999; such a record should have been a dead letter before the sink',
    );
    const dates = fields({ d: 'DATE' });
    const dw = new DataFileWriter({ location: 'file:///d', schema: buildSchema(dates).schema, spec: { 'spec-id': 0, fields: [] }, properties: {}, inputSchema: arrowSchemaOf(dates), io: new MemoryIO() });
    await expect(dw.write(batchOf(dates, [{ d: -719529 }]))).rejects.toThrow(/^table file:\/\/\/d column d: -0001-12-31 \(day -719529\) is outside the DATE range/);
    // Just past the end and just before the start, where the high word alone cannot tell.
    for (const ts of [253402300800000000n, -62167219200000001n]) {
      const edge = new DataFileWriter({ location: 'file:///e', schema, spec, properties: {}, inputSchema: arrowSchemaOf(cols), io: new MemoryIO() });
      await expect(edge.write(batchOf(cols, [{ ts, platform: 'a', n: 1 }]))).rejects.toThrow(/is outside the TIMESTAMP range/);
    }
    // The ends of the range itself are written.
    const ok = new DataFileWriter({ location: 'file:///t', schema, spec, properties: {}, inputSchema: arrowSchemaOf(cols), io: new MemoryIO(), writerId: 'w2' });
    await ok.write(batchOf(cols, [{ ts: 253402300799999999n, platform: 'a', n: 1 }, { ts: -62167219200000000n, platform: 'b', n: 2 }]));
    const files = await ok.close();
    expect(files.map((f) => f.partition[0]).sort()).toEqual([-719528, 2932896]);
    expect(files.some((f) => f.filePath.includes('/ts_day=9999-12-31/'))).toBe(true);
  });

  it('writes rows prepared where they were made as it writes the rows themselves: the same files, byte for byte, and the same descriptors', async () => {
    const spec = buildPartitionSpec(schema, [{ source: 'platform', transform: { kind: 'identity' }, text: 'platform' }]);
    const target = { tableName: 'analytics.events', schema, spec };
    const platforms = ['ios', 'android', null, 'web'];
    const input = Array.from({ length: 5 }, (_, b) =>
      batchOf(
        cols,
        Array.from({ length: 50 + b * 7 }, (_, i) => ({ ts: micros('2024-01-01T00:00:00Z') + BigInt((b * 1000 + i) * 1_000_000), platform: platforms[(i * 7 + b) % 4]!, n: i % 9 === 0 ? null : b * 1000 - i })),
      ),
    );
    const direct = new MemoryIO();
    const w = new DataFileWriter({ location: 'file:///t', schema, spec, properties: {}, inputSchema: arrowSchemaOf(cols), io: direct, writerId: 'w' });
    for (const b of input) await w.write(b);
    const expected = (await w.close()).sort((x, y) => x.filePath.localeCompare(y.filePath));

    const prepared = new MemoryIO();
    const rows = new TableRows(target);
    const pw = new DataFileWriter({ location: 'file:///t', schema, spec, properties: {}, io: prepared, writerId: 'w' });
    for (const b of input) {
      // As it crosses from the transform worker to the sink: the stream moved, the parts cloned.
      const p = rows.prepare(b)!;
      expect(p.parts.map((x) => x.values[0]).sort()).toEqual([...new Set(b.toArray().map((r) => r.platform as string | null))].sort());
      await pw.writePrepared(p.ipc, structuredClone(p.parts));
      releaseBytes(p.ipc);
    }
    const got = (await pw.close()).sort((x, y) => x.filePath.localeCompare(y.filePath));
    expect(got).toEqual(expected);
    expect(got).toHaveLength(4);
    for (const f of got) expect(Buffer.from(prepared.files.get(f.filePath)!).equals(Buffer.from(direct.files.get(f.filePath)!))).toBe(true);
    // Field ids made it into the Parquet schema from the prepared stream's Arrow schema.
    expect(Object.keys(got[0]!.columnSizes).map(Number).sort()).toEqual([1, 2, 3]);
  });

  it('refuses prepared rows whose stream does not hold one batch per part, and prepares nothing for no rows', async () => {
    const spec = buildPartitionSpec(schema, []);
    const rows = new TableRows({ tableName: 'analytics.events', schema, spec });
    expect(rows.prepare(batchOf(cols, []))).toBeNull();
    const p = rows.prepare(batchOf(cols, [{ ts: micros('2024-01-01T00:00:00Z'), platform: 'a', n: 1 }]))!;
    const w = new DataFileWriter({ location: 'file:///t', schema, spec, properties: {}, io: new MemoryIO(), tableName: 'analytics.events' });
    await expect(w.writePrepared(p.ipc, [...p.parts, ...p.parts])).rejects.toThrow('prepared rows for analytics.events: 1 record batches for 2 parts');
    // Preparing checks the ranges as writing does.
    expect(() => rows.prepare(batchOf(cols, [{ ts: 8773779340800000000n, platform: 'b', n: 2 }]))).toThrow(/^table analytics\.events column ts: .* is outside the TIMESTAMP range/);
  });

  it('writes top-level timestamps without a dictionary, and strings with one', async () => {
    const io = new MemoryIO();
    const w = new DataFileWriter({ location: 'file:///t', schema, spec: buildPartitionSpec(schema, []), properties: {}, inputSchema: arrowSchemaOf(cols), io, writerId: 'w' });
    await w.write(batchOf(cols, Array.from({ length: 300 }, (_, i) => ({ ts: micros('2024-01-01T00:00:00Z') + BigInt(i), platform: ['ios', 'web'][i % 2]!, n: i % 3 }))));
    const [file] = await w.close();
    const bytes = io.files.get(file!.filePath)!;
    const footer = parquetMetadata(bytes.slice().buffer as ArrayBuffer);
    const encodings = new Map(footer.row_groups[0]!.columns.map((c) => [c.meta_data!.path_in_schema.join('.'), c.meta_data!.encodings as string[]]));
    expect(encodings.get('ts')!.some((e) => e.includes('DICTIONARY'))).toBe(false);
    expect(encodings.get('platform')!.some((e) => e.includes('DICTIONARY'))).toBe(true);
    expect(encodings.get('n')!.some((e) => e.includes('DICTIONARY'))).toBe(true);
    expect(arrow.tableFromIPC(pq.readParquet(bytes).intoIPCStream()).getChild('ts')!.toArray()).toHaveLength(300);
  });

  it('writes a column plain in the next files once the encoder gave its dictionary up, and tries it again later', async () => {
    const scols = fields({ s: 'STRING', platform: 'STRING' });
    const { schema: sschema } = buildSchema(scols);
    const io = new MemoryIO();
    const w = new DataFileWriter({ location: 'file:///t', schema: sschema, spec: buildPartitionSpec(sschema, []), properties: {}, inputSchema: arrowSchemaOf(scols), io, writerId: 'w' });
    /** Page encodings of each column of a file's first row group, by column name. */
    const pages = (filePath: string) => {
      const bytes = io.files.get(filePath)!;
      const footer = parquetMetadata(bytes.slice().buffer as ArrayBuffer);
      return new Map(footer.row_groups[0]!.columns.map((c) => [c.meta_data!.path_in_schema.join('.'), (c.meta_data!.encoding_stats ?? []).map((e) => `${e.page_type}:${e.encoding}`)]));
    };
    const fileOf = async (rows: Array<Record<string, unknown>>) => {
      await w.write(batchOf(scols, rows));
      const [file] = await w.close();
      return file!.filePath;
    };
    // 120 k distinct 24-byte values: ~3 MB of dictionary, past parquet-rs' 1 MB page limit.
    const distinct = (n: number, from: number) => Array.from({ length: n }, (_, i) => ({ s: `session-${String(from + i).padStart(16, '0')}`, platform: ['ios', 'web'][i % 2]! }));
    const first = pages(await fileOf(distinct(120_000, 0)));
    expect(first.get('s')).toEqual(expect.arrayContaining(['DICTIONARY_PAGE:PLAIN', 'DATA_PAGE:RLE_DICTIONARY', 'DATA_PAGE:PLAIN']));
    expect(first.get('platform')!.every((e) => e !== 'DATA_PAGE:PLAIN')).toBe(true);

    const second = pages(await fileOf(distinct(300, 0)));
    expect(second.get('s')).toEqual(['DATA_PAGE:PLAIN']);
    expect(second.get('platform')).toEqual(expect.arrayContaining(['DICTIONARY_PAGE:PLAIN', 'DATA_PAGE:RLE_DICTIONARY']));
    for (let i = 2; i <= PLAIN_AFTER_FALLBACK_FILES; i++) expect(pages(await fileOf(distinct(1, i))).get('s')).toEqual(['DATA_PAGE:PLAIN']);
    // Its plain files written, the writer tries the dictionary again: small enough now, it is kept.
    const retried = pages(await fileOf(distinct(300, 0)));
    expect(retried.get('s')).toEqual(expect.arrayContaining(['DICTIONARY_PAGE:PLAIN', 'DATA_PAGE:RLE_DICTIONARY']));
    expect(retried.get('s')).not.toContain('DATA_PAGE:PLAIN');
  });

  it('finds a given-up dictionary from page encoding statistics, top-level columns only', () => {
    const chunk = (path: string[], stats?: Array<[string, string]>) => ({ meta_data: { path_in_schema: path, ...(stats ? { encoding_stats: stats.map(([page_type, encoding]) => ({ page_type, encoding })) } : {}) } });
    const given = dictionariesGivenUp([
      {
        columns: [
          chunk(['a'], [['DICTIONARY_PAGE', 'PLAIN'], ['DATA_PAGE', 'RLE_DICTIONARY'], ['DATA_PAGE', 'PLAIN']]),
          chunk(['b'], [['DICTIONARY_PAGE', 'PLAIN'], ['DATA_PAGE', 'RLE_DICTIONARY']]),
          chunk(['c'], [['DATA_PAGE', 'PLAIN']]),
          chunk(['d', 'list', 'element'], [['DICTIONARY_PAGE', 'PLAIN'], ['DATA_PAGE', 'RLE_DICTIONARY'], ['DATA_PAGE', 'PLAIN']]),
          chunk(['e']),
        ],
      },
      { columns: [chunk(['b'], [['DICTIONARY_PAGE', 'PLAIN'], ['DATA_PAGE_V2', 'PLAIN_DICTIONARY'], ['DATA_PAGE_V2', 'DELTA_BYTE_ARRAY']])] },
    ]);
    expect([...given].sort()).toEqual(['a', 'b']);
  });

  it('names unsupported codecs in its error', () => {
    expect(parseCodec(undefined)).toBe('snappy');
    expect(parseCodec('ZSTD')).toBe('zstd');
    expect(() => parseCodec('lzo')).toThrow(/lzo is not one of/);
  });
});

describe('DataFileWriter encoding, batch by batch', () => {
  const wide = fields({ id: 'BIGINT', session: 'STRING', tags: 'ARRAY<STRING>', n: 'INT' });
  const wideSchema = buildSchema(wide).schema;
  const unpartitioned = buildPartitionSpec(wideSchema, []);
  const batches = (count: number, rows: number, from = 0): arrow.RecordBatch[] =>
    Array.from({ length: count }, (_, b) =>
      batchOf(
        wide,
        Array.from({ length: rows }, (_, i) => {
          const id = from + b * rows + i;
          return { id: BigInt(id), session: `session-${(id * 2654435761) % 1e9}-${'x'.repeat(id % 40)}`, tags: id % 3 === 0 ? null : [`t${id % 7}`, `u${id % 11}`], n: id % 5 === 0 ? null : id };
        }),
      ),
    );
  const arrowBytes = (bs: readonly arrow.RecordBatch[]): number => arrow.tableToIPC(new arrow.Table(bs), 'stream').length;

  it('writes the file that encoding the whole buffer at once wrote, byte for byte, over several row groups', async () => {
    const io = new MemoryIO();
    const properties = { 'write.parquet.row-group-limit': '3000' };
    const w = new DataFileWriter({ location: 'file:///t', schema: wideSchema, spec: unpartitioned, properties, inputSchema: arrowSchemaOf(wide), io, writerId: 'w' });
    const input = batches(12, 1000);
    for (const b of input) await w.write(b);
    const [file] = await w.close();
    const bytes = io.files.get(file!.filePath)!;
    const props = new pq.WriterPropertiesBuilder().setCompression(pq.Compression.SNAPPY).setMaxRowGroupSize(3000).setCreatedBy('streamberg').build();
    const whole = pq.writeParquet(pq.Table.fromIPCStream(arrow.tableToIPC(new arrow.Table(w.targetSchema, input.map((b) => new arrow.RecordBatch(w.targetSchema, b.data))), 'stream')), props);
    expect(Buffer.from(bytes).equals(Buffer.from(whole))).toBe(true);
    expect(arrow.tableFromIPC(pq.readParquet(bytes).intoIPCStream()).numRows).toBe(12_000);
    expect(file!.splitOffsets).toHaveLength(4);
  });

  it('keeps no row it was given: the bytes under every batch can be freed after write, and the file still holds them all', async () => {
    const io = new MemoryIO();
    const w = new DataFileWriter({ location: 'file:///t', schema: wideSchema, spec: unpartitioned, properties: { 'write.parquet.row-group-limit': '2500' }, inputSchema: arrowSchemaOf(wide), io, writerId: 'w' });
    const input = batches(8, 1000);
    const expected = input.flatMap((b) => b.toArray().map((r) => ({ ...r.toJSON(), tags: r.tags === null ? null : [...r.tags] })));
    for (const b of input) {
      // The batch as the sink gets it: views into one IPC message, freed once written.
      const ipc = arrow.tableToIPC(new arrow.Table([b]), 'stream');
      for (const view of arrow.tableFromIPC(ipc).batches) await w.write(view);
      releaseBytes(ipc);
      expect(ipc.byteLength).toBe(0);
    }
    const [file] = await w.close();
    const back = arrow.tableFromIPC(pq.readParquet(io.files.get(file!.filePath)!).intoIPCStream());
    expect(back.toArray().map((r) => ({ ...r.toJSON(), tags: r.tags === null ? null : [...r.tags] }))).toEqual(expected);
    expect(file!.recordCount).toBe(8000);
    expect(file!.splitOffsets).toHaveLength(4);
    // Bounds and counts were taken as the rows went by, not from rows kept for the end.
    expect(file!.valueCounts[1]).toBe(8000);
    expect(new DataView(file!.upperBounds[1]!.buffer, file!.upperBounds[1]!.byteOffset).getBigInt64(0, true)).toBe(7999n);
  });

  it('sends each finished row group to storage before the file is closed, the same file byte for byte', async () => {
    const whole = new MemoryIO();
    const parts: Uint8Array[] = [];
    let closed = false;
    const streaming: FileIO = {
      write: (uri, b) => whole.write(uri, b),
      read: (uri) => whole.read(uri),
      delete: (uri) => whole.delete(uri),
      list: () => whole.list(),
      create: async (uri) => ({
        write: async (b) => void parts.push(b),
        close: async () => {
          closed = true;
          await whole.write(uri, Buffer.concat(parts));
        },
        abort: async () => {},
      }),
    };
    const properties = { 'write.parquet.row-group-limit': '3000' };
    const make = (io: FileIO) => new DataFileWriter({ location: 'file:///t', schema: wideSchema, spec: unpartitioned, properties, inputSchema: arrowSchemaOf(wide), io, writerId: 'w' });
    const w = make(streaming);
    const input = batches(12, 1000);
    for (const b of input) await w.write(b);
    // Three row groups of 3,000 rows are finished and gone to storage; the fourth is being built.
    expect(closed).toBe(false);
    expect(parts.length).toBeGreaterThanOrEqual(3);
    const [file] = await w.close();
    expect(closed).toBe(true);
    const memory = new MemoryIO();
    const buffered = make(memory);
    for (const b of input) await buffered.write(b);
    const [same] = await buffered.close();
    expect(Buffer.from(whole.files.get(file!.filePath)!).equals(Buffer.from(memory.files.get(same!.filePath)!))).toBe(true);
    expect({ ...file, filePath: '' }).toEqual({ ...same, filePath: '' });
  });

  it('streams at most MAX_STREAMED_FILES files at once; with more partition values open, the rest are written whole', async () => {
    const whole = new MemoryIO();
    let handles = 0;
    let most = 0;
    const streaming: FileIO = {
      write: (uri, b) => whole.write(uri, b),
      read: (uri) => whole.read(uri),
      delete: (uri) => whole.delete(uri),
      list: () => whole.list(),
      create: async (uri) => {
        most = Math.max(most, ++handles);
        const parts: Uint8Array[] = [];
        return {
          write: async (b) => void parts.push(b),
          close: async () => {
            handles--;
            await whole.write(uri, Buffer.concat(parts));
          },
          abort: async () => void handles--,
        };
      },
    };
    const cols = fields({ k: 'INT', v: 'STRING' });
    const kvSchema = buildSchema(cols).schema;
    const spec = buildPartitionSpec(kvSchema, [{ source: 'k', transform: { kind: 'identity' }, text: 'k' }]);
    const w = new DataFileWriter({ location: 'file:///t', schema: kvSchema, spec, properties: {}, inputSchema: arrowSchemaOf(cols), io: streaming, writerId: 'w' });
    const keys = MAX_STREAMED_FILES + 36;
    for (let round = 0; round < 2; round++) await w.write(batchOf(cols, Array.from({ length: keys }, (_, k) => ({ k, v: `r${round}-${k}` }))));
    const files = await w.close();
    expect(most).toBe(MAX_STREAMED_FILES);
    expect(handles).toBe(0);
    expect(files).toHaveLength(keys);
    for (const f of files) {
      const back = arrow.tableFromIPC(pq.readParquet(whole.files.get(f.filePath)!).intoIPCStream());
      const k = f.partition[0] as number;
      expect(back.toArray().map((r) => r.v)).toEqual([`r0-${k}`, `r1-${k}`]);
      expect(f.fileSizeInBytes).toBe(whole.files.get(f.filePath)!.length);
    }
  });

  it('counts what its open files hold as their encoded size once one file has taught it the ratio', async () => {
    const w = new DataFileWriter({ location: 'file:///t', schema: wideSchema, spec: unpartitioned, properties: {}, inputSchema: arrowSchemaOf(wide), io: new MemoryIO() });
    const input = batches(4, 2000);
    for (const b of input.slice(0, 2)) await w.write(b);
    // Before any file: every Arrow byte counts (an overestimate, so a budget is never overrun).
    expect(w.bufferedBytes).toBe(input.slice(0, 2).reduce((n, b) => n + dataBytes(b.data), 0));
    const [first] = await w.close();
    expect(w.bufferedBytes).toBe(0);
    for (const b of input.slice(2)) await w.write(b);
    const arrowIn = input.slice(2).reduce((n, b) => n + dataBytes(b.data), 0);
    expect(w.bufferedBytes).toBeLessThan(arrowIn);
    expect(w.bufferedBytes).toBeCloseTo((arrowIn * first!.fileSizeInBytes) / input.slice(0, 2).reduce((n, b) => n + dataBytes(b.data), 0), 0);
    await w.close();
  });

  it('holds a row group in WebAssembly memory while encoding, not a copy of every row', async () => {
    const make = () => new DataFileWriter({ location: 'file:///t', schema: wideSchema, spec: unpartitioned, properties: { 'write.parquet.row-group-limit': '16384' }, inputSchema: arrowSchemaOf(wide), io: new MemoryIO() });
    // A first file grows the heap to its working size; WebAssembly memory never shrinks.
    const warm = make();
    for (const b of batches(4, 4096)) await warm.write(b);
    await warm.close();
    const before = pq.wasmMemory().buffer.byteLength;
    const w = make();
    const input = batches(60, 4096, 1e6);
    for (const b of input) await w.write(b);
    await w.close();
    const grown = pq.wasmMemory().buffer.byteLength - before;
    // Encoding the whole buffer at once grew it by about twice the rows' Arrow bytes (their IPC
    // copy, then the arrays read from it).
    expect(grown).toBeLessThan(arrowBytes(input) / 4);
  });
});

function dataBytes(data: arrow.Data): number {
  let n = 0;
  for (const b of [data.valueOffsets, data.values, data.nullBitmap, data.typeIds] as unknown[]) if (b) n += (b as ArrayBufferView).byteLength;
  for (const c of data.children) n += dataBytes(c);
  return n;
}
