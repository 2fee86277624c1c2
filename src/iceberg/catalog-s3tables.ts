// AWS S3 Tables as the catalog: the service keeps each table's current metadata location and a
// version token; files live in the table's own S3 location (`warehouseLocation`). A commit is
// UpdateTableMetadataLocation with the token we read: the service swaps only if the token is
// still current, else answers ConflictException (another writer, or S3 Tables' own
// maintenance such as compaction, committed first) — a retryable COMMIT_CONFLICT, which is
// nevertheless no proof that our swap did not happen (see `commit`).
// Credentials come from the AWS SDK's default provider chain.

import {
  ConflictException,
  CreateNamespaceCommand,
  CreateTableCommand,
  GetTableMetadataLocationCommand,
  NotFoundException,
  S3TablesClient,
  UpdateTableMetadataLocationCommand,
} from '@aws-sdk/client-s3tables';
import type { CatalogConfig } from '../config/types.js';
import { StreamError } from '../errors.js';
import type { Catalog, LoadedTable, TableIdentifier } from './catalog.js';
import { deleteRemovedMetadataFiles, readMetadataFile, writeNextMetadata } from './metadata-file.js';
import type { FileIO } from './file-io.js';
import { fileIOFor } from './file-io.js';
import type { TableMetadata } from './metadata.js';

type S3TablesCatalogConfig = Extract<CatalogConfig, { type: 's3tables' }>;

function isConflict(err: unknown): boolean {
  return err instanceof ConflictException || (err as { name?: string } | null)?.name === 'ConflictException';
}
function isBadRequest(err: unknown): boolean {
  return (err as { name?: string } | null)?.name === 'BadRequestException';
}
function isNotFound(err: unknown): boolean {
  return err instanceof NotFoundException || (err as { name?: string } | null)?.name === 'NotFoundException';
}

function unavailable(what: string, err: unknown): StreamError {
  return new StreamError('CATALOG_UNAVAILABLE', `S3 Tables: ${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

export class S3TablesCatalog implements Catalog {
  readonly name: string;
  readonly io: FileIO;
  readonly client: S3TablesClient;
  private readonly bucketArn: string;

  constructor(config: S3TablesCatalogConfig, io?: FileIO) {
    this.name = config.name;
    this.bucketArn = config.warehouse;
    this.client = new S3TablesClient({ region: config.region, ...(config.endpoint ? { endpoint: config.endpoint } : {}) });
    this.io = io ?? fileIOFor(config);
  }

  async createNamespace(namespace: string): Promise<void> {
    try {
      await this.client.send(new CreateNamespaceCommand({ tableBucketARN: this.bucketArn, namespace: [namespace] }));
    } catch (err) {
      if (isConflict(err)) return;
      throw unavailable(`creating namespace ${namespace}`, err);
    }
  }

  private async location(ident: TableIdentifier): Promise<{ versionToken: string; metadataLocation?: string | undefined; warehouseLocation: string } | undefined> {
    try {
      const out = await this.client.send(new GetTableMetadataLocationCommand({ tableBucketARN: this.bucketArn, namespace: ident.namespace, name: ident.name }));
      return { versionToken: out.versionToken!, metadataLocation: out.metadataLocation, warehouseLocation: out.warehouseLocation! };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw unavailable(`loading ${ident.namespace}.${ident.name}`, err);
    }
  }

  async loadTable(ident: TableIdentifier): Promise<LoadedTable> {
    const loc = await this.location(ident);
    if (!loc?.metadataLocation) {
      throw new StreamError('TABLE_NOT_FOUND', `table ${ident.namespace}.${ident.name} does not exist in ${this.bucketArn}`, { details: { ...ident } });
    }
    const metadata = await readMetadataFile(this.io, loc.metadataLocation);
    return { ident, metadata, metadataLocation: loc.metadataLocation, versionToken: loc.versionToken };
  }

  async createTable(ident: TableIdentifier, build: (location: string) => TableMetadata): Promise<{ table: LoadedTable; created: boolean }> {
    let loc = await this.location(ident);
    if (!loc) {
      try {
        await this.client.send(new CreateTableCommand({ tableBucketARN: this.bucketArn, namespace: ident.namespace, name: ident.name, format: 'ICEBERG' }));
      } catch (err) {
        // ConflictException: another process created it first; go on with theirs.
        if (!isConflict(err)) {
          if (isNotFound(err)) {
            throw new StreamError('NAMESPACE_NOT_FOUND', `namespace ${ident.namespace} does not exist in ${this.bucketArn}`, { cause: err });
          }
          throw unavailable(`creating ${ident.namespace}.${ident.name}`, err);
        }
      }
      loc = await this.location(ident);
      if (!loc) throw unavailable(`creating ${ident.namespace}.${ident.name}`, new Error('table vanished after creation'));
    }
    // The table exists in the service but has no metadata yet: write its first version. Two
    // creators may both get here; the version token lets exactly one of them set it. A table
    // dropped and created again between the location's read and the write has another
    // warehouse location, which the service refuses (BadRequest): read it again, a few times.
    for (let attempt = 1; ; attempt++) {
      if (loc.metadataLocation) return { table: await this.loadTable(ident), created: false };
      const location = loc.warehouseLocation.replace(/\/+$/, '');
      const { location: metadataLocation, metadata } = await writeNextMetadata(this.io, build(location), undefined);
      try {
        const out = await this.client.send(
          new UpdateTableMetadataLocationCommand({
            tableBucketARN: this.bucketArn,
            namespace: ident.namespace,
            name: ident.name,
            versionToken: loc.versionToken,
            metadataLocation,
          }),
        );
        return { table: { ident, metadata, metadataLocation, versionToken: out.versionToken! }, created: true };
      } catch (err) {
        await this.io.delete(metadataLocation);
        if (isConflict(err)) return { table: await this.loadTable(ident), created: false };
        const moved = isBadRequest(err) ? await this.location(ident) : undefined;
        if (attempt >= 3 || moved === undefined || moved.warehouseLocation === loc.warehouseLocation) {
          throw unavailable(`initialising ${ident.namespace}.${ident.name}`, err);
        }
        loc = moved;
      }
    }
  }

  async commit(base: LoadedTable, next: TableMetadata): Promise<LoadedTable> {
    const { ident } = base;
    const { location, metadata } = await writeNextMetadata(this.io, next, base.metadataLocation);
    try {
      const out = await this.client.send(
        new UpdateTableMetadataLocationCommand({
          tableBucketARN: this.bucketArn,
          namespace: ident.namespace,
          name: ident.name,
          versionToken: base.versionToken,
          metadataLocation: location,
        }),
      );
      await deleteRemovedMetadataFiles(this.io, base.metadata, metadata);
      return { ident, metadata, metadataLocation: location, versionToken: out.versionToken! };
    } catch (err) {
      // A conflict is not proof that this swap did not happen: the SDK retries a request that
      // timed out or met a 5xx, and the retry of a swap that landed meets a version token that
      // our own swap moved. The file is left for commit.ts, which deletes it only once the
      // reloaded table shows it unreferenced.
      if (isConflict(err)) {
        throw new StreamError('COMMIT_CONFLICT', `table ${ident.namespace}.${ident.name} changed since ${base.metadataLocation}`, {
          cause: err,
          details: { ...ident, base: base.metadataLocation, metadataLocation: location },
        });
      }
      if (isNotFound(err)) {
        throw new StreamError('TABLE_NOT_FOUND', `table ${ident.namespace}.${ident.name} was dropped during the commit`, { cause: err, details: { ...ident } });
      }
      // No answer, or a server error: the swap may have happened. Keep the metadata file (it may
      // be the table's current one now) and let the caller reload to find out.
      const e = unavailable(`committing ${ident.namespace}.${ident.name}`, err);
      throw new StreamError('CATALOG_UNAVAILABLE', e.message, { cause: err, details: { ...ident, metadataLocation: location } });
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
