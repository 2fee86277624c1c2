// Apache Iceberg's Java library as the strictest independent reader of our tables: JdbcCatalog
// over the SQLite catalog file, read by scripts/iceberg-java.sh (jars fetched by
// `scripts/setup.sh --test`, or on first use).

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { CatalogConfig } from '../../src/config/types.js';
import { ROOT } from './python.js';

export interface JavaRead {
  columns: string[];
  /** Every value in its Java string form (BigDecimal "1.01", LocalDateTime "1970-01-01T00:00:01"). */
  rows: Array<Array<string | null>>;
  files: number;
  manifests: number;
  snapshot: string | null;
}

export function readWithJava(catalog: Extract<CatalogConfig, { type: 'sql' }>, table: string): Promise<JavaRead> {
  return new Promise((resolve, reject) => {
    execFile('bash', [join(ROOT, 'scripts/iceberg-java.sh'), 'read', catalog.name, catalog.sqlitePath, catalog.warehouse, table], { maxBuffer: 256 * 1024 * 1024, timeout: 600_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`Iceberg Java reader failed: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as JavaRead);
    });
  });
}
