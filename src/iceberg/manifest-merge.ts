// Merging manifests on commit, as Iceberg's Java library does it (MergingSnapshotProducer and
// ManifestMergeManager), so that a table committed to every minute keeps a bounded number of
// manifests in its current manifest list instead of one more per commit.
//
// By the table's properties and Iceberg's defaults:
// - `commit.manifest-merge.enabled` (true);
// - `commit.manifest.min-count-to-merge` (100): the bin holding the commit's newest manifest is
//   merged only once it holds this many manifests, so small commits pile up a while first;
// - `commit.manifest.target-size-bytes` (8 MiB): the size manifests are packed into.
// Manifests are grouped by partition spec, and each group is packed from its end (oldest
// manifests fill whole bins; the newest bin may be short), keeping their order. A bin of one
// manifest is kept as it is. A merged manifest holds every live entry of its bin: the entries
// this snapshot added stay ADDED, all others become EXISTING with their own snapshot id and
// sequence numbers; entries DELETED by earlier snapshots are dropped.
//
// Hazard: the manifests merged away are still referenced by older snapshots; they are never
// deleted here (snapshot expiry decides). A merged manifest written for a commit attempt that did
// not land is referenced by nothing and may go with that attempt's manifest list.

import type { FileIO } from './file-io.js';
import type { ManifestEntry } from './manifest-entries.js';
import { ENTRY_ADDED, ENTRY_DELETED, ENTRY_EXISTING, decodeManifestEntries, encodeManifestEntries } from './manifest-entries.js';
import type { ManifestFile } from './manifest.js';
import { compareSerialized, partitionType } from './manifest.js';
import type { TableMetadata } from './metadata.js';
import type { PartitionSpec } from './partition.js';
import type { IcebergSchema } from './schema.js';
import { indexFields } from './schema.js';

export interface ManifestMergeSettings {
  enabled: boolean;
  minCountToMerge: number;
  targetSizeBytes: number;
}

function intProperty(props: Record<string, string>, key: string, fallback: number): number {
  const v = props[key];
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

/** The merge settings of a table, Iceberg's defaults where it sets none. */
export function manifestMergeSettings(props: Record<string, string>): ManifestMergeSettings {
  return {
    enabled: (props['commit.manifest-merge.enabled'] ?? 'true').toLowerCase() !== 'false',
    minCountToMerge: intProperty(props, 'commit.manifest.min-count-to-merge', 100),
    targetSizeBytes: intProperty(props, 'commit.manifest.target-size-bytes', 8 * 1024 * 1024),
  };
}

/**
 * Iceberg's `ListPacker.packEnd` with a lookback of one: items taken from the end, a bin closed
 * when the next item does not fit, bins and their items returned in the original order.
 */
export function packEnd<T>(items: readonly T[], weight: (t: T) => number, target: number): T[][] {
  const bins: T[][] = [];
  let current: T[] | undefined;
  let filled = 0;
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i]!;
    const w = weight(item);
    if (current && filled + w <= target) {
      current.push(item);
      filled += w;
    } else {
      current = [item];
      bins.push(current);
      filled = w;
    }
  }
  return bins.reverse().map((b) => b.reverse());
}

export interface MergeInput {
  io: FileIO;
  /** The table the commit builds on (its schemas and specs). */
  base: TableMetadata;
  snapshotId: bigint;
  sequenceNumber: bigint;
  /** This commit's manifests first, then the parent snapshot's, in list order. */
  manifests: readonly ManifestFile[];
  /** Where merged manifests go: `<dir>/<snapshot id>-merged-<n>.avro`. */
  dir: string;
  /** Distinguishes the files of one commit attempt from another's. */
  attempt: number;
}

/** The manifest list after merging, and the manifests written for it. */
export async function mergeManifests(input: MergeInput): Promise<{ manifests: ManifestFile[]; written: string[] }> {
  const settings = manifestMergeSettings(input.base.properties);
  const first = input.manifests[0];
  if (!settings.enabled || !first) return { manifests: [...input.manifests], written: [] };
  const data = input.manifests.filter((m) => m.content === 0);
  const others = input.manifests.filter((m) => m.content !== 0);
  // Groups by spec id, highest first, as Java's TreeMap in reverse order.
  const groups = new Map<number, ManifestFile[]>();
  for (const m of data) groups.set(m.partition_spec_id, [...(groups.get(m.partition_spec_id) ?? []), m]);
  const out: ManifestFile[] = [];
  const written: string[] = [];
  for (const specId of [...groups.keys()].sort((a, b) => b - a)) {
    for (const bin of packEnd(groups.get(specId)!, (m) => Number(m.manifest_length), settings.targetSizeBytes)) {
      if (bin.length === 1 || (bin.includes(first) && bin.length < settings.minCountToMerge)) {
        out.push(...bin);
        continue;
      }
      const path = `${input.dir}/${input.snapshotId}-m${input.attempt}-merged-${written.length}.avro`;
      out.push(await mergeBin(input, specId, bin, path));
      written.push(path);
    }
  }
  return { manifests: [...out, ...others], written };
}

/** The schema a manifest of `spec` is written with. */
export function schemaFor(base: TableMetadata, spec: PartitionSpec): IcebergSchema {
  // The current schema, unless a source column of the spec is only in an older one.
  const current = base.schemas.find((s) => s['schema-id'] === base['current-schema-id'])!;
  const has = (s: IcebergSchema): boolean => {
    const fields = indexFields(s);
    return spec.fields.every((f) => fields.has(f['source-id']));
  };
  return has(current) ? current : ([...base.schemas].reverse().find(has) ?? current);
}

async function mergeBin(input: MergeInput, specId: number, bin: readonly ManifestFile[], path: string): Promise<ManifestFile> {
  const spec = input.base['partition-specs'].find((s) => s['spec-id'] === specId)!;
  const schema = schemaFor(input.base, spec);
  const pt = partitionType(schema, spec);
  const entries: ManifestEntry[] = [];
  for (const m of bin) {
    for (const e of await decodeManifestEntries(await input.io.read(m.manifest_path), m, pt)) {
      const ours = e.snapshotId === input.snapshotId;
      // Deletes of earlier snapshots are history: the merged manifest drops them.
      if (e.status === ENTRY_DELETED && !ours) continue;
      entries.push(e.status === ENTRY_ADDED && ours ? e : e.status === ENTRY_DELETED ? e : { ...e, status: ENTRY_EXISTING });
    }
  }
  const bytes = encodeManifestEntries(schema, spec, entries, input.snapshotId);
  await input.io.write(path, bytes);

  const count = (status: number): number => entries.filter((e) => e.status === status).length;
  const rows = (status: number): bigint => entries.filter((e) => e.status === status).reduce((n, e) => n + BigInt(e.dataFile['record_count'] as bigint), 0n);
  let minSeq = input.sequenceNumber;
  for (const e of entries) {
    const seq = e.status === ENTRY_ADDED && e.snapshotId === input.snapshotId ? input.sequenceNumber : e.sequenceNumber;
    if (seq !== null && seq < minSeq) minSeq = seq;
  }
  return {
    manifest_path: path,
    manifest_length: BigInt(bytes.length),
    partition_spec_id: specId,
    content: 0,
    sequence_number: input.sequenceNumber,
    min_sequence_number: minSeq,
    added_snapshot_id: input.snapshotId,
    added_files_count: count(ENTRY_ADDED),
    existing_files_count: count(ENTRY_EXISTING),
    deleted_files_count: count(ENTRY_DELETED),
    added_rows_count: rows(ENTRY_ADDED),
    existing_rows_count: rows(ENTRY_EXISTING),
    deleted_rows_count: rows(ENTRY_DELETED),
    partitions: unionPartitionSummaries(pt.fields.map((f) => f.type), bin),
    key_metadata: null,
  };
}

/**
 * The partition field summaries of a merged manifest: the union of its inputs' (every entry of
 * the merged manifest was in one of them). A summary an input lacks makes the field's unknown.
 */
export function unionPartitionSummaries(types: readonly string[], bin: readonly ManifestFile[]): ManifestFile['partitions'] {
  if (bin.some((m) => m.partitions === null || m.partitions.length !== types.length)) return null;
  return types.map((type, i) => {
    const parts = bin.map((m) => m.partitions![i]!);
    const cmpType = type === 'date' ? 'int' : type;
    let lower: Buffer | null = null;
    let upper: Buffer | null = null;
    for (const p of parts) {
      if (p.lower_bound && (!lower || compareSerialized(cmpType, p.lower_bound, lower) < 0)) lower = p.lower_bound;
      if (p.upper_bound && (!upper || compareSerialized(cmpType, p.upper_bound, upper) > 0)) upper = p.upper_bound;
    }
    return {
      contains_null: parts.some((p) => p.contains_null),
      contains_nan: parts.some((p) => p.contains_nan === null) ? null : parts.some((p) => p.contains_nan === true),
      lower_bound: lower,
      upper_bound: upper,
    };
  });
}
