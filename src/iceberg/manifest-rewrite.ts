// Rewriting the current snapshot's data manifests, as Java's `RewriteManifests` does (the core
// `BaseRewriteManifests` driven as Spark's `RewriteManifestsSparkAction` drives it): the live
// entries of every data manifest of a partition spec are sorted by partition and written again
// into manifests of `commit.manifest.target-size-bytes` (8 MiB), as EXISTING entries that keep
// their snapshot ids and sequence numbers. The commit is a `replace` snapshot that adds and
// removes no data file: the same files, fewer manifests, clustered so a reader prunes by
// partition. Delete manifests are kept as they are (this runtime writes none).
//
// Where this differs from Java: the output manifest count is planned from the input manifests'
// sizes (Java rolls a writer at the target size); a spec whose manifests are already no more
// than that count and hold no DELETED entries is left alone, so a second run changes nothing; a
// new manifest's partition summary is the union of its source manifests' summaries (valid
// bounds, possibly wider than Java's, which computes them from the entries).
//
// Hazards:
// - A concurrent append must never be lost: the snapshot commits only on the head it was built
//   on (`assert-ref-snapshot-id` on `main`); on a conflict it is built again from the new head,
//   whose manifests include the other writer's.
// - A lost answer (CATALOG_UNAVAILABLE) may have landed: the next attempt first looks for its
//   snapshot id in `main`'s ancestry, and the files of that attempt are not deleted.
// - The manifests replaced are still read by older snapshots: snapshot expiry removes them.
// - The snapshot carries no `kafka.offsets.*` key: recovery walks past it to the pipeline's own.

import { randomBytes } from 'node:crypto';
import { StreamError, isStreamError } from '../errors.js';
import type { Catalog, CommitRequirement, LoadedTable, TableIdentifier } from './catalog.js';
import { findInAncestry, newSnapshotId } from './commit.js';
import type { ManifestEntry } from './manifest-entries.js';
import { ENTRY_DELETED, ENTRY_EXISTING, decodeManifestEntries, encodeManifestEntries } from './manifest-entries.js';
import { manifestMergeSettings, schemaFor, unionPartitionSummaries } from './manifest-merge.js';
import type { ManifestFile } from './manifest.js';
import { decodeManifestList, encodeManifestList, partitionType } from './manifest.js';
import type { Snapshot, TableMetadata } from './metadata.js';
import { mainSnapshot, withNewMainSnapshot } from './metadata.js';

export type RewriteManifestsStep = 'manifests-written';

export interface RewriteManifestsOptions {
  dryRun?: boolean;
  maxAttempts?: number;
  /** Called at the step: the new manifests and list written, not committed (fault injection). */
  atStep?: (step: RewriteManifestsStep) => void | Promise<void>;
}

export interface RewriteManifestsResult {
  table: LoadedTable;
  /** Data manifests replaced (or, dry, to be). */
  replaced: string[];
  /** How many manifests replace them (or, dry, would). */
  created: number;
  /** Manifests of the head left as they are. */
  kept: number;
  snapshotId?: bigint;
}

interface Plan {
  /** Per spec to rewrite: its manifests and how many manifests they become. */
  groups: Array<{ specId: number; manifests: ManifestFile[]; into: number }>;
  kept: ManifestFile[];
}

function planRewrite(list: readonly ManifestFile[], target: number): Plan {
  const bySpec = new Map<number, ManifestFile[]>();
  const kept: ManifestFile[] = [];
  for (const m of list) {
    if (m.content !== 0) kept.push(m);
    else bySpec.set(m.partition_spec_id, [...(bySpec.get(m.partition_spec_id) ?? []), m]);
  }
  const groups: Plan['groups'] = [];
  for (const [specId, manifests] of bySpec) {
    const bytes = manifests.reduce((n, m) => n + Number(m.manifest_length), 0);
    const into = Math.max(1, Math.ceil(bytes / Math.max(1, target)));
    const hasDeleted = manifests.some((m) => m.deleted_files_count > 0);
    if (manifests.length <= into && !hasDeleted) kept.push(...manifests);
    else groups.push({ specId, manifests, into });
  }
  return { groups, kept };
}

const partitionKey = (e: ManifestEntry): string =>
  JSON.stringify(e.dataFile['partition'], (_k, x) => (typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x));

async function buildRewrite(
  catalog: Catalog,
  base: TableMetadata,
  plan: Plan,
  snapshotId: bigint,
  attempt: number,
): Promise<{ metadata: TableMetadata; written: string[]; created: number }> {
  const parent = mainSnapshot(base)!;
  const sequenceNumber = base['last-sequence-number'] + 1;
  const seq = BigInt(sequenceNumber);
  const dir = base.properties['write.metadata.path'] ?? `${base.location}/metadata`;
  const written: string[] = [];
  const list: ManifestFile[] = [];
  let entriesProcessed = 0;
  let replacedCount = 0;
  for (const g of plan.groups) {
    const spec = base['partition-specs'].find((s) => s['spec-id'] === g.specId);
    if (!spec) throw new StreamError('METADATA_INVALID', `manifest of partition spec ${g.specId} has no spec in the table metadata`, { details: { specId: g.specId } });
    const schema = schemaFor(base, spec);
    const pt = partitionType(schema, spec);
    const entries: Array<{ entry: ManifestEntry; from: ManifestFile }> = [];
    for (const m of g.manifests) {
      for (const e of await decodeManifestEntries(await catalog.io.read(m.manifest_path), m, pt)) {
        // A DELETED entry is history of the snapshot that wrote it: not a live file.
        if (e.status !== ENTRY_DELETED) entries.push({ entry: { ...e, status: ENTRY_EXISTING }, from: m });
      }
    }
    replacedCount += g.manifests.length;
    entriesProcessed += entries.length;
    if (entries.length === 0) continue;
    // Clustered by partition, so each new manifest spans few partitions; stable within one.
    const keyed = entries.map((x) => ({ ...x, key: partitionKey(x.entry) }));
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const per = Math.ceil(keyed.length / g.into);
    for (let i = 0; i < keyed.length; i += per) {
      const chunk = keyed.slice(i, i + per);
      const bytes = encodeManifestEntries(schema, spec, chunk.map((x) => x.entry), snapshotId);
      const path = `${dir}/${snapshotId}-r${attempt}-${written.length}.avro`;
      await catalog.io.write(path, bytes);
      written.push(path);
      let minSeq = seq;
      for (const { entry } of chunk) if (entry.sequenceNumber !== null && entry.sequenceNumber < minSeq) minSeq = entry.sequenceNumber;
      const rows = chunk.reduce((n, x) => n + BigInt(x.entry.dataFile['record_count'] as bigint), 0n);
      list.push({
        manifest_path: path, manifest_length: BigInt(bytes.length), partition_spec_id: g.specId, content: 0,
        sequence_number: seq, min_sequence_number: minSeq, added_snapshot_id: snapshotId,
        added_files_count: 0, existing_files_count: chunk.length, deleted_files_count: 0,
        added_rows_count: 0n, existing_rows_count: rows, deleted_rows_count: 0n,
        partitions: unionPartitionSummaries(pt.fields.map((f) => f.type), [...new Set(chunk.map((x) => x.from))]),
        key_metadata: null,
      });
    }
  }
  const created = list.length;
  list.push(...plan.kept);

  const listBytes = await encodeManifestList(list, { snapshotId, parentSnapshotId: parent['snapshot-id'], sequenceNumber: seq });
  const listPath = `${dir}/snap-${snapshotId}-${sequenceNumber}-${randomBytes(6).toString('hex')}.avro`;
  await catalog.io.write(listPath, listBytes);
  written.push(listPath);

  // Java's summary for a manifest rewrite; the totals are the parent's, since no file changes.
  const summary: Snapshot['summary'] = {
    operation: 'replace',
    'manifests-created': String(created),
    'manifests-kept': String(plan.kept.length),
    'manifests-replaced': String(replacedCount),
    'entries-processed': String(entriesProcessed),
  };
  for (const [k, v] of Object.entries(parent.summary)) if (k.startsWith('total-')) summary[k] = v;

  const now = Math.max(Date.now(), base['last-updated-ms']);
  const snapshot: Snapshot = {
    'snapshot-id': snapshotId, 'parent-snapshot-id': parent['snapshot-id'], 'sequence-number': sequenceNumber,
    'timestamp-ms': now, 'manifest-list': listPath, summary, 'schema-id': base['current-schema-id'],
  };
  const metadata = withNewMainSnapshot(base, snapshot);
  return { metadata, written, created };
}

/** Rewrites the data manifests of `main`'s head into manifests of the target size, as one `replace` snapshot. */
export async function rewriteManifests(catalog: Catalog, ident: TableIdentifier, options: RewriteManifestsOptions = {}): Promise<RewriteManifestsResult> {
  const snapshotId = newSnapshotId();
  const maxAttempts = options.maxAttempts ?? 4;
  let lastError: unknown;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const base = await catalog.loadTable(ident);
    if (findInAncestry(base.metadata, (s) => s['snapshot-id'] === snapshotId)) {
      const s = base.metadata.snapshots.find((x) => x['snapshot-id'] === snapshotId)!;
      return { table: base, replaced: [], created: Number(s.summary['manifests-created'] ?? 0), kept: Number(s.summary['manifests-kept'] ?? 0), snapshotId };
    }
    const head = mainSnapshot(base.metadata);
    if (!head) return { table: base, replaced: [], created: 0, kept: 0 };
    const target = manifestMergeSettings(base.metadata.properties).targetSizeBytes;
    const plan = planRewrite(await decodeManifestList(await catalog.io.read(head['manifest-list'])), target);
    const replaced = plan.groups.flatMap((g) => g.manifests.map((m) => m.manifest_path));
    if (plan.groups.length === 0) return { table: base, replaced: [], created: 0, kept: plan.kept.length };
    if (options.dryRun) return { table: base, replaced, created: plan.groups.reduce((n, g) => n + g.into, 0), kept: plan.kept.length };
    const next = await buildRewrite(catalog, base.metadata, plan, snapshotId, attempt);
    await options.atStep?.('manifests-written');
    const requirements: CommitRequirement[] = [
      { type: 'assert-table-uuid', uuid: base.metadata['table-uuid'] },
      { type: 'assert-ref-snapshot-id', ref: 'main', snapshotId: head['snapshot-id'] },
    ];
    try {
      const table = await catalog.commit(base, next.metadata, requirements);
      return { table, replaced, created: next.created, kept: plan.kept.length, snapshotId };
    } catch (err) {
      lastError = err;
      // Only a refused commit is known not to have landed; its files are referenced by nothing.
      if (isStreamError(err) && err.code === 'COMMIT_CONFLICT') for (const p of next.written) await catalog.io.delete(p);
      if (!(isStreamError(err) && (err.code === 'COMMIT_CONFLICT' || err.code === 'CATALOG_UNAVAILABLE'))) throw err;
    }
  }
  throw new StreamError('COMMIT_RETRIES_EXHAUSTED', `manifest rewrite of ${ident.namespace}.${ident.name} did not commit after ${maxAttempts} attempts`, {
    cause: lastError,
    details: { ...ident, snapshotId: snapshotId.toString() },
  });
}

