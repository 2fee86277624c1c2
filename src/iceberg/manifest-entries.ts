// Manifest entries read back and written again, for rewriting manifests (merging on commit).
// A manifest may come from any writer (this runtime, pyiceberg, Java): its fields are matched by
// field id, never by name, and the entry is re-encoded with this runtime's manifest schema.
//
// Hazard: sequence numbers and snapshot ids of ADDED entries are usually not in the file — they
// are inherited from the manifest list entry (spec: "Sequence Number Inheritance"). An entry
// copied into another manifest must carry them explicitly, or it would take the new manifest's
// (later) sequence number and change what deletes apply to it.

import { StreamError } from '../errors.js';
import { decodeAvroFile, encodeAvro } from './avro.js';
import type { ManifestFile, PartitionType } from './manifest.js';
import { manifestEntrySchema, manifestHeader, partitionType } from './manifest.js';
import type { PartitionSpec } from './partition.js';
import type { IcebergSchema } from './schema.js';

export const ENTRY_EXISTING = 0;
export const ENTRY_ADDED = 1;
export const ENTRY_DELETED = 2;

export interface ManifestEntry {
  status: number;
  /** The snapshot that added (or deleted) the file; inheritance resolved. */
  snapshotId: bigint;
  /** Data sequence number; null only when the writer left it unknowable. */
  sequenceNumber: bigint | null;
  fileSequenceNumber: bigint | null;
  /** The `data_file` struct, named as this runtime's manifest schema names its fields. */
  dataFile: Record<string, unknown>;
}

/** `data_file` fields by id, as this runtime names them, with the value a missing optional one takes. */
const DATA_FILE_FIELDS: ReadonlyArray<[number, string, unknown]> = [
  [134, 'content', 0],
  [100, 'file_path', undefined],
  [101, 'file_format', undefined],
  [102, 'partition', undefined],
  [103, 'record_count', undefined],
  [104, 'file_size_in_bytes', undefined],
  [108, 'column_sizes', null],
  [109, 'value_counts', null],
  [110, 'null_value_counts', null],
  [137, 'nan_value_counts', null],
  [125, 'lower_bounds', null],
  [128, 'upper_bounds', null],
  [131, 'key_metadata', null],
  [132, 'split_offsets', null],
  [135, 'equality_ids', null],
  [140, 'sort_order_id', null],
];

type AvroField = { name: string; type: unknown; 'field-id'?: number };

function recordFields(type: unknown): AvroField[] {
  const t = Array.isArray(type) ? type.find((x) => x !== 'null') : type;
  return ((t as { fields?: AvroField[] } | undefined)?.fields ?? []).filter((f) => typeof f === 'object');
}

function byId(fields: AvroField[]): Map<number, AvroField> {
  return new Map(fields.filter((f) => f['field-id'] !== undefined).map((f) => [Number(f['field-id']), f]));
}

const asBig = (v: unknown): bigint | null => (v === null || v === undefined ? null : BigInt(v as bigint));

/**
 * The entries of the data manifest `manifest` (as listed in a manifest list), with snapshot id
 * and sequence numbers inherited where the file leaves them out. `pt` is the partition type of
 * the manifest's spec: partition values are matched to it by partition field id.
 */
export async function decodeManifestEntries(bytes: Uint8Array, manifest: ManifestFile, pt: PartitionType): Promise<ManifestEntry[]> {
  const { schema, records } = await decodeAvroFile(bytes);
  const top = byId(recordFields(schema));
  const name = (id: number): string | undefined => top.get(id)?.name;
  const dataFileField = top.get(2);
  if (!dataFileField || name(0) === undefined) {
    throw new StreamError('METADATA_INVALID', `manifest ${manifest.manifest_path} has no status or data_file field`, { details: { path: manifest.manifest_path } });
  }
  const df = byId(recordFields(dataFileField.type));
  const partitionFields = byId(recordFields(df.get(102)?.type));
  return records.map((r) => {
    const raw = r[dataFileField.name] as Record<string, unknown>;
    const dataFile: Record<string, unknown> = {};
    for (const [id, ours, missing] of DATA_FILE_FIELDS) {
      const theirs = df.get(id)?.name;
      const v = theirs === undefined ? undefined : raw[theirs];
      dataFile[ours] = v === undefined ? missing : v;
    }
    const rawPartition = (raw[df.get(102)?.name ?? 'partition'] ?? {}) as Record<string, unknown>;
    dataFile['partition'] = Object.fromEntries(pt.fields.map((f) => [f.name, rawPartition[partitionFields.get(f.id)?.name ?? f.name] ?? null]));
    const status = Number(r[name(0)!]);
    const added = status === ENTRY_ADDED;
    // Inheritance (spec): a null snapshot id is the manifest's; null sequence numbers of ADDED
    // entries are the manifest's. Manifests of v1 tables carry sequence number 0.
    const snapshotId = asBig(name(1) === undefined ? null : r[name(1)!]) ?? manifest.added_snapshot_id;
    const seq = asBig(name(3) === undefined ? null : r[name(3)!]) ?? (added || name(3) === undefined ? manifest.sequence_number : null);
    const fileSeq = asBig(name(4) === undefined ? null : r[name(4)!]) ?? (added || name(4) === undefined ? manifest.sequence_number : null);
    return { status, snapshotId, sequenceNumber: seq, fileSequenceNumber: fileSeq, dataFile };
  });
}

/**
 * Writes `entries` as one data manifest of `spec`. Entries ADDED by `inheritFrom` are written
 * with null sequence numbers, to inherit the new manifest's (assigned when the manifest list is
 * written); every other entry keeps its own, explicitly.
 */
export function encodeManifestEntries(schema: IcebergSchema, spec: PartitionSpec, entries: readonly ManifestEntry[], inheritFrom: bigint): Uint8Array {
  const pt = partitionType(schema, spec);
  const records = entries.map((e) => {
    const inherit = e.status === ENTRY_ADDED && e.snapshotId === inheritFrom;
    return {
      status: e.status,
      snapshot_id: e.snapshotId,
      sequence_number: inherit ? null : e.sequenceNumber,
      file_sequence_number: inherit ? null : e.fileSequenceNumber,
      data_file: e.dataFile,
    };
  });
  return encodeAvro(manifestEntrySchema(pt), records, manifestHeader(schema, spec));
}
