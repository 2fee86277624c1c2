// Finding data files that no snapshot references: files of an epoch whose commit never
// happened (crash, failed commit, a pipeline restarted from its last committed epoch). They
// must never be committed later — their rows are replayed from the committed offsets — and
// may be deleted.
//
// S3 Tables storage refuses listing (the service removes unreferenced files as its own
// maintenance), so on that catalog this fails with STORAGE_FAILED.
//
// Hazard: a file another writer has just written and not yet committed looks exactly like an
// orphan. Only files older than `olderThanMs` (default: 1 day, longer than any commit takes)
// are reported; deleting a younger one could break that writer's commit.

import type { Catalog, TableIdentifier } from './catalog.js';
import { decodeAvro } from './avro.js';
import type { ListedFile } from './file-io.js';
import { decodeManifestList } from './manifest.js';

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
