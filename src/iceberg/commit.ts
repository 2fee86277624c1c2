// Appending data files to a table as one snapshot, with optimistic concurrency, and finding
// the snapshot a pipeline committed last.
//
// Hazards:
// - Two writers race on the catalog's compare-and-swap (catalog.ts). The loser gets
//   COMMIT_CONFLICT; since appends commute, it reloads the table, rebuilds its snapshot on top
//   of the new head (new parent, sequence number and manifest list, same data files and
//   manifest), and retries with backoff, a bounded number of times.
// - A commit whose answer got lost (CATALOG_UNAVAILABLE) may have landed. Retrying blindly
//   would add the same files twice, so every retry first looks for its own snapshot id in the
//   ancestry of `main` and stops if it is there.
// - A conflict that an append cannot be rebased over — the table's partition spec or schema
//   changed under the writer so that the files no longer match — is final, not retryable.
// - What the caller needs to be true of the table head it builds on (the ref still at the
//   snapshot it read, the same table, no other runner of its pipeline committed since) is passed
//   as requirements, in the spirit of the Iceberg REST spec's `TableRequirement`s, and checked
//   against every reloaded head: a retry never builds on a head the caller would refuse.

import { randomBytes } from 'node:crypto';
import { StreamError, isStreamError } from '../errors.js';
import type { Catalog, CommitRequirement, LoadedTable, TableIdentifier } from './catalog.js';
import type { DataFile } from './data-file-writer.js';
import type { ManifestFile } from './manifest.js';
import { decodeManifestList, encodeManifest, encodeManifestList, partitionType, summarizePartitions } from './manifest.js';
import type { Snapshot, TableMetadata } from './metadata.js';
import { currentSchema, defaultSpec, mainSnapshot } from './metadata.js';

export type { CommitRequirement } from './catalog.js';

/** Throws COMMIT_FAILED naming the table and the first requirement `base` does not meet. */
export function checkRequirements(table: string, base: TableMetadata, requirements: readonly CommitRequirement[]): void {
  for (const r of requirements) {
    switch (r.type) {
      case 'assert-ref-snapshot-id': {
        const at = base.refs[r.ref]?.['snapshot-id'] ?? null;
        if (at !== r.snapshotId) {
          throw new StreamError('COMMIT_FAILED', `${table}: ref ${r.ref} is at snapshot ${String(at)}, the commit requires ${String(r.snapshotId)}`, {
            retryable: false,
            details: { requirement: r.type },
          });
        }
        break;
      }
      case 'assert-table-uuid':
        if (base['table-uuid'] !== r.uuid) {
          throw new StreamError('COMMIT_FAILED', `${table}: table uuid is ${base['table-uuid']}, the commit requires ${r.uuid}`, {
            retryable: false,
            details: { requirement: r.type },
          });
        }
        break;
      case 'assert-fence': {
        const last = latestSnapshotWithSummaryKey(base, r.ownerKey);
        const epoch = last ? Number(last.summary[r.epochKey] ?? 0) : null;
        if (epoch !== r.epoch) {
          // Wording kept from the fence's first form: operators and tests read "another writer".
          throw new StreamError(
            'COMMIT_FAILED',
            `${table}: another writer committed epoch ${String(epoch ?? undefined)} of ${r.owner} (this one expected ${String(r.epoch ?? undefined)}); restarting from the table`,
            { retryable: true, details: { actor: 'commit', requirement: r.type } },
          );
        }
        break;
      }
    }
  }
}

export interface CommitOptions {
  /** Checked against the table head of every attempt before anything is built on it. */
  requirements?: readonly CommitRequirement[];
  /** Attempts in all, the first included (default 8). */
  maxAttempts?: number;
  /** First backoff; doubles per attempt with jitter, capped by maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Called before each retry, with the conflict (or lost answer) that caused it. */
  onRetry?: (err: StreamError, attempt: number) => void;
}

/** A positive 63-bit id, as Iceberg's writers make them. */
export function newSnapshotId(): bigint {
  const id = randomBytes(8).readBigUInt64BE() & 0x7fff_ffff_ffff_ffffn;
  return id === 0n ? 1n : id;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Commits `dataFiles` (all written with the table's current default spec and schema) as one
 * `append` snapshot on `main`, with `summaryExtras` added to the snapshot summary (e.g. the
 * Kafka offsets this epoch consumed). Pass a function to compute them from the table as each
 * attempt finds it, e.g. to merge offsets with what another writer committed meanwhile; it only
 * builds the summary: preconditions go in `options.requirements`.
 * Returns the table as committed and the new snapshot.
 * Throws COMMIT_RETRIES_EXHAUSTED when conflicts outlast the attempts; the files are then
 * still uncommitted and the caller decides (usually: fail the epoch and replay it).
 */
export async function commitAppend(
  catalog: Catalog,
  ident: TableIdentifier,
  dataFiles: readonly DataFile[],
  summaryExtras: Record<string, string> | ((base: TableMetadata) => Record<string, string>),
  options: CommitOptions = {},
): Promise<{ table: LoadedTable; snapshot: Snapshot }> {
  const maxAttempts = options.maxAttempts ?? 8;
  const initial = options.initialBackoffMs ?? 50;
  const cap = options.maxBackoffMs ?? 5_000;
  const snapshotId = newSnapshotId();
  let manifest: { path: string; length: number; specId: number; schemaId: number } | undefined;
  let lastError: unknown;

  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const base = await catalog.loadTable(ident);
    const landed = findInAncestry(base.metadata, (s) => s['snapshot-id'] === snapshotId);
    if (landed) return { table: base, snapshot: landed };
    checkRequirements(`${ident.name}`, base.metadata, options.requirements ?? []);

    const schema = currentSchema(base.metadata);
    const spec = defaultSpec(base.metadata);
    for (const f of dataFiles) {
      if (f.specId !== spec['spec-id']) {
        throw new StreamError('COMMIT_FAILED', `data file ${f.filePath} was written for partition spec ${f.specId}, the table's is ${spec['spec-id']}`, {
          retryable: false,
          details: { ...ident },
        });
      }
    }
    if (!manifest || manifest.specId !== spec['spec-id'] || manifest.schemaId !== schema['schema-id']) {
      const bytes = await encodeManifest(schema, spec, snapshotId, dataFiles);
      const path = `${manifestDir(base.metadata)}/${snapshotId}-m${attempt}.avro`;
      await catalog.io.write(path, bytes);
      manifest = { path, length: bytes.length, specId: spec['spec-id'], schemaId: schema['schema-id'] };
    }

    const extras = typeof summaryExtras === 'function' ? summaryExtras(base.metadata) : summaryExtras;
    const next = await buildAppend(catalog, base.metadata, snapshotId, manifest, dataFiles, extras);
    try {
      const table = await catalog.commit(base, next.metadata, options.requirements ?? []);
      return { table, snapshot: next.snapshot };
    } catch (err) {
      lastError = err;
      // Only a conflict proves the swap did not happen. After CATALOG_UNAVAILABLE the snapshot
      // may be live, and its manifest list with it: keep the file.
      if (isStreamError(err) && err.code === 'COMMIT_CONFLICT') await catalog.io.delete(next.snapshot['manifest-list']);
      const retry = isStreamError(err) && (err.code === 'COMMIT_CONFLICT' || err.code === 'CATALOG_UNAVAILABLE');
      if (!retry || attempt === maxAttempts) break;
      options.onRetry?.(err, attempt);
      const backoff = Math.min(cap, initial * 2 ** (attempt - 1));
      await sleep(backoff / 2 + Math.random() * (backoff / 2));
    }
  }
  if (isStreamError(lastError) && lastError.code !== 'COMMIT_CONFLICT' && lastError.code !== 'CATALOG_UNAVAILABLE') throw lastError;
  throw new StreamError('COMMIT_RETRIES_EXHAUSTED', `append to ${ident.namespace}.${ident.name} did not commit after ${maxAttempts} attempts`, {
    cause: lastError,
    details: { ...ident, snapshotId: snapshotId.toString() },
  });
}

function manifestDir(m: TableMetadata): string {
  return m.properties['write.metadata.path'] ?? `${m.location}/metadata`;
}

async function buildAppend(
  catalog: Catalog,
  base: TableMetadata,
  snapshotId: bigint,
  manifest: { path: string; length: number; specId: number },
  dataFiles: readonly DataFile[],
  extras: Record<string, string>,
): Promise<{ metadata: TableMetadata; snapshot: Snapshot }> {
  const parent = mainSnapshot(base);
  const sequenceNumber = base['last-sequence-number'] + 1;
  const seq = BigInt(sequenceNumber);
  const schema = currentSchema(base);
  const spec = defaultSpec(base);

  const previous: ManifestFile[] = parent ? await decodeManifestList(await catalog.io.read(parent['manifest-list'])) : [];
  const addedRows = dataFiles.reduce((n, f) => n + f.recordCount, 0);
  const added: ManifestFile = {
    manifest_path: manifest.path,
    manifest_length: BigInt(manifest.length),
    partition_spec_id: manifest.specId,
    content: 0,
    sequence_number: seq,
    min_sequence_number: seq,
    added_snapshot_id: snapshotId,
    added_files_count: dataFiles.length,
    existing_files_count: 0,
    deleted_files_count: 0,
    added_rows_count: BigInt(addedRows),
    existing_rows_count: 0n,
    deleted_rows_count: 0n,
    partitions: summarizePartitions(partitionType(schema, spec), dataFiles),
    key_metadata: null,
  };
  const listBytes = await encodeManifestList([added, ...previous], {
    snapshotId,
    parentSnapshotId: parent?.['snapshot-id'] ?? null,
    sequenceNumber: seq,
  });
  const listPath = `${manifestDir(base)}/snap-${snapshotId}-${sequenceNumber}-${randomBytes(6).toString('hex')}.avro`;
  await catalog.io.write(listPath, listBytes);

  const now = Math.max(Date.now(), base['last-updated-ms']);
  const snapshot: Snapshot = {
    'snapshot-id': snapshotId,
    ...(parent ? { 'parent-snapshot-id': parent['snapshot-id'] } : {}),
    'sequence-number': sequenceNumber,
    'timestamp-ms': now,
    'manifest-list': listPath,
    summary: { operation: 'append', ...summarize(parent, dataFiles), ...extras },
    'schema-id': schema['schema-id'],
  };
  const metadata: TableMetadata = {
    ...base,
    'last-sequence-number': sequenceNumber,
    'last-updated-ms': now,
    'current-snapshot-id': snapshotId,
    snapshots: [...base.snapshots, snapshot],
    'snapshot-log': [...base['snapshot-log'], { 'timestamp-ms': now, 'snapshot-id': snapshotId }],
    refs: { ...base.refs, main: { 'snapshot-id': snapshotId, type: 'branch' } },
  };
  return { metadata, snapshot };
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

/** Walks `main` from its head through parent links; returns the first snapshot that matches. */
export function findInAncestry(m: TableMetadata, match: (s: Snapshot) => boolean): Snapshot | undefined {
  const byId = new Map(m.snapshots.map((s) => [s['snapshot-id'], s]));
  let s = mainSnapshot(m);
  const seen = new Set<bigint>();
  while (s && !seen.has(s['snapshot-id'])) {
    if (match(s)) return s;
    seen.add(s['snapshot-id']);
    const parentId = s['parent-snapshot-id'];
    s = parentId === undefined || parentId === null ? undefined : byId.get(parentId);
  }
  return undefined;
}

/**
 * The newest snapshot on `main` whose summary has `key` (e.g. this pipeline's offsets key).
 * Snapshots by other writers (compaction, other pipelines) are skipped. Expired ancestors end
 * the walk: the result is then undefined, as if the key were never committed.
 */
export function latestSnapshotWithSummaryKey(m: TableMetadata, key: string): Snapshot | undefined {
  return findInAncestry(m, (s) => Object.prototype.hasOwnProperty.call(s.summary, key));
}
