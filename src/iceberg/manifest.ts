// Avro manifests and manifest lists (Iceberg table spec, "Manifests" and "Manifest Lists").
// Schemas are written as JSON with every `field-id`, `element-id`, `key-id` and `value-id`:
// readers resolve manifest fields by those ids, not by name.

import { StreamError } from '../errors.js';
import { decodeAvro, encodeAvro } from './avro.js';
import type { DataFile } from './data-file-writer.js';
import type { PartitionSpec, PartitionValue } from './partition.js';
import { resultType } from './partition.js';
import type { IcebergSchema } from './schema.js';
import { indexFields, parseDecimal } from './schema.js';
import { compareBytes, serializeValue } from './stats.js';

const opt = (type: unknown): unknown => ['null', type];

function intMap(name: string, fieldId: number, keyId: number, valueId: number, valueType: unknown): unknown {
  return {
    name,
    'field-id': fieldId,
    default: null,
    type: opt({
      type: 'array',
      logicalType: 'map',
      items: {
        type: 'record',
        name: `k${keyId}_v${valueId}`,
        fields: [
          { name: 'key', type: 'int', 'field-id': keyId },
          { name: 'value', type: valueType, 'field-id': valueId },
        ],
      },
    }),
  };
}

/** The Avro type of a partition value (spec: "Avro" type mapping). */
function partitionAvroType(type: string): unknown {
  switch (type) {
    case 'boolean':
    case 'int':
    case 'long':
    case 'float':
    case 'double':
    case 'string':
    case 'bytes':
      return type;
    case 'binary':
      return 'bytes';
    case 'date':
      return { type: 'int', logicalType: 'date' };
    case 'time':
      return { type: 'long', logicalType: 'time-micros' };
    case 'timestamp':
      return { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': false };
    case 'timestamptz':
      return { type: 'long', logicalType: 'timestamp-micros', 'adjust-to-utc': true };
    default: {
      const d = parseDecimal(type);
      if (d) return { type: 'fixed', name: `decimal_${d.precision}_${d.scale}`, size: decimalSize(d.precision), logicalType: 'decimal', precision: d.precision, scale: d.scale };
      throw new StreamError('METADATA_INVALID', `no Avro type for partition type ${type}`);
    }
  }
}

/** Bytes needed for a decimal of this precision (spec: "Primitive Types", decimal). */
function decimalSize(precision: number): number {
  let size = 1;
  while (2 ** (8 * size - 1) - 1 < 10 ** precision) size++;
  return size;
}

export interface PartitionType {
  fields: Array<{ id: number; name: string; type: string }>;
}

export function partitionType(schema: IcebergSchema, spec: PartitionSpec): PartitionType {
  const fields = indexFields(schema);
  return {
    fields: spec.fields.map((f) => ({ id: f['field-id'], name: f.name, type: resultType(f.transform, String(fields.get(f['source-id'])?.type)) })),
  };
}

export function manifestEntrySchema(pt: PartitionType): unknown {
  return {
    type: 'record',
    name: 'manifest_entry',
    fields: [
      { name: 'status', type: 'int', 'field-id': 0 },
      { name: 'snapshot_id', type: opt('long'), default: null, 'field-id': 1 },
      { name: 'sequence_number', type: opt('long'), default: null, 'field-id': 3 },
      { name: 'file_sequence_number', type: opt('long'), default: null, 'field-id': 4 },
      {
        name: 'data_file',
        'field-id': 2,
        type: {
          type: 'record',
          name: 'r2',
          fields: [
            { name: 'content', type: 'int', 'field-id': 134 },
            { name: 'file_path', type: 'string', 'field-id': 100 },
            { name: 'file_format', type: 'string', 'field-id': 101 },
            {
              name: 'partition',
              'field-id': 102,
              type: {
                type: 'record',
                name: 'r102',
                fields: pt.fields.map((f) => ({ name: f.name, type: opt(partitionAvroType(f.type)), default: null, 'field-id': f.id })),
              },
            },
            { name: 'record_count', type: 'long', 'field-id': 103 },
            { name: 'file_size_in_bytes', type: 'long', 'field-id': 104 },
            intMap('column_sizes', 108, 117, 118, 'long'),
            intMap('value_counts', 109, 119, 120, 'long'),
            intMap('null_value_counts', 110, 121, 122, 'long'),
            intMap('nan_value_counts', 137, 138, 139, 'long'),
            intMap('lower_bounds', 125, 126, 127, 'bytes'),
            intMap('upper_bounds', 128, 129, 130, 'bytes'),
            { name: 'key_metadata', type: opt('bytes'), default: null, 'field-id': 131 },
            { name: 'split_offsets', type: opt({ type: 'array', items: 'long', 'element-id': 133 }), default: null, 'field-id': 132 },
            { name: 'equality_ids', type: opt({ type: 'array', items: 'int', 'element-id': 136 }), default: null, 'field-id': 135 },
            { name: 'sort_order_id', type: opt('int'), default: null, 'field-id': 140 },
          ],
        },
      },
    ],
  };
}

const MANIFEST_FILE_SCHEMA = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    { name: 'manifest_path', type: 'string', 'field-id': 500 },
    { name: 'manifest_length', type: 'long', 'field-id': 501 },
    { name: 'partition_spec_id', type: 'int', 'field-id': 502 },
    { name: 'content', type: 'int', 'field-id': 517 },
    { name: 'sequence_number', type: 'long', 'field-id': 515 },
    { name: 'min_sequence_number', type: 'long', 'field-id': 516 },
    { name: 'added_snapshot_id', type: 'long', 'field-id': 503 },
    { name: 'added_files_count', type: 'int', 'field-id': 504 },
    { name: 'existing_files_count', type: 'int', 'field-id': 505 },
    { name: 'deleted_files_count', type: 'int', 'field-id': 506 },
    { name: 'added_rows_count', type: 'long', 'field-id': 512 },
    { name: 'existing_rows_count', type: 'long', 'field-id': 513 },
    { name: 'deleted_rows_count', type: 'long', 'field-id': 514 },
    {
      name: 'partitions',
      type: opt({
        type: 'array',
        'element-id': 508,
        items: {
          type: 'record',
          name: 'r508',
          fields: [
            { name: 'contains_null', type: 'boolean', 'field-id': 509 },
            { name: 'contains_nan', type: opt('boolean'), default: null, 'field-id': 518 },
            { name: 'lower_bound', type: opt('bytes'), default: null, 'field-id': 510 },
            { name: 'upper_bound', type: opt('bytes'), default: null, 'field-id': 511 },
          ],
        },
      }),
      default: null,
      'field-id': 507,
    },
    { name: 'key_metadata', type: opt('bytes'), default: null, 'field-id': 519 },
  ],
};

/** One entry of a manifest list. Longs are bigint, as in the file. */
export interface ManifestFile {
  manifest_path: string;
  manifest_length: bigint;
  partition_spec_id: number;
  content: number;
  sequence_number: bigint;
  min_sequence_number: bigint;
  added_snapshot_id: bigint;
  added_files_count: number;
  existing_files_count: number;
  deleted_files_count: number;
  added_rows_count: bigint;
  existing_rows_count: bigint;
  deleted_rows_count: bigint;
  partitions: Array<{ contains_null: boolean; contains_nan: boolean | null; lower_bound: Buffer | null; upper_bound: Buffer | null }> | null;
  key_metadata: Buffer | null;
}

function toAvroMap<V>(m: Record<number, V>, conv: (v: V) => unknown): Array<{ key: number; value: unknown }> {
  return Object.entries(m).map(([k, v]) => ({ key: Number(k), value: conv(v) }));
}

function partitionAvroValue(type: string, v: PartitionValue): unknown {
  if (v === null) return null;
  if (type === 'long' || type === 'time' || type === 'timestamp' || type === 'timestamptz') return BigInt(v as bigint);
  if (type === 'binary') return Buffer.from(v as Uint8Array);
  if (parseDecimal(type)) {
    const d = parseDecimal(type)!;
    const size = decimalSize(d.precision);
    const out = Buffer.alloc(size, (v as bigint) < 0n ? 0xff : 0);
    let x = BigInt.asUintN(size * 8, v as bigint);
    for (let i = size - 1; i >= 0; i--, x >>= 8n) out[i] = Number(x & 0xffn);
    return out;
  }
  return v;
}

/** Writes a manifest of ADDED data files for one snapshot; sequence numbers are inherited. */
export async function encodeManifest(
  schema: IcebergSchema,
  spec: PartitionSpec,
  snapshotId: bigint,
  files: readonly DataFile[],
): Promise<Uint8Array> {
  const pt = partitionType(schema, spec);
  const records = files.map((f) => ({
    status: 1,
    snapshot_id: snapshotId,
    sequence_number: null,
    file_sequence_number: null,
    data_file: {
      content: 0,
      file_path: f.filePath,
      file_format: f.fileFormat,
      partition: Object.fromEntries(pt.fields.map((pf, i) => [pf.name, partitionAvroValue(pf.type, f.partition[i] ?? null)])),
      record_count: BigInt(f.recordCount),
      file_size_in_bytes: BigInt(f.fileSizeInBytes),
      column_sizes: toAvroMap(f.columnSizes, BigInt),
      value_counts: toAvroMap(f.valueCounts, BigInt),
      null_value_counts: toAvroMap(f.nullValueCounts, BigInt),
      nan_value_counts: toAvroMap(f.nanValueCounts, BigInt),
      lower_bounds: toAvroMap(f.lowerBounds, (b) => Buffer.from(b)),
      upper_bounds: toAvroMap(f.upperBounds, (b) => Buffer.from(b)),
      key_metadata: null,
      split_offsets: f.splitOffsets.length > 0 ? f.splitOffsets.map(BigInt) : null,
      equality_ids: null,
      sort_order_id: null,
    },
  }));
  return encodeAvro(manifestEntrySchema(pt), records, manifestHeader(schema, spec));
}

/** The key-value metadata of a data manifest's header (spec: "Manifests"). */
export function manifestHeader(schema: IcebergSchema, spec: PartitionSpec): Record<string, string> {
  return {
    schema: JSON.stringify(schema),
    'schema-id': String(schema['schema-id']),
    'partition-spec': JSON.stringify(spec.fields),
    'partition-spec-id': String(spec['spec-id']),
    'format-version': '2',
    content: 'data',
  };
}

/** Partition field summaries for the manifest list: nulls seen and bounds of every partition field. */
export function summarizePartitions(pt: PartitionType, files: readonly DataFile[]): NonNullable<ManifestFile['partitions']> {
  return pt.fields.map((pf, i) => {
    let containsNull = false;
    let containsNan = false;
    let lower: Uint8Array | undefined;
    let upper: Uint8Array | undefined;
    for (const f of files) {
      const v = f.partition[i] ?? null;
      if (v === null) {
        containsNull = true;
        continue;
      }
      if (typeof v === 'number' && Number.isNaN(v)) {
        containsNan = true;
        continue;
      }
      const b = serializeValue(pf.type === 'date' ? 'int' : pf.type, v);
      if (!lower || compareSerialized(pf.type, b, lower) < 0) lower = b;
      if (!upper || compareSerialized(pf.type, b, upper) > 0) upper = b;
    }
    return {
      contains_null: containsNull,
      contains_nan: containsNan,
      lower_bound: lower ? Buffer.from(lower) : null,
      upper_bound: upper ? Buffer.from(upper) : null,
    };
  });
}

export function compareSerialized(type: string, a: Uint8Array, b: Uint8Array): number {
  const dv = (x: Uint8Array): DataView => new DataView(x.buffer, x.byteOffset, x.byteLength);
  switch (type) {
    case 'int':
    case 'date':
      return dv(a).getInt32(0, true) - dv(b).getInt32(0, true);
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz': {
      const x = dv(a).getBigInt64(0, true);
      const y = dv(b).getBigInt64(0, true);
      return x === y ? 0 : x < y ? -1 : 1;
    }
    case 'float':
      return dv(a).getFloat32(0, true) - dv(b).getFloat32(0, true);
    case 'double':
      return dv(a).getFloat64(0, true) - dv(b).getFloat64(0, true);
    case 'boolean':
      return a[0]! - b[0]!;
    default: {
      if (parseDecimal(type)) {
        const toBig = (x: Uint8Array): bigint => BigInt.asIntN(x.length * 8, BigInt('0x' + (Buffer.from(x).toString('hex') || '0')));
        const x = toBig(a);
        const y = toBig(b);
        return x === y ? 0 : x < y ? -1 : 1;
      }
      return compareBytes(a, b);
    }
  }
}

export async function encodeManifestList(
  entries: readonly ManifestFile[],
  meta: { snapshotId: bigint; parentSnapshotId: bigint | null; sequenceNumber: bigint },
): Promise<Uint8Array> {
  const metadata: Record<string, string> = {
    'snapshot-id': meta.snapshotId.toString(),
    'parent-snapshot-id': meta.parentSnapshotId === null ? 'null' : meta.parentSnapshotId.toString(),
    'sequence-number': meta.sequenceNumber.toString(),
    'format-version': '2',
  };
  return encodeAvro(MANIFEST_FILE_SCHEMA, entries, metadata);
}

/**
 * Reads a manifest list written by any Iceberg writer (v1 or v2). Fields are matched by field
 * id, not name (v1 lists call 504 `added_data_files_count`); v1 lists lack sequence numbers,
 * which are 0 there (spec: "Sequence Numbers" upgrade rules).
 */
export async function decodeManifestList(bytes: Uint8Array): Promise<ManifestFile[]> {
  const records = await decodeAvro(bytes);
  return records.map(({ record, idToName }) => {
    const get = (id: number): unknown => {
      const name = idToName.get(id);
      return name === undefined ? undefined : record[name];
    };
    const big = (id: number): bigint => {
      const v = get(id);
      return v === undefined || v === null ? 0n : BigInt(v as bigint);
    };
    const num = (id: number): number => Number(get(id) ?? 0);
    const parts = get(507) as Array<Record<string, unknown>> | null | undefined;
    return {
      manifest_path: String(get(500)),
      manifest_length: big(501),
      partition_spec_id: num(502),
      content: num(517),
      sequence_number: big(515),
      min_sequence_number: big(516),
      added_snapshot_id: big(503),
      added_files_count: num(504),
      existing_files_count: num(505),
      deleted_files_count: num(506),
      added_rows_count: big(512),
      existing_rows_count: big(513),
      deleted_rows_count: big(514),
      partitions: parts
        ? parts.map((p) => ({
            contains_null: Boolean(p['contains_null']),
            contains_nan: (p['contains_nan'] as boolean | null | undefined) ?? null,
            lower_bound: (p['lower_bound'] as Buffer | null | undefined) ?? null,
            upper_bound: (p['upper_bound'] as Buffer | null | undefined) ?? null,
          }))
        : null,
      key_metadata: (get(519) as Buffer | null | undefined) ?? null,
    };
  });
}
