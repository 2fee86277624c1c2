// Appending data files to a table as one snapshot, with optimistic concurrency, and finding
// the snapshot a pipeline committed last.
//
// Hazards:
// - Two writers race on the catalog's compare-and-swap (catalog.ts). The loser gets
//   COMMIT_CONFLICT; since appends commute, it reloads the table, rebuilds its snapshot on top
//   of the new head (new parent, sequence number and manifest list, same data files and
//   manifest), and retries with backoff, a bounded number of times.
// - A commit whose answer got lost (CATALOG_UNAVAILABLE), or answered by a conflict after a
//   client's own retry (S3 Tables' SDK retries and then gets ConflictException for the attempt
//   that landed), may have landed. Retrying blindly would add the same files twice, and
//   deleting "its" files would delete the table's current metadata, so every failed attempt is
//   followed by a reload that looks for the commit's snapshot id and commit id (a summary key)
//   before anything is retried or deleted.
// - If the landed snapshot were expired by someone else between the commit and that reload, it
//   could not be found; the writer's fence (its position, which no expiry removes) then fails
//   the retry instead of letting it append the same files again.
// - A conflict that an append cannot be rebased over — the table's partition spec or schema
//   changed under the writer so that the files no longer match — is final, not retryable.
// - What the caller needs to be true of the table head it builds on (the ref still at the
//   snapshot it read, the same table, no other runner of its pipeline committed since, no other
//   process claimed the Kafka partitions it commits: partition-fence.ts) is passed
//   as requirements, in the spirit of the Iceberg REST spec's `TableRequirement`s, and checked
//   against every reloaded head: a retry never builds on a head the caller would refuse.

import { randomBytes, randomUUID } from 'node:crypto';
import { StreamError, isStreamError } from '../errors.js';
import type { Catalog, CommitRequirement, LoadedTable, TableIdentifier } from './catalog.js';
import type { DataFile } from './data-file-writer.js';
import { encodeManifest } from './manifest.js';
import type { AddedManifest } from './append-snapshot.js';
import { buildAppend, manifestDir } from './append-snapshot.js';
import type { Snapshot, TableMetadata } from './metadata.js';
import { currentSchema, defaultSpec } from './metadata.js';
import { checkPartitionEpochs } from './partition-fence.js';
import { committedPosition } from './snapshot-offsets.js';

export { findInAncestry, latestSnapshotWithSummaryKey } from './metadata.js';

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
        // The position property or the summary: expiry of the writer's snapshots must not
        // make its fence look unclaimed.
        const epoch = committedPosition(base, r.ownerKey, r.epochKey)?.epoch ?? null;
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
      case 'assert-partition-epochs':
        checkPartitionEpochs(table, base, r);
        break;
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
  /** Awaited on each attempt between building on the head and the swap (fault injection: a slow commit). */
  beforeSwap?: () => Promise<void>;
  /**
   * Table properties set in the same commit as the snapshot (e.g. a writer's position); a
   * function computes them from the head of each attempt, like `summaryExtras`.
   */
  setProperties?: Record<string, string> | ((base: TableMetadata) => Record<string, string>);
  /**
   * Whether the snapshot may merge the parent's manifests (default true). A claim passes false:
   * a commit that adds no data adds no manifest either.
   */
  mergeManifests?: boolean;
  /** Table properties removed in the same commit. */
  removeProperties?: readonly string[];
}

export interface CommitResult {
  /** The table as committed (or as found when the commit's answer was lost). */
  table: LoadedTable;
  snapshot: Snapshot;
  /** Manifests the new snapshot lists; unknown when the commit was found rather than answered. */
  manifests?: number;
}

/** Summary key of the id every append carries, by which a commit whose answer was lost is found. */
export const COMMIT_ID_KEY = 'streamberg.commit-id';

/** The snapshot a commit made, if the table holds it (on `main` or not). */
export function findCommit(m: TableMetadata, snapshotId: bigint, commitId: string): Snapshot | undefined {
  return m.snapshots.find((s) => s['snapshot-id'] === snapshotId || s.summary[COMMIT_ID_KEY] === commitId);
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
 *
 * Outcomes are never guessed: after any answer that is not a success (a conflict included —
 * S3 Tables answers ConflictException to the SDK's own retry of a commit that landed), the table
 * is reloaded and searched for this commit's snapshot id and commit id before anything else.
 * An attempt's files are deleted only when it provably can never land: the table's head and
 * `main` both moved on from the base it was built on, and the table references none of them.
 * Otherwise they stay (an orphan at worst, for orphan removal).
 */
export async function commitAppend(
  catalog: Catalog,
  ident: TableIdentifier,
  dataFiles: readonly DataFile[],
  summaryExtras: Record<string, string> | ((base: TableMetadata) => Record<string, string>),
  options: CommitOptions = {},
): Promise<CommitResult> {
  const maxAttempts = options.maxAttempts ?? 8;
  const initial = options.initialBackoffMs ?? 50;
  const cap = options.maxBackoffMs ?? 5_000;
  const snapshotId = newSnapshotId();
  const commitId = randomUUID();
  let added: AddedManifest | undefined;
  let lastError: unknown;
  let base = await catalog.loadTable(ident);

  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const landed = findCommit(base.metadata, snapshotId, commitId);
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
    // No data file, no manifest: an offsets-only commit reuses the parent's manifests.
    if (dataFiles.length > 0 && (!added || added.specId !== spec['spec-id'] || added.schemaId !== schema['schema-id'])) {
      const bytes = await encodeManifest(schema, spec, snapshotId, dataFiles);
      const path = `${manifestDir(base.metadata)}/${snapshotId}-m${attempt}.avro`;
      await catalog.io.write(path, bytes);
      added = { path, length: bytes.length, specId: spec['spec-id'], schemaId: schema['schema-id'] };
    }

    const extras = typeof summaryExtras === 'function' ? summaryExtras(base.metadata) : summaryExtras;
    const next = await buildAppend({
      catalog,
      base: base.metadata,
      snapshotId,
      added,
      dataFiles,
      summary: { ...extras, [COMMIT_ID_KEY]: commitId },
      setProperties: typeof options.setProperties === 'function' ? options.setProperties(base.metadata) : (options.setProperties ?? {}),
      merge: options.mergeManifests ?? true,
      removeProperties: options.removeProperties ?? [],
      attempt,
    });
    try {
      await options.beforeSwap?.();
      const table = await catalog.commit(base, next.metadata, options.requirements ?? []);
      // Merged into another manifest, this commit's own one is referenced by nothing.
      if (added && !next.listed.has(added.path)) await deleteQuietly(catalog, added.path);
      return { table, snapshot: next.snapshot, manifests: next.listed.size };
    } catch (err) {
      lastError = err;
      const retry = isStreamError(err) && (err.code === 'COMMIT_CONFLICT' || err.code === 'CATALOG_UNAVAILABLE');
      if (!retry) throw err;
      let reloaded: LoadedTable;
      try {
        reloaded = await catalog.loadTable(ident);
      } catch (loadErr) {
        // Still no answer: keep every file, look again on the next attempt.
        lastError = loadErr;
        if (attempt === maxAttempts || !(isStreamError(loadErr) && loadErr.code === 'CATALOG_UNAVAILABLE')) break;
        await backoff(options, err, attempt, initial, cap);
        continue;
      }
      const found = findCommit(reloaded.metadata, snapshotId, commitId);
      if (found) return { table: reloaded, snapshot: found };
      if (neverLands(base, reloaded)) await discard(catalog, reloaded, [...next.written, ...writtenMetadata(err)]);
      base = reloaded;
      if (attempt === maxAttempts) break;
      await backoff(options, err, attempt, initial, cap);
    }
  }
  if (isStreamError(lastError) && lastError.code !== 'COMMIT_CONFLICT' && lastError.code !== 'CATALOG_UNAVAILABLE') throw lastError;
  throw new StreamError('COMMIT_RETRIES_EXHAUSTED', `append to ${ident.namespace}.${ident.name} did not commit after ${maxAttempts} attempts`, {
    cause: lastError,
    details: { ...ident, snapshotId: snapshotId.toString() },
  });
}

async function backoff(options: CommitOptions, err: StreamError, attempt: number, initial: number, cap: number): Promise<void> {
  options.onRetry?.(err, attempt);
  const ms = Math.min(cap, initial * 2 ** (attempt - 1));
  await sleep(ms / 2 + Math.random() * (ms / 2));
}

/**
 * Whether a commit built on `base` can no longer land, seen from `now`: the catalog's
 * compare-and-swap token moved (SQL, S3 Tables) and `main` moved (the REST requirement on
 * `main`), so neither kind of swap on `base` can succeed any more. A head that has not moved
 * proves nothing: the commit may still be under way at the catalog.
 */
function neverLands(base: LoadedTable, now: LoadedTable): boolean {
  const main = (t: LoadedTable): bigint | null => t.metadata.refs['main']?.['snapshot-id'] ?? null;
  return now.versionToken !== base.versionToken && main(now) !== main(base);
}

/** The metadata file a catalog wrote for a commit that failed, if it says (catalog.ts). */
function writtenMetadata(err: StreamError): string[] {
  const at = err.details?.['metadataLocation'];
  return typeof at === 'string' ? [at] : [];
}

/** Deletes those of `paths` that `table` references nowhere (current file, metadata log, snapshots). */
async function discard(catalog: Catalog, table: LoadedTable, paths: readonly string[]): Promise<void> {
  const m = table.metadata;
  const referenced = new Set<string>([table.metadataLocation, ...m['metadata-log'].map((e) => e['metadata-file']), ...m.snapshots.map((s) => s['manifest-list'])]);
  for (const p of paths) if (!referenced.has(p)) await deleteQuietly(catalog, p);
}

async function deleteQuietly(catalog: Catalog, path: string): Promise<void> {
  // A file left behind is an orphan, not a fault: the commit's outcome stands either way.
  await catalog.io.delete(path).catch(() => {});
}
