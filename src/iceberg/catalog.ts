// The catalog interface: where a table's current metadata file is recorded, and the one atomic
// step of every Iceberg write — swapping that pointer from the metadata file a writer read to
// the one it wrote, only if nobody swapped it in between (compare-and-swap).
//
// Hazard: two writers that both read metadata version N and both write N+1 race on the swap;
// exactly one wins, the other gets COMMIT_CONFLICT and must reload the table, rebuild its
// change on top of the winner's metadata, and try again (see commit.ts). A writer must never
// "force" its N+1 in: that would silently drop the winner's snapshot and the rows in it.

import type { FileIO } from './file-io.js';
import type { TableMetadata } from './metadata.js';

export interface TableIdentifier {
  namespace: string;
  name: string;
}

export interface LoadedTable {
  ident: TableIdentifier;
  metadata: TableMetadata;
  metadataLocation: string;
  /** What the catalog compares on commit: the metadata location (SQL) or S3 Tables' version token. */
  versionToken: string;
  /**
   * FileIO properties the catalog handed out with the table (a REST catalog's `config`: vended
   * S3 credentials, endpoint), for whoever writes its files; absent for the other catalogs.
   */
  fileIO?: Record<string, string> | undefined;
}

/**
 * A precondition on the table head a commit builds on, checked on every attempt. A requirement
 * that does not hold is final (no retry can make it hold again): COMMIT_FAILED.
 */
export type CommitRequirement =
  /** `ref` points at `snapshotId` (null: the ref does not exist yet). */
  | { type: 'assert-ref-snapshot-id'; ref: string; snapshotId: bigint | null }
  /** The table is still the one with this uuid (not dropped and created again). */
  | { type: 'assert-table-uuid'; uuid: string }
  /**
   * The commit fence of one writer: the newest snapshot on `main` whose summary has `ownerKey`
   * carries `epoch` under `epochKey` (null: there is no such snapshot). Any other value means
   * another runner of the same writer committed since. Its failure stays retryable for the
   * caller's restart policy (restart and recover from the table), though never within this commit.
   */
  | { type: 'assert-fence'; ownerKey: string; epochKey: string; epoch: number | null; owner: string }
  /**
   * Ownership of Kafka partitions across processes (partition-fence.ts): in the position under
   * `positionKey`, each listed partition of `topic` is still held by `owner` at the epoch it
   * claimed, and its next offset is `first`, where this commit's range begins. A superseded epoch
   * is PARTITION_FENCED (final); a range that does not continue the table's is COMMIT_FAILED.
   */
  | { type: 'assert-partition-epochs'; positionKey: string; topic: string; owner: string; partitions: readonly ClaimedRange[] };

/** A partition a commit covers: the ownership epoch it was claimed at, and where its range begins. */
export interface ClaimedRange {
  partition: number;
  epoch: number;
  first: bigint;
}

export interface Catalog {
  readonly name: string;
  /** Reads and writes the table's files (data, manifests, metadata). */
  readonly io: FileIO;
  /** Creates the namespace if it is missing; safe to call from several processes at once. */
  createNamespace(namespace: string): Promise<void>;
  /** The table's current metadata; TABLE_NOT_FOUND when there is no such table. */
  loadTable(ident: TableIdentifier): Promise<LoadedTable>;
  /**
   * Creates the table with the metadata `build` returns for its location, unless it exists.
   * Race-safe: when another process creates it first, that table is loaded and returned with
   * `created: false`, and this process's metadata is discarded.
   */
  createTable(ident: TableIdentifier, build: (location: string) => TableMetadata): Promise<{ table: LoadedTable; created: boolean }>;
  /**
   * Writes `next` as a new metadata file and swaps the table's pointer to it if the table is
   * still at `base`. Throws COMMIT_CONFLICT (retryable: reload, re-apply, retry) when it is not;
   * CATALOG_UNAVAILABLE when the catalog could not be asked or did not answer — then the swap
   * may or may not have happened, and the caller must reload to find out. A conflict can be as
   * unclear (a client library's retry of a swap that landed meets the token it moved), so a
   * catalog deletes the metadata file it wrote only when its answer proves the swap did not
   * happen (SQLite); otherwise it names the file in the error's `details.metadataLocation`, for
   * the committer to delete once the reloaded table shows it unreferenced (commit.ts).
   * `requirements` are the caller's preconditions, already checked against `base`; a catalog
   * whose swap compares the whole of `base` (SQL, S3 Tables) keeps them true by that swap, and
   * one that applies changes itself (REST) sends those it can express for the server to check
   * in the same atomic step.
   */
  commit(base: LoadedTable, next: TableMetadata, requirements?: readonly CommitRequirement[]): Promise<LoadedTable>;
  close(): Promise<void>;
}
