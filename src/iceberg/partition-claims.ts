// Claims of Kafka partitions in a table, so that several processes can share a pipeline's
// partitions and still append each offset exactly once. The consumer group decides who *should*
// read a partition; only the table decides who *may commit* it.
//
// - A claim is a commit without data (no data file, no manifest) that raises each gained
//   partition's ownership epoch to one past the table's and names the owner, in the pipeline's
//   position (property and summary, snapshot-offsets.ts). The owner resumes from the `next`
//   offset recorded in that same snapshot: whatever an earlier owner committed before the claim
//   is in it, and nothing it commits after can land (the fence below).
// - A data commit names, per partition, the epoch it claimed and the offset range it covers;
//   each attempt (conflict retries included) checks on the head it builds on that every epoch is
//   still the table's and every range begins at the table's `next` (partition-fence.ts).
// - Positions are merged on every attempt: each process rewrites only its own partitions' entries
//   in the position it finds on that attempt's head, so a rival's claim or commit in between is
//   kept, never overwritten by a stale copy.
// - A commit is refused whole (PARTITION_FENCED, naming every fenced partition): nothing of it
//   lands, so there is never a half-committed epoch to reason about. Data files may hold rows of
//   several partitions, so the caller drops the fenced partitions with `dropFenced`, which also
//   says which other partitions shared a file with them and must be read again from their `next`,
//   and commits the rest.
// - Ambiguous outcomes (an answer lost after the catalog applied the commit) are resolved by the
//   commit id commitAppend puts in every snapshot, looked for among the table's snapshots before
//   the fence is checked again: a commit that landed before a rival's claim is found, not fenced
//   (and its files, then in the table, never deleted).
//
// Single-process mode uses none of this: it owns every partition implicitly at epoch 0 and
// writes the bare-number form of the position (checkpoint-coordinator.ts).

import { StreamError, isStreamError } from '../errors.js';
import type { Catalog, CommitRequirement, LoadedTable, TableIdentifier } from './catalog.js';
import type { CommitOptions, CommitResult } from './commit.js';
import { commitAppend } from './commit.js';
import type { DataFile } from './data-file-writer.js';
import type { Snapshot, TableMetadata } from './metadata.js';
import type { PartitionPositions } from './snapshot-offsets.js';
import { EPOCH_KEY, committedPosition, decodePositions, encodePosition, encodePositions, offsetsKey, positionProperty } from './snapshot-offsets.js';

/** Summary key naming the process that made a snapshot carrying claimed positions. */
export const OWNER_KEY = 'streamberg.owner';

/** One process of a pipeline: its consumer group, its topic, and its own id (unique among the processes). */
export interface Claimant {
  groupId: string;
  topic: string;
  owner: string;
}

/** A partition's range in a data commit: claimed at `epoch`, offsets `first` up to (not including) `next`. */
export interface OwnedRange {
  partition: number;
  epoch: number;
  first: bigint;
  next: bigint;
}

/** A data file and the Kafka partitions whose rows it holds. */
export interface OwnedFile {
  file: DataFile;
  partitions: readonly number[];
}

export interface HeldPartition {
  epoch: number;
  /** The next offset the table holds for it: where this owner reads and commits from. */
  next: bigint;
}

export interface ClaimResult {
  table: LoadedTable;
  /** The claim's snapshot; `held` is read from its summary. */
  snapshot: Snapshot;
  held: Map<number, HeldPartition>;
}

export type RetryOptions = Pick<CommitOptions, 'maxAttempts' | 'initialBackoffMs' | 'maxBackoffMs' | 'onRetry' | 'beforeSwap'>;

/**
 * The summary entries and position property of a commit that changes `who`'s partitions by
 * `change`, computed from the head of each attempt. The position's top-level epoch counts commits
 * of the group (one past the head's), so the newer of property and summary is still the higher.
 */
function positionUpdate(who: Claimant, change: (positions: PartitionPositions) => void): {
  summary: (base: TableMetadata) => Record<string, string>;
  properties: (base: TableMetadata) => Record<string, string>;
} {
  const key = offsetsKey(who.groupId);
  // commitAppend asks for both on the same head, one after the other: compute once per head.
  let last: { base: TableMetadata; offsets: string; epoch: number } | undefined;
  const on = (base: TableMetadata): { offsets: string; epoch: number } => {
    if (last?.base !== base) {
      const current = committedPosition(base, key, EPOCH_KEY);
      const positions = current ? decodePositions(who.topic, current.offsets) : new Map();
      change(positions);
      last = { base, offsets: encodePositions(who.topic, positions, current?.offsets), epoch: (current?.epoch ?? 0) + 1 };
    }
    return last;
  };
  return {
    summary: (base) => {
      const u = on(base);
      return { [key]: u.offsets, [EPOCH_KEY]: String(u.epoch), [OWNER_KEY]: who.owner };
    },
    properties: (base) => {
      const u = on(base);
      return { [positionProperty(key)]: encodePosition(u.epoch, u.offsets) };
    },
  };
}

/**
 * Claims `gained` (partition → the offset to start from if the table holds none for it, e.g. by
 * `scan_mode` for a new pipeline, earliest for a partition added to the topic) for `who`: one
 * snapshot without data that raises each one's epoch to one past the table's. A claim that
 * loses the compare-and-swap reloads and claims again on the new head. Returns each partition's
 * epoch and `next` as that snapshot records them.
 */
export async function claimPartitions(catalog: Catalog, ident: TableIdentifier, who: Claimant, gained: ReadonlyMap<number, bigint>, options: RetryOptions = {}): Promise<ClaimResult> {
  if (gained.size === 0) throw new StreamError('PIPELINE_FAILED', `claim of no partition of ${who.topic} in ${ident.namespace}.${ident.name}`);
  const update = positionUpdate(who, (positions) => {
    for (const [p, start] of gained) {
      const at = positions.get(p);
      positions.set(p, { next: at?.next ?? start, epoch: (at?.epoch ?? 0) + 1, owner: who.owner });
    }
  });
  const r = await commitAppend(catalog, ident, [], update.summary, { ...options, setProperties: update.properties, mergeManifests: false });
  // The snapshot found or made, not the table's head: a later claim by another process may be
  // on the head already, and then this one's data commits are fenced, as they must be.
  const recorded = decodePositions(who.topic, r.snapshot.summary[offsetsKey(who.groupId)] ?? '{}');
  const held = new Map<number, HeldPartition>();
  for (const p of gained.keys()) {
    const at = recorded.get(p);
    if (!at || at.owner !== who.owner) {
      throw new StreamError('METADATA_INVALID', `claim snapshot ${r.snapshot['snapshot-id']} of ${ident.name} does not record ${who.owner} as owner of ${who.topic}[${p}]`);
    }
    held.set(p, { epoch: at.epoch, next: at.next });
  }
  return { table: r.table, snapshot: r.snapshot, held };
}

/**
 * Appends `files` with the ranges they cover, fenced: every attempt requires each range's epoch
 * to be the table's and its first offset to be the table's next (partition-fence.ts). Throws
 * PARTITION_FENCED (nothing committed) when another process claimed one of them since.
 */
export function commitOwned(catalog: Catalog, ident: TableIdentifier, who: Claimant, files: readonly DataFile[], ranges: readonly OwnedRange[], options: RetryOptions = {}): Promise<CommitResult> {
  const seen = new Set<number>();
  for (const r of ranges) {
    if (seen.has(r.partition) || r.next < r.first) {
      throw new StreamError('PIPELINE_FAILED', `commit to ${ident.name}: range of ${who.topic}[${r.partition}] ${seen.has(r.partition) ? 'listed twice' : `ends (${r.next}) before it begins (${r.first})`}`);
    }
    seen.add(r.partition);
  }
  const fence: CommitRequirement = {
    type: 'assert-partition-epochs',
    positionKey: offsetsKey(who.groupId),
    topic: who.topic,
    owner: who.owner,
    partitions: ranges.map((r) => ({ partition: r.partition, epoch: r.epoch, first: r.first })),
  };
  const update = positionUpdate(who, (positions) => {
    for (const r of ranges) positions.set(r.partition, { next: r.next, epoch: r.epoch, owner: who.owner });
  });
  return commitAppend(catalog, ident, files, update.summary, { ...options, requirements: [fence], setProperties: update.properties });
}

/**
 * What is left of a commit once `fenced` partitions are dropped: the files that hold none of
 * their rows and the ranges of the partitions whose every file is kept. A partition that shared a
 * file with a dropped one (directly or through another) cannot go on with part of its rows: it is
 * in `replay`, to be read again from its `next`.
 */
export function dropFenced(files: readonly OwnedFile[], ranges: readonly OwnedRange[], fenced: Iterable<number>): { files: OwnedFile[]; ranges: OwnedRange[]; replay: number[] } {
  const dropped = new Set(fenced);
  const gone = new Set<number>(dropped);
  let kept = [...files];
  for (let changed = true; changed; ) {
    changed = false;
    const next: OwnedFile[] = [];
    for (const f of kept) {
      if (f.partitions.some((p) => gone.has(p))) {
        for (const p of f.partitions) if (!gone.has(p)) (gone.add(p), (changed = true));
      } else next.push(f);
    }
    kept = next;
  }
  return {
    files: kept,
    ranges: ranges.filter((r) => !gone.has(r.partition)),
    replay: ranges.filter((r) => gone.has(r.partition) && !dropped.has(r.partition)).map((r) => r.partition),
  };
}

/**
 * The partitions one process holds in one table, for its runner: `claim` on `assigned`,
 * `commit` each checkpoint, `release` on `revoked` / `lost`. A fenced commit releases the fenced
 * partitions here before it throws, so a zombie can never commit for them again, whatever the
 * caller does next.
 */
export class PartitionOwnership {
  private readonly claims = new Map<number, HeldPartition>();

  constructor(
    private readonly catalog: Catalog,
    readonly ident: TableIdentifier,
    readonly who: Claimant,
    private readonly options: RetryOptions = {},
  ) {}

  /** Held partitions: the epoch each was claimed at and the next offset committed for it. */
  get held(): ReadonlyMap<number, Readonly<HeldPartition>> {
    return new Map(this.claims);
  }

  /** Claims `gained` (partition → start offset when the table has none); returns where each resumes. */
  async claim(gained: ReadonlyMap<number, bigint>): Promise<Map<number, bigint>> {
    // An assignment that brought nothing new commits nothing.
    if (gained.size === 0) return new Map();
    const r = await claimPartitions(this.catalog, this.ident, this.who, gained, this.options);
    for (const [p, h] of r.held) this.claims.set(p, h);
    return new Map([...r.held].map(([p, h]) => [p, h.next]));
  }

  /**
   * Where each held partition resumes after a restart of the runner (its commit may have landed
   * or not: the table says). A partition the table shows held by this owner at the epoch claimed
   * resumes at the table's `next`; one it shows claimed by another owner, or at another epoch,
   * was taken: it is released here and returned in `fenced` (claimed again only when the group
   * assigns it anew, or two processes would take it from each other in turn).
   */
  resume(metadata: TableMetadata, partitions: Iterable<number>): { resumed: Map<number, bigint>; fenced: number[] } {
    const current = committedPosition(metadata, offsetsKey(this.who.groupId), EPOCH_KEY);
    const positions = current ? decodePositions(this.who.topic, current.offsets) : new Map();
    const resumed = new Map<number, bigint>();
    const fenced: number[] = [];
    for (const p of partitions) {
      const mine = this.claims.get(p);
      if (!mine) continue;
      const at = positions.get(p);
      if (at && at.owner === this.who.owner && at.epoch === mine.epoch) {
        this.claims.set(p, { epoch: mine.epoch, next: at.next });
        resumed.set(p, at.next);
      } else {
        this.claims.delete(p);
        fenced.push(p);
      }
    }
    return { resumed, fenced };
  }

  /** Forgets partitions (revoked or lost): nothing is committed for them any more. */
  release(partitions: Iterable<number>): void {
    for (const p of partitions) this.claims.delete(p);
  }

  /**
   * Commits `files` and moves each partition of `next` from its committed offset to the one
   * given. PARTITION_FENCED (details.partitions) for a partition another process claimed since,
   * or that this one no longer holds; then use `dropFenced` and commit the rest. Any other error
   * may leave the outcome unknown: restart from the table and claim again.
   */
  async commit(files: readonly OwnedFile[], next: ReadonlyMap<number, bigint>): Promise<CommitResult> {
    const name = `${this.ident.namespace}.${this.ident.name}`;
    const notHeld = [...next.keys()].filter((p) => !this.claims.has(p));
    if (notHeld.length > 0) {
      throw new StreamError('PARTITION_FENCED', `${name}: topic ${this.who.topic}: ${this.who.owner} does not hold partition ${notHeld.join(', ')} (never claimed, released, or fenced before)`, {
        retryable: false,
        details: { table: name, topic: this.who.topic, owner: this.who.owner, partitions: notHeld },
      });
    }
    for (const f of files) {
      const stray = f.partitions.filter((p) => !next.has(p));
      if (stray.length > 0) throw new StreamError('PIPELINE_FAILED', `${name}: data file ${f.file.filePath} holds rows of ${this.who.topic}[${stray.join(', ')}], which this commit does not cover`);
    }
    const ranges = [...next].map(([partition, n]) => ({ partition, epoch: this.claims.get(partition)!.epoch, first: this.claims.get(partition)!.next, next: n }));
    let r: CommitResult;
    try {
      r = await commitOwned(this.catalog, this.ident, this.who, files.map((f) => f.file), ranges, this.options);
    } catch (err) {
      if (isStreamError(err) && err.code === 'PARTITION_FENCED') this.release(fencedPartitions(err));
      throw err;
    }
    for (const x of ranges) this.claims.set(x.partition, { epoch: x.epoch, next: x.next });
    return r;
  }
}

/** The partitions a PARTITION_FENCED error names. */
export function fencedPartitions(err: StreamError): number[] {
  const p = err.details['partitions'];
  return Array.isArray(p) ? p.filter((x): x is number => typeof x === 'number') : [];
}
