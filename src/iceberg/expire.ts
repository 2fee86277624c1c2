// Snapshot expiry by the table's own properties, as Iceberg's Java `ExpireSnapshots` reads them:
//   history.expire.max-snapshot-age-ms   (default 5 days)  ancestors of a branch older than this go,
//   history.expire.min-snapshots-to-keep (default 1)       ...but each branch keeps this many,
//   history.expire.max-ref-age-ms        (default forever) tags and branches (never `main`) whose
//                                                          snapshot is older than this are removed;
// and a ref's own `max-snapshot-age-ms` / `min-snapshots-to-keep` / `max-ref-age-ms` win.
//
// One rule Java does not have: recovery (checkpoint-coordinator.ts) walks `main`'s ancestry back
// to the newest snapshot carrying each pipeline's `kafka.offsets.<group>` key, and the commit
// fence looks for the same snapshot. So every snapshot from `main`'s head down to the newest one
// of each group found in that ancestry is kept, whatever its age: expiry alone can never make a
// pipeline lose its position. The price: a group that stopped writing pins the history after its
// last snapshot until its key no longer appears in the ancestry.
//
// Hazards:
// - Files are deleted only after the commit removing their snapshots succeeded, and only those
//   that no snapshot left in the committed metadata reaches. A commit whose answer was lost
//   (CATALOG_UNAVAILABLE) deletes nothing: those files become orphans for orphans.ts.
// - A crash between the commit and the last delete leaves files no metadata references (orphans
//   too), never a live snapshot without its files: deletion goes data files, then manifests, then
//   manifest lists, each set computed before the first delete.
// - A reader still planning a query on an expired snapshot loses it, as with every Iceberg
//   engine's expiry; a writer building on `main` never does, since `main`'s head is kept.
// - A conflict (another commit landed meanwhile) reloads the table and plans again from scratch:
//   the plan depends on the head, so it is never replayed on a head it was not made for.

import { StreamError, isStreamError } from '../errors.js';
import type { Catalog, CommitRequirement, LoadedTable, TableIdentifier } from './catalog.js';
import { decodeAvro } from './avro.js';
import { decodeManifestList } from './manifest.js';
import type { FileIO } from './file-io.js';
import type { Snapshot, SnapshotRef, TableMetadata } from './metadata.js';
import { mainSnapshot } from './metadata.js';

export const OFFSETS_KEY_PREFIX = 'kafka.offsets.';
const DAY_MS = 86_400_000;

export interface ExpirePolicy {
  maxSnapshotAgeMs: number;
  minSnapshotsToKeep: number;
  /** Infinity: refs never age out. */
  maxRefAgeMs: number;
}

export const EXPIRE_DEFAULTS: ExpirePolicy = { maxSnapshotAgeMs: 5 * DAY_MS, minSnapshotsToKeep: 1, maxRefAgeMs: Infinity };

function whole(where: string, key: string, value: unknown, min: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new StreamError('CONFIG_INVALID', `${where}: ${key} = ${JSON.stringify(value)} is not a whole number ≥ ${min}`, {
      retryable: false,
      details: { property: key },
    });
  }
  return n;
}

/** The table's expiry properties, checked: a bad value is an error naming the table and property. */
export function expirePolicy(m: TableMetadata): ExpirePolicy {
  const p = m.properties;
  const where = `table ${m.location}`;
  const get = (key: string, fallback: number, min: number): number => (p[key] === undefined ? fallback : whole(where, key, p[key], min));
  return {
    maxSnapshotAgeMs: get('history.expire.max-snapshot-age-ms', EXPIRE_DEFAULTS.maxSnapshotAgeMs, 0),
    minSnapshotsToKeep: get('history.expire.min-snapshots-to-keep', EXPIRE_DEFAULTS.minSnapshotsToKeep, 1),
    maxRefAgeMs: get('history.expire.max-ref-age-ms', EXPIRE_DEFAULTS.maxRefAgeMs, 0),
  };
}

export interface ExpiryPlan {
  /** Snapshots leaving the metadata, oldest first. */
  expired: Snapshot[];
  /** Refs (branches or tags) that aged out. */
  removedRefs: string[];
  /** `base` without them; unchanged (same object) when nothing expires. */
  next: TableMetadata;
}

function ancestors(byId: Map<bigint, Snapshot>, head: Snapshot | undefined): Snapshot[] {
  const out: Snapshot[] = [];
  const seen = new Set<bigint>();
  for (let s = head; s && !seen.has(s['snapshot-id']); ) {
    out.push(s);
    seen.add(s['snapshot-id']);
    const parent = s['parent-snapshot-id'];
    s = parent === undefined || parent === null ? undefined : byId.get(parent);
  }
  return out;
}

/**
 * The part of `main`'s ancestry recovery needs: from the head down to the newest snapshot that
 * carries each `kafka.offsets.*` key present anywhere in that ancestry.
 */
export function recoveryChain(m: TableMetadata): Snapshot[] {
  const chain = ancestors(new Map(m.snapshots.map((s) => [s['snapshot-id'], s])), mainSnapshot(m));
  const keysOf = (s: Snapshot): string[] => Object.keys(s.summary).filter((k) => k.startsWith(OFFSETS_KEY_PREFIX));
  const wanted = new Set(chain.flatMap(keysOf));
  const found = new Set<string>();
  let end = 0;
  for (let i = 0; i < chain.length && found.size < wanted.size; i++) {
    for (const k of keysOf(chain[i]!)) {
      if (!found.has(k)) {
        found.add(k);
        end = i;
      }
    }
  }
  return wanted.size === 0 ? [] : chain.slice(0, end + 1);
}

/** Which snapshots and refs expire at `now` by `policy` (default: the table's properties). Pure. */
export function planExpiry(base: TableMetadata, now: number, policy: ExpirePolicy = expirePolicy(base)): ExpiryPlan {
  const byId = new Map(base.snapshots.map((s) => [s['snapshot-id'], s]));
  const refs: Record<string, SnapshotRef> = { ...base.refs };
  const main = mainSnapshot(base);
  if (!refs['main'] && main) refs['main'] = { 'snapshot-id': main['snapshot-id'], type: 'branch' };

  const removedRefs: string[] = [];
  for (const [name, ref] of Object.entries(refs)) {
    if (name === 'main') continue;
    const s = byId.get(ref['snapshot-id']);
    const maxAge = typeof ref['max-ref-age-ms'] === 'number' ? ref['max-ref-age-ms'] : policy.maxRefAgeMs;
    if (s && now - s['timestamp-ms'] > maxAge) {
      removedRefs.push(name);
      delete refs[name];
    }
  }

  const retained = new Set<bigint>();
  const inSomeBranch = new Set<bigint>();
  for (const ref of Object.values(refs)) {
    const head = byId.get(ref['snapshot-id']);
    if (!head) continue;
    if (ref.type === 'tag') {
      retained.add(head['snapshot-id']);
      continue;
    }
    const minKeep = typeof ref['min-snapshots-to-keep'] === 'number' ? ref['min-snapshots-to-keep'] : policy.minSnapshotsToKeep;
    const maxAge = typeof ref['max-snapshot-age-ms'] === 'number' ? ref['max-snapshot-age-ms'] : policy.maxSnapshotAgeMs;
    let kept = 0;
    let keeping = true;
    for (const s of ancestors(byId, head)) {
      inSomeBranch.add(s['snapshot-id']);
      // As Java: keep ancestors while under the count or younger than the age; the first one
      // that is neither ends the branch's history.
      if (keeping && (kept < minKeep || now - s['timestamp-ms'] <= maxAge)) {
        retained.add(s['snapshot-id']);
        kept++;
      } else keeping = false;
    }
  }
  // Snapshots on no branch (a rolled-back head, an orphaned commit) go by age alone.
  for (const s of base.snapshots) {
    if (!inSomeBranch.has(s['snapshot-id']) && now - s['timestamp-ms'] <= policy.maxSnapshotAgeMs) retained.add(s['snapshot-id']);
  }
  for (const s of recoveryChain(base)) retained.add(s['snapshot-id']);

  const expired = base.snapshots.filter((s) => !retained.has(s['snapshot-id'])).sort((a, b) => a['timestamp-ms'] - b['timestamp-ms']);
  if (expired.length === 0 && removedRefs.length === 0) return { expired, removedRefs, next: base };

  // As Java's TableMetadata: an entry of a removed snapshot drops the history before it too, so
  // the log stays a contiguous history of `main`.
  const log: TableMetadata['snapshot-log'] = [];
  for (const e of base['snapshot-log']) {
    if (retained.has(e['snapshot-id'])) log.push(e);
    else log.length = 0;
  }
  const keepStat = (list: unknown): unknown =>
    Array.isArray(list) ? list.filter((x: { 'snapshot-id'?: bigint | number }) => x['snapshot-id'] === undefined || retained.has(BigInt(x['snapshot-id']))) : list;
  const next: TableMetadata = {
    ...base,
    snapshots: base.snapshots.filter((s) => retained.has(s['snapshot-id'])),
    'snapshot-log': log,
    refs: Object.fromEntries(Object.entries(base.refs).filter(([name]) => !removedRefs.includes(name))),
  };
  if (base['statistics'] !== undefined) next['statistics'] = keepStat(base['statistics']);
  if (base['partition-statistics'] !== undefined) next['partition-statistics'] = keepStat(base['partition-statistics']);
  return { expired, removedRefs, next };
}

export interface UnreachableFiles {
  dataFiles: string[];
  manifests: string[];
  manifestLists: string[];
  statisticsFiles: string[];
}

/** Every path named by a manifest's entries; `liveOnly` skips DELETED (status 2) entries. */
export async function manifestEntryPaths(io: FileIO, manifestPath: string, liveOnly: boolean): Promise<string[]> {
  const out: string[] = [];
  for (const { record } of await decodeAvro(await io.read(manifestPath))) {
    if (liveOnly && Number(record['status']) === 2) continue;
    const df = record['data_file'] as { file_path?: string } | undefined;
    if (df?.file_path) out.push(df.file_path);
  }
  return out;
}

function statisticsPaths(m: TableMetadata): Set<string> {
  const out = new Set<string>();
  for (const key of ['statistics', 'partition-statistics']) {
    const list = m[key];
    if (!Array.isArray(list)) continue;
    for (const s of list as Array<Record<string, unknown>>) {
      const p = s['statistics-path'];
      if (typeof p === 'string') out.add(p);
    }
  }
  return out;
}

/**
 * The files that `before` reaches and `after` does not: what may be deleted once `after` is
 * the committed metadata. Data files count as reached by `after` when any of its manifests
 * lists them live (Java's ReachableFileCleanup does the same).
 */
export async function unreachableFiles(io: FileIO, before: TableMetadata, after: TableMetadata): Promise<UnreachableFiles> {
  const keptIds = new Set(after.snapshots.map((s) => s['snapshot-id']));
  const keptLists = new Set(after.snapshots.map((s) => s['manifest-list']));
  const goneLists = [...new Set(before.snapshots.filter((s) => !keptIds.has(s['snapshot-id'])).map((s) => s['manifest-list']))].filter((l) => !keptLists.has(l));

  const keptManifests = new Set<string>();
  for (const list of keptLists) for (const m of await decodeManifestList(await io.read(list))) keptManifests.add(m.manifest_path);
  const goneManifests = new Set<string>();
  for (const list of goneLists) {
    for (const m of await decodeManifestList(await io.read(list))) if (!keptManifests.has(m.manifest_path)) goneManifests.add(m.manifest_path);
  }
  const liveData = new Set<string>();
  if (goneManifests.size > 0) for (const m of keptManifests) for (const p of await manifestEntryPaths(io, m, true)) liveData.add(p);
  const goneData = new Set<string>();
  for (const m of goneManifests) for (const p of await manifestEntryPaths(io, m, false)) if (!liveData.has(p)) goneData.add(p);

  const keptStats = statisticsPaths(after);
  return {
    dataFiles: [...goneData],
    manifests: [...goneManifests],
    manifestLists: goneLists,
    statisticsFiles: [...statisticsPaths(before)].filter((p) => !keptStats.has(p)),
  };
}

/** Steps of an expiry where a fault can be injected (faults.ts `kill-at`). */
export type ExpireStep = 'expire-before-commit' | 'expire-deleting';

export interface ExpireOptions {
  now?: number;
  /** Plan and list what would go, change nothing. */
  dryRun?: boolean;
  /** Attempts in all when other commits conflict (default 4). */
  maxAttempts?: number;
  atStep?: (step: ExpireStep) => void;
}

export interface ExpireResult {
  table: LoadedTable;
  expiredSnapshots: bigint[];
  removedRefs: string[];
  /** Deleted (or, dry, to be deleted) files. */
  files: UnreachableFiles;
  /** Files whose delete failed: left for orphan removal. */
  deleteFailures: number;
}

const EMPTY: UnreachableFiles = { dataFiles: [], manifests: [], manifestLists: [], statisticsFiles: [] };

/**
 * Expires the table's snapshots by its properties, committed through the catalog's
 * compare-and-swap (`main` still where it was planned, the same table), then deletes the files
 * only the expired snapshots reached. Retries a conflict by planning again on the new head.
 */
export async function expireSnapshots(catalog: Catalog, ident: TableIdentifier, options: ExpireOptions = {}): Promise<ExpireResult> {
  const maxAttempts = options.maxAttempts ?? 4;
  for (let attempt = 1; ; attempt++) {
    const base = await catalog.loadTable(ident);
    const now = options.now ?? Date.now();
    const plan = planExpiry(base.metadata, now);
    const result = { expiredSnapshots: plan.expired.map((s) => s['snapshot-id']), removedRefs: plan.removedRefs, deleteFailures: 0 };
    if (plan.next === base.metadata) return { table: base, ...result, files: EMPTY };
    if (options.dryRun) return { table: base, ...result, files: await unreachableFiles(catalog.io, base.metadata, plan.next) };

    const requirements: CommitRequirement[] = [
      { type: 'assert-table-uuid', uuid: base.metadata['table-uuid'] },
      { type: 'assert-ref-snapshot-id', ref: 'main', snapshotId: base.metadata.refs['main']?.['snapshot-id'] ?? null },
    ];
    options.atStep?.('expire-before-commit');
    let committed: LoadedTable;
    try {
      committed = await catalog.commit(base, plan.next, requirements);
    } catch (err) {
      if (isStreamError(err) && err.code === 'COMMIT_CONFLICT' && attempt < maxAttempts) continue;
      throw err;
    }
    // What actually landed decides what goes: a REST server applies the change to its own head.
    const files = await unreachableFiles(catalog.io, base.metadata, committed.metadata);
    let deleteFailures = 0;
    const order = [files.dataFiles, files.manifests, files.manifestLists, files.statisticsFiles];
    let done = 0;
    const total = order.reduce((n, l) => n + l.length, 0);
    for (const list of order) {
      for (const path of list) {
        if (done === Math.floor(total / 2)) options.atStep?.('expire-deleting');
        try {
          await catalog.io.delete(path);
        } catch {
          deleteFailures++;
        }
        done++;
      }
    }
    return { table: committed, ...result, files, deleteFailures };
  }
}
