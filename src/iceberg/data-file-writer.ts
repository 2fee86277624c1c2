// Arrow record batches → Parquet data files of one table, split by partition and rolled at the
// target file size, each described by a DataFile (path, partition tuple, counts, sizes,
// bounds) ready to go into a manifest. Rows are encoded as they arrive (one open file per
// partition value) and not kept, and each file's bytes go to storage as the encoder makes them
// (FileIO.create): what a writer holds is the row group being built, in WebAssembly memory, and
// with a FileIO that only writes whole files, the file so far. Runs wherever the sink runs (a
// worker thread); the DataFile descriptors it returns are plain structured-clone-able objects
// for the main thread.
//
// Hazard: files written here are invisible until a snapshot commits them. If the commit never
// happens (crash, failed epoch) they are orphans: never hand them to a later commit, since the
// rows they hold will be produced again from the last committed offsets.

import * as arrow from 'apache-arrow';
import { randomUUID } from 'node:crypto';
import * as pq from 'parquet-wasm/node';
import { parquetMetadata } from 'hyparquet';
import { StreamError } from '../errors.js';
import { concatParts, openFileWriter, wholeFileWriter, type FileIO, type FileWriter } from './file-io.js';
import type { PartitionSpec, PartitionValue } from './partition.js';
import { partitionPath } from './partition.js';
import { partitionKey } from './partition-split.js';
import type { IcebergSchema } from './schema.js';
import type { LoadedTable } from './catalog.js';
import { currentSchema, defaultSpec } from './metadata.js';
import { MetricsAccumulator } from './stats.js';
import { ParquetStreamEncoder } from './parquet-stream.js';
import { TableRows, arrowByteLength, type PreparedPart } from './table-rows.js';

/** One data file as the manifest needs it. Numbers are safe integers; bounds are Appendix D bytes. */
export interface DataFile {
  content: 'data';
  filePath: string;
  fileFormat: 'PARQUET';
  specId: number;
  /** One value per field of the spec, in spec order. */
  partition: PartitionValue[];
  recordCount: number;
  fileSizeInBytes: number;
  columnSizes: Record<number, number>;
  valueCounts: Record<number, number>;
  nullValueCounts: Record<number, number>;
  nanValueCounts: Record<number, number>;
  lowerBounds: Record<number, Uint8Array>;
  upperBounds: Record<number, Uint8Array>;
  splitOffsets: number[];
}

export type ParquetCodec = 'snappy' | 'zstd' | 'gzip' | 'lz4' | 'brotli' | 'uncompressed';

export interface DataFileWriterOptions {
  /** Table location, e.g. `file:///…/db/t` or `s3://bucket/prefix`. Files go under `<location>/data/`. */
  location: string;
  schema: IcebergSchema;
  spec: PartitionSpec;
  /** Table properties: `write.parquet.compression-codec`, `write.target-file-size-bytes`, `write.parquet.row-group-limit`. */
  properties: Record<string, string>;
  /**
   * Arrow schema of incoming batches (names and types as the transform workers produce); absent
   * for a writer fed prepared rows only (writePrepared), which carry the bound schema themselves.
   */
  inputSchema?: arrow.Schema | undefined;
  io: FileIO;
  /** Distinguishes files of concurrent writers; defaults to a random UUID. */
  writerId?: string;
  /** `namespace.table`, for errors; defaults to the location. */
  tableName?: string;
}

const CODECS: Record<ParquetCodec, pq.Compression> = {
  snappy: pq.Compression.SNAPPY,
  zstd: pq.Compression.ZSTD,
  gzip: pq.Compression.GZIP,
  lz4: pq.Compression.LZ4_RAW,
  brotli: pq.Compression.BROTLI,
  uncompressed: pq.Compression.UNCOMPRESSED,
};

export function parseCodec(value: string | undefined): ParquetCodec {
  const v = (value ?? 'snappy').toLowerCase();
  if (v === 'none') return 'uncompressed';
  if (v in CODECS) return v as ParquetCodec;
  throw new StreamError('CONFIG_INVALID', `write.parquet.compression-codec: ${value} is not one of ${Object.keys(CODECS).join(', ')}`);
}

/** The file being written for one partition value. */
interface OpenFile {
  values: PartitionValue[];
  path: string;
  file: FileWriter;
  /** Its bytes go to storage as they are made (else they are kept until the file is closed). */
  streamed: boolean;
  /** The file's last bytes, where its footer will be. */
  tail: Tail;
  encoder: ParquetStreamEncoder;
  metrics: MetricsAccumulator;
  rows: number;
  /** Arrow bytes of the rows encoded into it. */
  arrowBytes: number;
}

const DEFAULT_TARGET_FILE_SIZE = 512 * 1024 * 1024;

/**
 * Rows per Parquet row group unless `write.parquet.row-group-limit` says otherwise. The row group
 * being built is what an open file holds in WebAssembly memory (about its rows' Arrow size, and
 * that memory never shrinks): 256 k rows of W1 are ~4 MB of Parquet and ~20 MB while built, where
 * parquet-rs' own default of 1 M rows held ~70 MB for the same encoding CPU.
 */
export const DEFAULT_ROW_GROUP_ROWS = 262_144;

/** Open files of one writer that stream to storage at once; the others are written whole. */
export const MAX_STREAMED_FILES = 64;

/**
 * Files a writer encodes a column without a dictionary after the encoder gave that column's
 * dictionary up in a file it wrote; the next file tries the dictionary again, in case the data
 * changed. parquet-rs builds a dictionary until it outgrows its page limit (1 MB), then writes the
 * rest of the column chunk plain: for a column of nearly distinct values (ids, session keys) that
 * dictionary is built in every row group and thrown away. In W1 the `session_id` column gives its
 * dictionary up after 4 of 12–13 pages in each row group; with it plain in every file, the sink
 * thread spent 0.77 instead of 0.86 CPU-s per million records (benchmarks/README.md,
 * "Dictionaries given up").
 */
export const PLAIN_AFTER_FALLBACK_FILES = 16;

export class DataFileWriter {
  private readonly codec: ParquetCodec;
  private readonly targetFileSize: number;
  private readonly rowGroupLimit: number;
  private readonly writerId: string;
  private readonly open = new Map<string, OpenFile>();
  private readonly written: DataFile[] = [];
  private readonly tableRows: TableRows;
  private fileCount = 0;
  /** Parquet bytes per Arrow byte, learnt from the files written so far (1 until then: rolls early, never late). */
  private ratio = 1;
  /** Top-level columns written without a dictionary, to the number of files left before it is tried again. */
  private readonly plainColumns = new Map<string, number>();

  constructor(private readonly options: DataFileWriterOptions) {
    this.codec = parseCodec(options.properties['write.parquet.compression-codec']);
    this.targetFileSize = Number(options.properties['write.target-file-size-bytes'] ?? DEFAULT_TARGET_FILE_SIZE);
    this.rowGroupLimit = Number(options.properties['write.parquet.row-group-limit'] ?? DEFAULT_ROW_GROUP_ROWS);
    this.writerId = options.writerId ?? randomUUID();
    this.tableRows = new TableRows({ tableName: options.tableName ?? options.location, schema: options.schema, spec: options.spec });
    // Bound now, so that input that does not fit the table fails here rather than at its first rows.
    if (options.inputSchema) this.tableRows.targetSchema(options.inputSchema);
  }

  /** The table's Arrow schema with field ids, as bound from `inputSchema`. */
  get targetSchema(): arrow.Schema {
    if (!this.options.inputSchema) throw new Error('a writer of prepared rows has no input schema');
    return this.tableRows.targetSchema(this.options.inputSchema);
  }

  /**
   * Encodes a batch, split by partition, into each partition's open file; writes the files that
   * reached the target size. Throws EXPRESSION_FAILED for a date out of range (TableRows.split).
   */
  async write(batch: arrow.RecordBatch): Promise<void> {
    if (batch.numRows === 0) return;
    for (const part of this.tableRows.split(batch)) {
      const f = await this.fileFor(part.key, part.values);
      f.metrics.add(part.batch);
      await this.encode(f, () => f.encoder.push(part.batch));
      await this.account(part.key, f, part.batch.numRows, arrowByteLength(part.batch.data));
    }
  }

  /**
   * Encodes rows a transform worker prepared for this table (TableRows.prepare): each record
   * batch of `ipc` goes to its part's file as it is, and the part's metrics are merged. The
   * rows must have been prepared for this writer's schema and spec.
   */
  async writePrepared(ipc: Uint8Array, parts: readonly PreparedPart[]): Promise<void> {
    if (parts.length === 0) return;
    const table = pq.Table.fromIPCStream(ipc);
    try {
      if (table.numBatches !== parts.length) {
        throw new StreamError('SCHEMA_MISMATCH', `prepared rows for ${this.options.tableName ?? this.options.location}: ${table.numBatches} record batches for ${parts.length} parts`);
      }
      for (let i = 0; i < parts.length; i++) {
        const part = parts[i]!;
        const key = partitionKey(part.values);
        const f = await this.fileFor(key, part.values);
        f.metrics.merge(part.metrics);
        const batch = table.recordBatch(i)!;
        await this.encode(f, () => f.encoder.pushEncoded(batch));
        await this.account(key, f, part.rows, part.arrowBytes);
      }
    } finally {
      table.free();
    }
  }

  private async fileFor(key: string, values: PartitionValue[]): Promise<OpenFile> {
    let f = this.open.get(key);
    if (!f) this.open.set(key, (f = await this.openFile(values)));
    return f;
  }

  private async encode(f: OpenFile, push: () => Promise<void>): Promise<void> {
    try {
      await push();
    } catch (err) {
      throw encodingFailed(err);
    }
  }

  /** Counts rows encoded into a file, and writes the file if it reached the target size. */
  private async account(key: string, f: OpenFile, rows: number, arrowBytes: number): Promise<void> {
    f.rows += rows;
    f.arrowBytes += arrowBytes;
    if (f.arrowBytes * this.ratio >= this.targetFileSize) {
      this.open.delete(key);
      await this.flush(f);
    }
  }

  /**
   * Bytes the open files hold in memory, estimated by their encoded size (the ratio learnt from
   * earlier files, 1 before the first: an overestimate) less what went to storage already: the
   * row groups being built, and all of a file whose FileIO writes whole files only.
   */
  get bufferedBytes(): number {
    let n = 0;
    for (const f of this.open.values()) n += Math.max(0, f.arrowBytes * this.ratio - (f.streamed ? f.encoder.outputBytes : 0));
    return n;
  }

  private async openFile(values: PartitionValue[]): Promise<OpenFile> {
    const { spec, location, io } = this.options;
    const dir = spec.fields.length > 0 ? `${location}/data/${partitionPath(spec, values)}` : `${location}/data`;
    const path = `${dir}/${String(this.fileCount++).padStart(5, '0')}-${this.writerId}.parquet`;
    let builder = new pq.WriterPropertiesBuilder().setCompression(CODECS[this.codec]).setMaxRowGroupSize(this.rowGroupLimit).setCreatedBy('streamberg');
    // Event timestamps are nearly all distinct: a dictionary of them only grows until the
    // encoder gives it up, in every row group again (the dearest part of encoding W1 in row
    // groups of 128 k rows). Top-level timestamp columns are written plain.
    for (const f of this.options.schema.fields) if (f.type === 'timestamp' || f.type === 'timestamptz') builder = builder.setColumnDictionaryEnabled(f.name, false);
    for (const [name, files] of this.plainColumns) {
      builder = builder.setColumnDictionaryEnabled(name, false);
      if (files <= 1) this.plainColumns.delete(name);
      else this.plainColumns.set(name, files - 1);
    }
    const props = builder.build();
    // A file streamed to disk holds a file handle until it is closed; an epoch with many partition
    // values open at once would run out of them, so past MAX_STREAMED_FILES the rest are kept
    // whole in memory and written at close, as a FileIO without `create` does.
    const streamed = io.create !== undefined && this.open.size < MAX_STREAMED_FILES;
    const file = streamed ? await openFileWriter(io, path) : wholeFileWriter(io, path);
    const tail = new Tail();
    const encoder = new ParquetStreamEncoder(props, (bytes) => {
      tail.add(bytes);
      return file.write(bytes);
    });
    return { values, path, file, streamed, tail, encoder, metrics: new MetricsAccumulator(this.options.schema), rows: 0, arrowBytes: 0 };
  }

  /**
   * Writes every buffered partition and returns the files written since the last close (rolled
   * ones included); the writer can then take the next epoch's batches. If this throws, some
   * buffered rows may be in no file: drop the writer and replay the epoch from its offsets.
   */
  async close(): Promise<DataFile[]> {
    const files = [...this.open.values()];
    this.open.clear();
    for (const f of files) await this.flush(f);
    return this.written.splice(0);
  }

  /** Drops the open files unwritten (after a failure: their rows will be produced again). */
  discard(): void {
    for (const f of this.open.values()) {
      f.encoder.discard();
      void f.file.abort();
    }
    this.open.clear();
  }

  private async flush(p: OpenFile): Promise<void> {
    const { spec } = this.options;
    let length: number;
    try {
      length = await p.encoder.finish();
      await p.file.close();
    } catch (err) {
      await p.file.abort();
      throw encodingFailed(err);
    }
    const filePath = p.path;
    this.ratio = Math.max(0.01, length / Math.max(1, p.arrowBytes));

    // Only the footer is parsed: hyparquet locates it from the end of the buffer it is given.
    let tail = p.tail.bytes();
    const footerLength = new DataView(tail.buffer, tail.byteOffset + tail.length - 8, 4).getUint32(0, true);
    // A footer larger than the tail kept (thousands of columns or row groups): read the file.
    if (footerLength + 8 > tail.length) tail = await this.options.io.read(filePath);
    const footer = parquetMetadata(tail.slice(tail.length - footerLength - 8).buffer as ArrayBuffer);
    const columnSizes: Record<number, number> = {};
    const ids = leafFieldIds(footer.schema as FooterSchemaElement[]);
    for (const rg of footer.row_groups) {
      rg.columns.forEach((c, i) => {
        const id = ids[i];
        if (id === undefined || !c.meta_data) return;
        columnSizes[id] = (columnSizes[id] ?? 0) + Number(c.meta_data.total_compressed_size);
      });
    }
    for (const name of dictionariesGivenUp(footer.row_groups)) this.plainColumns.set(name, PLAIN_AFTER_FALLBACK_FILES);
    const splitOffsets = footer.row_groups.map((rg) => Number(rg.columns[0]?.meta_data?.dictionary_page_offset ?? rg.columns[0]?.meta_data?.data_page_offset ?? 4));
    const metrics = p.metrics.result();
    this.written.push({
      content: 'data',
      filePath,
      fileFormat: 'PARQUET',
      specId: spec['spec-id'],
      partition: p.values,
      recordCount: p.rows,
      fileSizeInBytes: length,
      columnSizes,
      ...metrics,
      splitOffsets,
    });
  }
}

interface FooterColumnChunk {
  meta_data?: {
    path_in_schema: string[];
    encoding_stats?: Array<{ page_type: string; encoding: string }>;
  };
}

/**
 * Top-level columns whose dictionary the encoder gave up in some row group: data pages both
 * dictionary-encoded and not, by the column chunk's page encoding statistics (a writer that does
 * not record them gives no answer). Nested columns are left alone: a column's dictionary setting
 * is addressed by its top-level name only.
 */
export function dictionariesGivenUp(rowGroups: ReadonlyArray<{ columns: readonly FooterColumnChunk[] }>): Set<string> {
  const out = new Set<string>();
  for (const rg of rowGroups) {
    for (const c of rg.columns) {
      const m = c.meta_data;
      if (!m || m.path_in_schema.length !== 1 || !m.encoding_stats) continue;
      const data = m.encoding_stats.filter((e) => e.page_type === 'DATA_PAGE' || e.page_type === 'DATA_PAGE_V2');
      const dictionary = (e: { encoding: string }) => e.encoding === 'RLE_DICTIONARY' || e.encoding === 'PLAIN_DICTIONARY';
      if (data.some(dictionary) && !data.every(dictionary)) out.add(m.path_in_schema[0]!);
    }
  }
  return out;
}

interface FooterSchemaElement {
  name: string;
  num_children?: number;
  field_id?: number;
}

/** Field ids of the Parquet leaf columns, in column-chunk order (depth-first over the schema tree). */
function leafFieldIds(elements: FooterSchemaElement[]): Array<number | undefined> {
  const out: Array<number | undefined> = [];
  let i = 1;
  const walk = (): void => {
    const e = elements[i++]!;
    if (!e.num_children) {
      out.push(e.field_id);
      return;
    }
    for (let c = 0; c < e.num_children; c++) walk();
  };
  const root = elements[0]!;
  for (let c = 0; c < (root.num_children ?? 0); c++) walk();
  return out;
}

/** A storage failure keeps its own code (an outage is retried); anything else is the encoder's. */
function encodingFailed(err: unknown): StreamError {
  if (err instanceof StreamError) return err;
  return new StreamError('STORAGE_FAILED', `encoding Parquet failed: ${String(err)}`, { cause: err, retryable: false });
}

/** The last TAIL_BYTES (or more) of a file being written, for its footer. */
const TAIL_BYTES = 4 * 1024 * 1024;
class Tail {
  private parts: Uint8Array[] = [];
  private length = 0;

  add(bytes: Uint8Array): void {
    // A large part (a whole row group) is not kept for its last bytes: they are copied.
    if (bytes.length > TAIL_BYTES) {
      this.parts = [bytes.slice(bytes.length - TAIL_BYTES)];
      this.length = TAIL_BYTES;
      return;
    }
    this.parts.push(bytes);
    this.length += bytes.length;
    while (this.parts.length > 1 && this.length - this.parts[0]!.length >= TAIL_BYTES) this.length -= this.parts.shift()!.length;
  }

  bytes(): Uint8Array {
    return concatParts(this.parts);
  }
}

/** A data-file writer for the table as loaded (its current schema and default spec). */
export function newDataFileWriter(
  table: LoadedTable,
  io: FileIO,
  inputSchema: arrow.Schema | undefined,
  extra: Partial<Pick<DataFileWriterOptions, 'writerId' | 'properties'>> = {},
): DataFileWriter {
  const m = table.metadata;
  return new DataFileWriter({
    location: m.location,
    schema: currentSchema(m),
    spec: defaultSpec(m),
    properties: { ...m.properties, ...extra.properties },
    inputSchema,
    io,
    tableName: `${table.ident.namespace}.${table.ident.name}`,
    ...(extra.writerId ? { writerId: extra.writerId } : {}),
  });
}
