// The snapshot an append makes: its manifest list (the parent's manifests, this commit's new
// one first, merged as manifest-merge.ts says), its summary, and the table metadata that
// follows the base with it on `main`. Nothing here swaps the catalog's pointer (commit.ts does).
//
// Where this differs from Java's SnapshotProducer / MergeAppend, on purpose:
// - a commit that adds no data file (a checkpoint that only moved offsets) writes no manifest:
//   its manifest list lists the parent's manifests (Java's MergeAppend writes none either, but
//   a FastAppend-style writer would add an empty one per commit); a claim of Kafka partitions
//   (partition-claims.ts) does not even merge them;
// - table properties can be set and removed in the same metadata as the snapshot, so a writer's
//   position (snapshot-offsets.ts) lands atomically with its data.

import { randomBytes } from 'node:crypto';
import type { Catalog } from './catalog.js';
import type { DataFile } from './data-file-writer.js';
import type { ManifestFile } from './manifest.js';
import { decodeManifestList, encodeManifestList, partitionType, summarizePartitions } from './manifest.js';
import { mergeManifests } from './manifest-merge.js';
import type { Snapshot, TableMetadata } from './metadata.js';
import { currentSchema, defaultSpec, mainSnapshot, withNewMainSnapshot } from './metadata.js';

export function manifestDir(m: TableMetadata): string {
  return m.properties['write.metadata.path'] ?? `${m.location}/metadata`;
}

/** The manifest of this commit's added data files, written once and reused by every attempt. */
export interface AddedManifest {
  path: string;
  length: number;
  specId: number;
  schemaId: number;
}

export interface AppendSnapshot {
  metadata: TableMetadata;
  snapshot: Snapshot;
  /** Files written for this attempt alone (manifest list, merged manifests). */
  written: string[];
  /** Manifests the new manifest list references. */
  listed: Set<string>;
}

export async function buildAppend(args: {
  catalog: Catalog;
  base: TableMetadata;
  snapshotId: bigint;
  added: AddedManifest | undefined;
  dataFiles: readonly DataFile[];
  summary: Record<string, string>;
  setProperties: Record<string, string>;
  removeProperties: readonly string[];
  attempt: number;
  /** False: list the parent's manifests as they are (a claim adds no manifest). */
  merge?: boolean;
}): Promise<AppendSnapshot> {
  const { catalog, base, snapshotId, added, dataFiles } = args;
  const parent = mainSnapshot(base);
  const sequenceNumber = base['last-sequence-number'] + 1;
  const seq = BigInt(sequenceNumber);
  const schema = currentSchema(base);
  const spec = defaultSpec(base);

  const previous: ManifestFile[] = parent ? await decodeManifestList(await catalog.io.read(parent['manifest-list'])) : [];
  const fresh: ManifestFile[] = added
    ? [
        {
          manifest_path: added.path,
          manifest_length: BigInt(added.length),
          partition_spec_id: added.specId,
          content: 0,
          sequence_number: seq,
          min_sequence_number: seq,
          added_snapshot_id: snapshotId,
          added_files_count: dataFiles.length,
          existing_files_count: 0,
          deleted_files_count: 0,
          added_rows_count: BigInt(dataFiles.reduce((n, f) => n + f.recordCount, 0)),
          existing_rows_count: 0n,
          deleted_rows_count: 0n,
          partitions: summarizePartitions(partitionType(schema, spec), dataFiles),
          key_metadata: null,
        },
      ]
    : [];
  const all = [...fresh, ...previous];
  const merged = args.merge === false ? { manifests: all, written: [] } : await mergeManifests({
    io: catalog.io,
    base,
    snapshotId,
    sequenceNumber: seq,
    manifests: all,
    dir: manifestDir(base),
    attempt: args.attempt,
  });
  const listBytes = await encodeManifestList(merged.manifests, {
    snapshotId,
    parentSnapshotId: parent?.['snapshot-id'] ?? null,
    sequenceNumber: seq,
  });
  const listPath = `${manifestDir(base)}/snap-${snapshotId}-${sequenceNumber}-${randomBytes(6).toString('hex')}.avro`;
  await catalog.io.write(listPath, listBytes);

  const listed = new Set(merged.manifests.map((m) => m.manifest_path));
  const kept = [...fresh, ...previous].filter((m) => listed.has(m.manifest_path)).length;
  const now = Math.max(Date.now(), base['last-updated-ms']);
  const snapshot: Snapshot = {
    'snapshot-id': snapshotId,
    ...(parent ? { 'parent-snapshot-id': parent['snapshot-id'] } : {}),
    'sequence-number': sequenceNumber,
    'timestamp-ms': now,
    'manifest-list': listPath,
    summary: {
      operation: 'append',
      ...summarize(parent, dataFiles),
      // Java's MergeAppend counters, so that tools show what merging did.
      'manifests-created': String(merged.written.length + fresh.filter((m) => listed.has(m.manifest_path)).length),
      'manifests-kept': String(kept - fresh.filter((m) => listed.has(m.manifest_path)).length),
      'manifests-replaced': String(fresh.length + previous.length - kept),
      ...args.summary,
    },
    'schema-id': schema['schema-id'],
  };
  const properties = { ...base.properties, ...args.setProperties };
  for (const k of args.removeProperties) delete properties[k];
  const metadata = withNewMainSnapshot({ ...base, properties }, snapshot);
  return { metadata, snapshot, written: [listPath, ...merged.written], listed };
}

/** The standard snapshot summary counters (spec: "Snapshot Summary"), totals carried from the parent. */
function summarize(parent: Snapshot | undefined, files: readonly DataFile[]): Record<string, string> {
  const rows = files.reduce((n, f) => n + f.recordCount, 0);
  const bytes = files.reduce((n, f) => n + f.fileSizeInBytes, 0);
  const partitions = new Set(files.map((f) => JSON.stringify(f.partition, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))));
  const out: Record<string, string> = {
    'added-data-files': String(files.length),
    'added-records': String(rows),
    'added-files-size': String(bytes),
    'changed-partition-count': String(partitions.size),
  };
  const p = parent?.summary;
  const total = (key: string, add: number): void => {
    if (!parent) out[key] = String(add);
    else if (p?.[key] !== undefined && /^\d+$/.test(p[key]!)) out[key] = String(Number(p[key]) + add);
  };
  total('total-data-files', files.length);
  total('total-records', rows);
  total('total-files-size', bytes);
  total('total-delete-files', 0);
  total('total-position-deletes', 0);
  total('total-equality-deletes', 0);
  return out;
}
