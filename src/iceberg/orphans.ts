// Finding files that no metadata references: data files of an epoch whose commit never
// happened (crash, failed commit, a pipeline restarted from its last committed epoch), manifests
// and manifest lists of a commit attempt that lost, files an expiry crashed before deleting.
// Data files must never be committed later — their rows are replayed from the committed
// offsets — and every such file may be deleted (Java's DeleteOrphanFiles).
//
// S3 Tables storage refuses listing (the service removes unreferenced files as its own
// maintenance), so on that catalog this fails with STORAGE_FAILED.
//
// Hazard: a file another writer has just written and not yet committed looks exactly like an
// orphan. Only files older than `olderThanMs` (default: 1 day, longer than any commit takes)
// are reported; deleting a younger one could break that writer's commit.

import type { Catalog, LoadedTable, TableIdentifier } from './catalog.js';
import { decodeAvro } from './avro.js';
import { manifestEntryPaths } from './expire.js';
import type { ListedFile } from './file-io.js';
import { decodeManifestList } from './manifest.js';

/** The safety age of `maintain`'s orphan removal: far longer than any write-to-commit takes. */
export const ORPHAN_MIN_AGE_MS = 3 * 86_400_000;

/** Paths of every data file referenced by any snapshot still in the table's metadata. */
export async function referencedDataFiles(catalog: Catalog, ident: TableIdentifier): Promise<Set<string>> {
  const { metadata } = await catalog.loadTable(ident);
  const manifests = new Set<string>();
  for (const s of metadata.snapshots) {
    for (const m of await decodeManifestList(await catalog.io.read(s['manifest-list']))) manifests.add(m.manifest_path);
  }
  const out = new Set<string>();
  for (const path of manifests) {
    for (const { record } of await decodeAvro(await catalog.io.read(path))) {
      const df = record['data_file'] as { file_path?: string } | undefined;
      if (df?.file_path) out.add(df.file_path);
    }
  }
  return out;
}

/** Data files under the table's `data/` directory that no snapshot references, oldest first. */
export async function findOrphanDataFiles(
  catalog: Catalog,
  ident: TableIdentifier,
  options: { olderThanMs?: number; now?: number } = {},
): Promise<ListedFile[]> {
  const { metadata } = await catalog.loadTable(ident);
  const cutoff = (options.now ?? Date.now()) - (options.olderThanMs ?? 86_400_000);
  const listed = await catalog.io.list(`${metadata.location}/data`);
  const referenced = await referencedDataFiles(catalog, ident);
  return listed.filter((f) => !referenced.has(f.uri) && f.lastModifiedMs <= cutoff).sort((a, b) => a.lastModifiedMs - b.lastModifiedMs);
}

/**
 * Every file the table's metadata names: the current and previous metadata files, each
 * snapshot's manifest list, manifests and data files (DELETED entries too: a reader of an older
 * manifest may still open them), statistics files.
 */
export async function referencedFiles(catalog: Catalog, table: LoadedTable): Promise<Set<string>> {
  const m = table.metadata;
  const out = new Set<string>([table.metadataLocation, ...m['metadata-log'].map((e) => e['metadata-file'])]);
  const manifests = new Set<string>();
  for (const s of m.snapshots) {
    out.add(s['manifest-list']);
    for (const mf of await decodeManifestList(await catalog.io.read(s['manifest-list']))) manifests.add(mf.manifest_path);
  }
  for (const path of manifests) {
    out.add(path);
    for (const p of await manifestEntryPaths(catalog.io, path, false)) out.add(p);
  }
  for (const key of ['statistics', 'partition-statistics']) {
    const list = m[key];
    if (Array.isArray(list)) for (const s of list as Array<Record<string, unknown>>) if (typeof s['statistics-path'] === 'string') out.add(s['statistics-path']);
  }
  return out;
}

/**
 * Files anywhere under the table's location that its metadata does not name and that are
 * older than `olderThanMs` (default 3 days), oldest first. The directory is listed before the
 * metadata is loaded: a file committed in between is then in the metadata, never taken for an
 * orphan. `version-hint.text` (the Hadoop catalog's pointer) is never one.
 */
export async function findOrphanFiles(
  catalog: Catalog,
  ident: TableIdentifier,
  options: { olderThanMs?: number; now?: number } = {},
): Promise<ListedFile[]> {
  const first = await catalog.loadTable(ident);
  const root = `${first.metadata.location}/`;
  const listed = (await catalog.io.list(root)).filter((f) => f.uri.startsWith(root));
  const table = await catalog.loadTable(ident);
  const referenced = await referencedFiles(catalog, table);
  const cutoff = (options.now ?? Date.now()) - (options.olderThanMs ?? ORPHAN_MIN_AGE_MS);
  return listed
    .filter((f) => !referenced.has(f.uri) && f.lastModifiedMs <= cutoff && !f.uri.endsWith('/version-hint.text'))
    .sort((a, b) => a.lastModifiedMs - b.lastModifiedMs);
}
