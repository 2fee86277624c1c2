// Compaction, as Java's `RewriteDataFiles` bin-packs (the Parquet work itself in file-rewrite.ts): in each partition of the current default
// spec, data files smaller than `write.target-file-size-bytes` are read back and written again
// into files of that size, committed as one `replace` snapshot on `main` — the old files DELETED,
// the new ones ADDED, the same rows. Delete files are none here, so none are considered.
//
// Hazards:
// - The replace must never bring back rows another writer deleted, nor drop rows another writer
//   added: it commits only on the head it was built on (`assert-ref-snapshot-id` on `main`). On a
//   conflict it reloads and checks that every file it replaces is still live in the new head; if
//   so it rebuilds its manifests on that head (appends by others commute with it) and tries
//   again, else it gives up this round and deletes the files it wrote.
// - The new files are invisible until the commit: a crash before it leaves orphans (orphans.ts),
//   a crash after it leaves the old files to snapshot expiry. Rows are never in the table twice:
//   the old files leave and the new ones arrive in the same snapshot.
// - A lost answer (CATALOG_UNAVAILABLE) may have landed: the next attempt first looks for its
//   snapshot id in `main`'s ancestry.
// - The snapshot carries no `kafka.offsets.*` key: recovery walks past it to the pipeline's own.
// - Manifests written by others in format v1 carry no sequence numbers to keep; their files are
//   left alone.

import { randomBytes } from 'node:crypto';
import { StreamError, isStreamError } from '../errors.js';
import { avroHeader, decodeAvro, encodeAvro } from './avro.js';
import type { Catalog, CommitRequirement, LoadedTable, TableIdentifier } from './catalog.js';
import { findInAncestry, newSnapshotId } from './commit.js';
import type { DataFile } from './data-file-writer.js';
import type { FileRewriter, RewriteInput } from './file-rewrite.js';
import type { ManifestFile } from './manifest.js';
import { decodeManifestList, encodeManifest, encodeManifestList, partitionType, summarizePartitions } from './manifest.js';
import type { Snapshot, TableMetadata } from './metadata.js';
import { currentSchema, defaultSpec, mainSnapshot, withNewMainSnapshot } from './metadata.js';

const DEFAULT_TARGET = 512 * 1024 * 1024;

export type CompactStep = 'compact-files-written';

export interface CompactOptions {
  /** A partition is rewritten with at least this many small files (Java's min-input-files, 5)... */
  minInputFiles?: number;
  /**
   * ...or when its small files total at least this many bytes (Java's "enough content": more
   * than the target file size, the default here too), provided there are two or more.
   */
  minInputBytes?: number;
  /**
   * At most this many bytes and files are rewritten in one round (Java bounds a file group by
   * max-file-group-size-bytes, 100 GB): the rest waits for the next round, so one round never
   * holds the table's maintenance (and the memory it reads into) for long.
   */
  maxBytesPerRound?: number;
  maxFilesPerRound?: number;
  dryRun?: boolean;
  maxAttempts?: number;
  /** Who reads and writes the files (a worker thread, in the runtime); default: this thread. */
  rewriter?: FileRewriter;
  /** Called at the step (fault injection; tests run a rival writer there). */
  atStep?: (step: CompactStep) => void | Promise<void>;
}

export interface CompactResult {
  table: LoadedTable;
  /** Partitions rewritten (or, dry, to be). */
  partitions: number;
  replacedFiles: string[];
  addedFiles: string[];
  snapshotId?: bigint;
  /** Why nothing was committed though there was work (another writer replaced a file first). */
  gaveUp?: string;
}

type Entry = RewriteInput;

const keyOf = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x));

/** Live data-file entries of the head, from v2 manifests of `specId`. */
async function liveEntries(catalog: Catalog, head: Snapshot, specId: number): Promise<Entry[]> {
  const out: Entry[] = [];
  for (const m of await decodeManifestList(await catalog.io.read(head['manifest-list']))) {
    if (m.content !== 0 || m.partition_spec_id !== specId) continue;
    const bytes = await catalog.io.read(m.manifest_path);
    if (avroHeader(bytes).metadata['format-version'] !== '2') continue;
    for (const { record } of await decodeAvro(bytes)) {
      if (Number(record['status']) === 2) continue;
      const df = record['data_file'] as Record<string, unknown>;
      if (Number(df['content'] ?? 0) !== 0) continue;
      out.push({ path: String(df['file_path']), size: Number(df['file_size_in_bytes']), records: Number(df['record_count']), partitionKey: keyOf(df['partition']) });
    }
  }
  return out;
}

export interface CompactLimits {
  target: number;
  minInputFiles: number;
  minInputBytes: number;
  maxBytesPerRound: number;
  maxFilesPerRound: number;
}

/**
 * Groups of small files worth rewriting, per partition, in the order their partitions first
 * appear, cut to the round's caps: a group is cut short where the next file would pass a cap, and
 * dropped if fewer than two files are left of it (rewriting one file gains nothing).
 */
export function planCompaction<E extends Pick<Entry, 'size' | 'partitionKey'>>(entries: readonly E[], l: CompactLimits): E[][] {
  const groups = new Map<string, E[]>();
  for (const e of entries) {
    if (e.size >= l.target) continue;
    const g = groups.get(e.partitionKey) ?? [];
    g.push(e);
    groups.set(e.partitionKey, g);
  }
  const out: E[][] = [];
  let files = 0;
  let bytes = 0;
  for (const g of groups.values()) {
    const total = g.reduce((n, e) => n + e.size, 0);
    if (g.length < 2 || (g.length < l.minInputFiles && total < l.minInputBytes)) continue;
    const taken: E[] = [];
    for (const e of g) {
      if (files + taken.length + 1 > l.maxFilesPerRound || bytes + e.size > l.maxBytesPerRound) break;
      taken.push(e);
      bytes += e.size;
    }
    if (taken.length < 2) {
      bytes -= taken.reduce((n, e) => n + e.size, 0);
      continue;
    }
    files += taken.length;
    out.push(taken);
  }
  return out;
}

/** Bytes rewritten per round unless said otherwise: one target-sized file's worth. */
export const DEFAULT_MAX_BYTES_PER_ROUND = DEFAULT_TARGET;
export const DEFAULT_MAX_FILES_PER_ROUND = 1000;

function manifestDir(m: TableMetadata): string {
  return m.properties['write.metadata.path'] ?? `${m.location}/metadata`;
}

/** The head's manifests with the replaced files marked DELETED (others EXISTING), plus one of the added files. */
async function buildReplace(
  catalog: Catalog,
  base: TableMetadata,
  snapshotId: bigint,
  attempt: number,
  replaced: Map<string, Entry>,
  added: DataFile[],
): Promise<{ metadata: TableMetadata; snapshot: Snapshot; written: string[] }> {
  const parent = mainSnapshot(base)!;
  const sequenceNumber = base['last-sequence-number'] + 1;
  const seq = BigInt(sequenceNumber);
  const schema = currentSchema(base);
  const spec = defaultSpec(base);
  const dir = manifestDir(base);
  const written: string[] = [];
  const list: ManifestFile[] = [];

  const addedBytes = await encodeManifest(schema, spec, snapshotId, added);
  const addedPath = `${dir}/${snapshotId}-c${attempt}.avro`;
  await catalog.io.write(addedPath, addedBytes);
  written.push(addedPath);
  const addedRows = added.reduce((n, f) => n + f.recordCount, 0);
  list.push({
    manifest_path: addedPath, manifest_length: BigInt(addedBytes.length), partition_spec_id: spec['spec-id'], content: 0,
    sequence_number: seq, min_sequence_number: seq, added_snapshot_id: snapshotId,
    added_files_count: added.length, existing_files_count: 0, deleted_files_count: 0,
    added_rows_count: BigInt(addedRows), existing_rows_count: 0n, deleted_rows_count: 0n,
    partitions: summarizePartitions(partitionType(schema, spec), added), key_metadata: null,
  });

  let n = 0;
  for (const m of await decodeManifestList(await catalog.io.read(parent['manifest-list']))) {
    const bytes = m.content === 0 ? await catalog.io.read(m.manifest_path) : undefined;
    const records = bytes ? await decodeAvro(bytes) : [];
    if (!bytes || !records.some(({ record }) => replaced.has(String((record['data_file'] as Record<string, unknown>)['file_path'])))) {
      list.push(m);
      continue;
    }
    // Inherited values (null: "the manifest's") are written out, since the rewritten manifest
    // belongs to a new snapshot with a new sequence number (spec: "Sequence Number Inheritance").
    let existing = 0, deleted = 0, existingRows = 0n, deletedRows = 0n;
    let minSeq = seq;
    const out: Record<string, unknown>[] = [];
    for (const { record } of records) {
      if (Number(record['status']) === 2) continue;
      const df = record['data_file'] as Record<string, unknown>;
      const dataSeq = (record['sequence_number'] as bigint | null) ?? m.sequence_number;
      const fileSeq = (record['file_sequence_number'] as bigint | null) ?? m.sequence_number;
      const gone = replaced.has(String(df['file_path']));
      if (gone) {
        deleted++;
        deletedRows += BigInt(df['record_count'] as bigint);
      } else {
        existing++;
        existingRows += BigInt(df['record_count'] as bigint);
        if (dataSeq < minSeq) minSeq = dataSeq;
      }
      out.push({
        ...record,
        status: gone ? 2 : 0,
        snapshot_id: gone ? snapshotId : ((record['snapshot_id'] as bigint | null) ?? m.added_snapshot_id),
        sequence_number: dataSeq,
        file_sequence_number: fileSeq,
      });
    }
    const header = avroHeader(bytes);
    const rewritten = encodeAvro(header.schema, out, header.metadata);
    const path = `${dir}/${snapshotId}-c${attempt}-${n++}.avro`;
    await catalog.io.write(path, rewritten);
    written.push(path);
    list.push({
      ...m, manifest_path: path, manifest_length: BigInt(rewritten.length), sequence_number: seq, min_sequence_number: minSeq,
      added_snapshot_id: snapshotId, added_files_count: 0, existing_files_count: existing, deleted_files_count: deleted,
      added_rows_count: 0n, existing_rows_count: existingRows, deleted_rows_count: deletedRows,
    });
  }

  const listBytes = await encodeManifestList(list, { snapshotId, parentSnapshotId: parent['snapshot-id'], sequenceNumber: seq });
  const listPath = `${dir}/snap-${snapshotId}-${sequenceNumber}-${randomBytes(6).toString('hex')}.avro`;
  await catalog.io.write(listPath, listBytes);
  written.push(listPath);

  const gone = [...replaced.values()];
  const addedSize = added.reduce((s, f) => s + f.fileSizeInBytes, 0);
  const removedSize = gone.reduce((s, e) => s + e.size, 0);
  const summary: Snapshot['summary'] = {
    operation: 'replace',
    'added-data-files': String(added.length),
    'deleted-data-files': String(gone.length),
    'added-records': String(addedRows),
    'deleted-records': String(gone.reduce((s, e) => s + e.records, 0)),
    'added-files-size': String(addedSize),
    'removed-files-size': String(removedSize),
    'changed-partition-count': String(new Set(gone.map((e) => e.partitionKey)).size),
  };
  const p = parent.summary;
  const carry = (key: string, delta: number): void => {
    if (p[key] !== undefined && /^\d+$/.test(p[key]!)) summary[key] = String(Number(p[key]) + delta);
  };
  carry('total-data-files', added.length - gone.length);
  carry('total-records', 0);
  carry('total-files-size', addedSize - removedSize);
  for (const k of ['total-delete-files', 'total-position-deletes', 'total-equality-deletes']) carry(k, 0);

  const now = Math.max(Date.now(), base['last-updated-ms']);
  const snapshot: Snapshot = {
    'snapshot-id': snapshotId, 'parent-snapshot-id': parent['snapshot-id'], 'sequence-number': sequenceNumber,
    'timestamp-ms': now, 'manifest-list': listPath, summary, 'schema-id': schema['schema-id'],
  };
  const metadata = withNewMainSnapshot(base, snapshot);
  return { metadata, snapshot, written };
}

/** Bin-packs the small files of each partition of the table's current spec into one `replace` snapshot. */
export async function compactTable(catalog: Catalog, ident: TableIdentifier, options: CompactOptions = {}): Promise<CompactResult> {
  const first = await catalog.loadTable(ident);
  const head = mainSnapshot(first.metadata);
  if (!head) return { table: first, partitions: 0, replacedFiles: [], addedFiles: [] };
  const target = Number(first.metadata.properties['write.target-file-size-bytes'] ?? DEFAULT_TARGET);
  const groups = planCompaction(await liveEntries(catalog, head, first.metadata['default-spec-id']), {
    target,
    minInputFiles: options.minInputFiles ?? 5,
    minInputBytes: options.minInputBytes ?? target,
    maxBytesPerRound: options.maxBytesPerRound ?? DEFAULT_MAX_BYTES_PER_ROUND,
    maxFilesPerRound: options.maxFilesPerRound ?? DEFAULT_MAX_FILES_PER_ROUND,
  });
  if (options.dryRun || groups.length === 0) {
    return { table: first, partitions: groups.length, replacedFiles: groups.flat().map((e) => e.path), addedFiles: [] };
  }

  const replaced = new Map<string, Entry>();
  const added: DataFile[] = [];
  for (const g of groups) {
    let r;
    try {
      // Without a rewriter thread, here: parquet-wasm loads with the first rewrite, not with this module.
      r = options.rewriter ? await options.rewriter(first, g) : await (await import('./file-rewrite.js')).rewriteFiles(catalog.io, first, g);
    } catch (err) {
      // The round fails; what earlier groups wrote is never committed, so it goes now (a file the
      // failed group half wrote is left to orphan removal).
      for (const f of added) await catalog.io.delete(f.filePath).catch(() => {});
      throw err;
    }
    // A group left with one file gains nothing: its new file is dropped, its old one stays.
    if (r.replaced.length < 2) {
      for (const f of r.added) await catalog.io.delete(f.filePath);
      continue;
    }
    for (const e of r.replaced) replaced.set(e.path, e);
    added.push(...r.added);
  }
  const partitions = new Set([...replaced.values()].map((e) => e.partitionKey)).size;
  const result = { partitions, replacedFiles: [...replaced.keys()], addedFiles: added.map((f) => f.filePath) };
  if (replaced.size === 0) return { table: first, ...result, addedFiles: [] };
  await options.atStep?.('compact-files-written');

  const snapshotId = newSnapshotId();
  const maxAttempts = options.maxAttempts ?? 4;
  let lastError: unknown;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const base = attempt === 1 ? first : await catalog.loadTable(ident);
    if (findInAncestry(base.metadata, (s) => s['snapshot-id'] === snapshotId)) return { table: base, ...result, snapshotId };
    const baseHead = mainSnapshot(base.metadata);
    const live = baseHead && base.metadata['default-spec-id'] === first.metadata['default-spec-id'] ? new Set((await liveEntries(catalog, baseHead, base.metadata['default-spec-id'])).map((e) => e.path)) : new Set<string>();
    const lost = [...replaced.keys()].find((p) => !live.has(p));
    if (lost !== undefined || base.metadata['current-schema-id'] !== first.metadata['current-schema-id']) {
      for (const f of added) await catalog.io.delete(f.filePath);
      const why = lost !== undefined ? `${lost} is no longer live in the table` : 'the table schema changed';
      return { table: base, ...result, replacedFiles: [], addedFiles: [], gaveUp: `another commit changed what this compaction rewrote: ${why}` };
    }
    const next = await buildReplace(catalog, base.metadata, snapshotId, attempt, replaced, added);
    const requirements: CommitRequirement[] = [
      { type: 'assert-table-uuid', uuid: base.metadata['table-uuid'] },
      { type: 'assert-ref-snapshot-id', ref: 'main', snapshotId: baseHead!['snapshot-id'] },
    ];
    try {
      const table = await catalog.commit(base, next.metadata, requirements);
      return { table, ...result, snapshotId };
    } catch (err) {
      lastError = err;
      if (isStreamError(err) && err.code === 'COMMIT_CONFLICT') for (const p of next.written) await catalog.io.delete(p);
      if (!(isStreamError(err) && (err.code === 'COMMIT_CONFLICT' || err.code === 'CATALOG_UNAVAILABLE'))) throw err;
    }
  }
  throw new StreamError('COMMIT_RETRIES_EXHAUSTED', `compaction of ${ident.namespace}.${ident.name} did not commit after ${maxAttempts} attempts`, {
    cause: lastError,
    details: { ...ident, snapshotId: snapshotId.toString() },
  });
}
