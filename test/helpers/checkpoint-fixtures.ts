// Parts for testing the checkpoint protocol without a broker or a thread: a real SQL catalog on a
// temporary file warehouse (wrapped to record or fail commits), real Parquet data files, a
// metrics registry of its own, and a logger that keeps its lines.

import { rmSync } from 'node:fs';
import * as arrow from 'apache-arrow';
import { Registry } from 'prom-client';
import type { CatalogConfig } from '../../src/config/types.js';
import { StreamError } from '../../src/errors.js';
import { createCatalog } from '../../src/iceberg/catalogs.js';
import { type Catalog, type LoadedTable, type TableIdentifier } from '../../src/iceberg/catalog.js';
import type { TableMetadata } from '../../src/iceberg/metadata.js';
import { openTable } from '../../src/iceberg/table.js';
import { newDataFileWriter, type DataFile } from '../../src/iceberg/data-file-writer.js';
import { RuntimeMetrics } from '../../src/metrics/metrics.js';
import type { Level, Logger } from '../../src/runtime/log.js';
import { batchOf, fields, sinkConfig, sqlCatalogConfig } from './iceberg-fixtures.js';

export const ROW_FIELDS = fields({ id: 'BIGINT' });
export const NAMESPACE = 'analytics';

/** A catalog that passes everything to the real one, records each commit, and can fail the next. */
export class RecordingCatalog implements Catalog {
  readonly commits: string[] = [];
  /** Thrown instead of the next commit of this table (once). */
  failNext: { table: string; error: unknown } | undefined;
  /** Runs before the next commit of this table reaches the catalog (once), e.g. a rival writer. */
  beforeNext: { table: string; run: () => Promise<void> } | undefined;

  constructor(readonly inner: Catalog) {}

  get name(): string {
    return this.inner.name;
  }

  get io() {
    return this.inner.io;
  }

  createNamespace(namespace: string): Promise<void> {
    return this.inner.createNamespace(namespace);
  }

  loadTable(ident: TableIdentifier): Promise<LoadedTable> {
    return this.inner.loadTable(ident);
  }

  createTable(ident: TableIdentifier, build: (location: string) => TableMetadata): Promise<{ table: LoadedTable; created: boolean }> {
    return this.inner.createTable(ident, build);
  }

  async commit(base: LoadedTable, next: TableMetadata): Promise<LoadedTable> {
    const name = base.ident.name;
    if (this.beforeNext?.table === name) {
      const { run } = this.beforeNext;
      this.beforeNext = undefined;
      await run();
    }
    if (this.failNext?.table === name) {
      const { error } = this.failNext;
      this.failNext = undefined;
      throw error;
    }
    const r = await this.inner.commit(base, next);
    this.commits.push(name);
    return r;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

export interface Warehouse {
  config: CatalogConfig;
  catalog: RecordingCatalog;
  open(name: string): Promise<LoadedTable>;
  /** A real Parquet data file of `ids` for the table as loaded. */
  dataFile(table: LoadedTable, ids: number[]): Promise<DataFile>;
  close(): Promise<void>;
}

export async function warehouse(): Promise<Warehouse> {
  const { config, dir } = sqlCatalogConfig('coord');
  const catalog = new RecordingCatalog(await createCatalog(config));
  return {
    config,
    catalog,
    open: (name) => openTable(catalog, NAMESPACE, sinkConfig(name, ROW_FIELDS)),
    async dataFile(table, ids) {
      const batch = batchOf(ROW_FIELDS, ids.map((id) => ({ id: BigInt(id) })));
      const writer = newDataFileWriter(table, catalog.io, batch.schema, { writerId: `test-${ids[0]}-${ids.length}-${Math.random().toString(36).slice(2)}` });
      await writer.write(batch);
      const [file] = await writer.close();
      return file!;
    },
    async close() {
      await catalog.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function arrowRows(ids: number[]): Uint8Array {
  return arrow.tableToIPC(new arrow.Table(batchOf(ROW_FIELDS, ids.map((id) => ({ id: BigInt(id) })))), 'stream');
}

export function testMetrics(): RuntimeMetrics {
  return new RuntimeMetrics(new Registry(), { processMetrics: false });
}

/** A metric's value for the given labels (0 when never set). */
export async function metricValue(metrics: RuntimeMetrics, name: string, labels: Record<string, string>): Promise<number> {
  const m = await metrics.registry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

export interface LogLine {
  level: Level;
  msg: string;
  fields: Record<string, unknown>;
}

export function recordingLogger(lines: LogLine[] = [], base: Record<string, unknown> = {}): Logger & { lines: LogLine[] } {
  return {
    json: true,
    lines,
    log(level, msg, f = {}) {
      lines.push({ level, msg, fields: { ...base, ...f } });
    },
    child(f) {
      return recordingLogger(lines, { ...base, ...f });
    },
  };
}

export const storageDown = (): StreamError => new StreamError('STORAGE_FAILED', 'disk away', { retryable: false });
