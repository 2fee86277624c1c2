// The embedded catalog: a SQLite file with the tables and columns that pyiceberg's SqlCatalog
// and Java's JdbcCatalog use, so either can open what this runtime writes and the other way
// round. The commit is a conditional UPDATE on `metadata_location` (compare-and-swap); SQLite
// serialises writers on the file lock, so the condition is checked and applied atomically
// even across processes.

import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CatalogConfig } from '../config/types.js';
import { StreamError } from '../errors.js';
import type { Catalog, LoadedTable, TableIdentifier } from './catalog.js';
import { deleteRemovedMetadataFiles, readMetadataFile, writeNextMetadata } from './metadata-file.js';
import type { FileIO } from './file-io.js';
import { fileIOFor, literalFileUri, localPath } from './file-io.js';
import type { TableMetadata } from './metadata.js';

type SqlCatalogConfig = Extract<CatalogConfig, { type: 'sql' }>;

// Column names, types and keys as pyiceberg's SqlCatalog and Java's JdbcCatalog (schema v1,
// which adds `iceberg_type`) declare them.
const DDL = [
  `CREATE TABLE IF NOT EXISTS iceberg_tables (
    catalog_name VARCHAR(255) NOT NULL,
    table_namespace VARCHAR(255) NOT NULL,
    table_name VARCHAR(255) NOT NULL,
    metadata_location VARCHAR(1000),
    previous_metadata_location VARCHAR(1000),
    iceberg_type VARCHAR(5),
    PRIMARY KEY (catalog_name, table_namespace, table_name)
  )`,
  `CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (
    catalog_name VARCHAR(255) NOT NULL,
    namespace VARCHAR(255) NOT NULL,
    property_key VARCHAR(255) NOT NULL,
    property_value VARCHAR(1000) NOT NULL,
    PRIMARY KEY (catalog_name, namespace, property_key)
  )`,
];

function unavailable(what: string, err: unknown): StreamError {
  return new StreamError('CATALOG_UNAVAILABLE', `SQLite catalog: ${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

export class SqlCatalog implements Catalog {
  readonly name: string;
  readonly io: FileIO;
  private readonly db: Database.Database;
  private readonly warehouse: string;

  constructor(config: SqlCatalogConfig, io?: FileIO) {
    this.name = config.name;
    this.warehouse = config.warehouse.startsWith('file:') ? literalFileUri(config.warehouse) : config.warehouse.replace(/\/+$/, '');
    this.io = io ?? fileIOFor(config);
    if (this.warehouse.startsWith('file:')) mkdirSync(localPath(this.warehouse), { recursive: true });
    mkdirSync(dirname(config.sqlitePath), { recursive: true });
    try {
      this.db = new Database(config.sqlitePath);
      // Another process (pyiceberg, a second runtime) may hold the write lock for a moment.
      this.db.pragma('busy_timeout = 10000');
      this.db.exec('BEGIN IMMEDIATE');
      try {
        for (const stmt of DDL) this.db.exec(stmt);
        const cols = this.db.prepare(`PRAGMA table_info(iceberg_tables)`).all() as Array<{ name: string }>;
        // A file made by pyiceberg lacks the JdbcCatalog v1 column; add it so both stay happy.
        if (!cols.some((c) => c.name === 'iceberg_type')) this.db.exec('ALTER TABLE iceberg_tables ADD COLUMN iceberg_type VARCHAR(5)');
        this.db.exec('COMMIT');
      } catch (err) {
        this.db.exec('ROLLBACK');
        throw err;
      }
    } catch (err) {
      throw unavailable(`opening ${config.sqlitePath}`, err);
    }
  }

  async createNamespace(namespace: string): Promise<void> {
    try {
      this.db
        .prepare(
          `INSERT OR IGNORE INTO iceberg_namespace_properties (catalog_name, namespace, property_key, property_value) VALUES (?, ?, 'exists', 'true')`,
        )
        .run(this.name, namespace);
    } catch (err) {
      throw unavailable(`creating namespace ${namespace}`, err);
    }
  }

  private row(ident: TableIdentifier): { metadata_location: string | null } | undefined {
    try {
      return this.db
        .prepare(
          `SELECT metadata_location FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)`,
        )
        .get(this.name, ident.namespace, ident.name) as { metadata_location: string | null } | undefined;
    } catch (err) {
      throw unavailable(`loading ${ident.namespace}.${ident.name}`, err);
    }
  }

  async loadTable(ident: TableIdentifier): Promise<LoadedTable> {
    const row = this.row(ident);
    if (!row?.metadata_location) {
      throw new StreamError('TABLE_NOT_FOUND', `table ${ident.namespace}.${ident.name} does not exist in catalog ${this.name}`, {
        details: { ...ident },
      });
    }
    const metadata = await readMetadataFile(this.io, row.metadata_location);
    return { ident, metadata, metadataLocation: row.metadata_location, versionToken: row.metadata_location };
  }

  private namespaceExists(namespace: string): boolean {
    const hit = this.db
      .prepare(
        `SELECT 1 FROM iceberg_namespace_properties WHERE catalog_name = ? AND namespace = ?
         UNION SELECT 1 FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? LIMIT 1`,
      )
      .get(this.name, namespace, this.name, namespace);
    return hit !== undefined;
  }

  async createTable(ident: TableIdentifier, build: (location: string) => TableMetadata): Promise<{ table: LoadedTable; created: boolean }> {
    if (this.row(ident)?.metadata_location) return { table: await this.loadTable(ident), created: false };
    if (!this.namespaceExists(ident.namespace)) {
      throw new StreamError('NAMESPACE_NOT_FOUND', `namespace ${ident.namespace} does not exist in catalog ${this.name}`, {
        details: { namespace: ident.namespace },
      });
    }
    // pyiceberg's default layout: <warehouse>/<namespace>.db/<table>
    const location = `${this.warehouse}/${ident.namespace}.db/${ident.name}`;
    const { location: metadataLocation, metadata } = await writeNextMetadata(this.io, build(location), undefined);
    let inserted: boolean;
    try {
      const res = this.db
        .prepare(
          `INSERT OR IGNORE INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location, iceberg_type)
           VALUES (?, ?, ?, ?, NULL, 'TABLE')`,
        )
        .run(this.name, ident.namespace, ident.name, metadataLocation);
      inserted = res.changes === 1;
    } catch (err) {
      throw unavailable(`creating ${ident.namespace}.${ident.name}`, err);
    }
    if (!inserted) {
      // Lost the creation race: the other creator's table stands, ours was never visible.
      await this.io.delete(metadataLocation);
      return { table: await this.loadTable(ident), created: false };
    }
    return { table: { ident, metadata, metadataLocation, versionToken: metadataLocation }, created: true };
  }

  async commit(base: LoadedTable, next: TableMetadata): Promise<LoadedTable> {
    const { ident } = base;
    const { location, metadata } = await writeNextMetadata(this.io, next, base.metadataLocation);
    let changes: number;
    try {
      changes = this.db
        .prepare(
          `UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ?
           WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND metadata_location = ?`,
        )
        .run(location, base.metadataLocation, this.name, ident.namespace, ident.name, base.versionToken).changes;
    } catch (err) {
      // SQLite either applied the UPDATE or not; a thrown error here means it did not.
      await this.io.delete(location);
      throw unavailable(`committing ${ident.namespace}.${ident.name}`, err);
    }
    if (changes !== 1) {
      await this.io.delete(location);
      if (!this.row(ident)) {
        throw new StreamError('TABLE_NOT_FOUND', `table ${ident.namespace}.${ident.name} was dropped during the commit`, { details: { ...ident } });
      }
      throw new StreamError('COMMIT_CONFLICT', `table ${ident.namespace}.${ident.name} changed since ${base.metadataLocation}`, {
        details: { ...ident, base: base.metadataLocation },
      });
    }
    await deleteRemovedMetadataFiles(this.io, base.metadata, metadata);
    return { ident, metadata, metadataLocation: location, versionToken: location };
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
