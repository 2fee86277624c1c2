// Reading and writing a table's metadata files, for every catalog implementation: the catalog
// (catalog.ts) records which file is current; these helpers write the next one beside it.

import type { FileIO } from './file-io.js';
import type { TableMetadata } from './metadata.js';
import { nextMetadataLocation, parseTableMetadata, serializeTableMetadata, withMetadataLog } from './metadata.js';

export async function readMetadataFile(io: FileIO, location: string): Promise<TableMetadata> {
  const bytes = await io.read(location);
  return parseTableMetadata(new TextDecoder().decode(bytes), location);
}

/** Writes the metadata that follows `base` (with `base` in its metadata log); returns its location. */
export async function writeNextMetadata(io: FileIO, next: TableMetadata, baseLocation: string | undefined): Promise<{ location: string; metadata: TableMetadata }> {
  const metadata = withMetadataLog(next, baseLocation);
  const location = nextMetadataLocation(metadata, baseLocation);
  await io.write(location, new TextEncoder().encode(serializeTableMetadata(metadata)));
  return { location, metadata };
}

/**
 * After a successful commit from `base` to `committed`: deletes the metadata files that left the
 * metadata log, when `write.metadata.delete-after-commit.enabled` says so (Java's
 * `deleteRemovedMetadataFiles`). The table then keeps at most `write.metadata.previous-versions-max`
 * previous metadata files besides the current one. A file that cannot be deleted stays: it is
 * referenced by nothing, and orphan removal finds it.
 */
export async function deleteRemovedMetadataFiles(io: FileIO, base: TableMetadata, committed: TableMetadata): Promise<void> {
  if ((committed.properties['write.metadata.delete-after-commit.enabled'] ?? 'false').toLowerCase() !== 'true') return;
  const kept = new Set(committed['metadata-log'].map((e) => e['metadata-file']));
  for (const e of base['metadata-log']) {
    if (!kept.has(e['metadata-file'])) await io.delete(e['metadata-file']).catch(() => {});
  }
}
