// Commit outcomes are never guessed: after an answer that is not a success, the committer
// reloads the table and looks for its commit before it retries or deletes anything, and deletes
// an attempt's files only once the table can never reference them. The catalog is the real
// SQLite one on a local file system (where deletes take effect); the faults are answers lost
// around its real commits. pyiceberg reads the table back.

import { existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamError } from '../../src/errors.js';
import type { Catalog, LoadedTable } from '../../src/iceberg/catalog.js';
import { SqlCatalog } from '../../src/iceberg/catalog-sql.js';
import { commitAppend } from '../../src/iceberg/commit.js';
import { localPath } from '../../src/iceberg/file-io.js';
import type { TableMetadata } from '../../src/iceberg/metadata.js';
import { openTable } from '../../src/iceberg/table.js';
import { newDataFileWriter } from '../../src/iceberg/data-file-writer.js';
import { arrowSchemaOf } from '../../src/schema/type-mapping.js';
import { batchOf, fields, sinkConfig, sqlCatalogConfig } from '../helpers/iceberg-fixtures.js';
import { scanSql } from '../helpers/pyiceberg.js';
import { ensurePythonEnv } from '../helpers/python.js';

const schema = fields({ id: 'BIGINT NOT NULL', name: 'STRING' });

/** The real catalog, with `onCommit` deciding what each commit call does and answers. */
function faulty(inner: Catalog, onCommit: (call: number, base: LoadedTable, next: TableMetadata) => Promise<LoadedTable>): Catalog {
  let calls = 0;
  return Object.create(inner, { commit: { value: (base: LoadedTable, next: TableMetadata) => onCommit(++calls, base, next) } }) as Catalog;
}

const exists = (uri: string): boolean => existsSync(localPath(uri));

describe('commit outcomes', { timeout: 120_000 }, () => {
  const { config, dir } = sqlCatalogConfig('outcome');
  let catalog: SqlCatalog;

  beforeAll(() => {
    ensurePythonEnv();
    catalog = new SqlCatalog(config);
  }, 900_000);
  afterAll(async () => {
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function files(table: LoadedTable, ids: number[]) {
    const writer = newDataFileWriter(table, catalog.io, arrowSchemaOf(schema));
    await writer.write(batchOf(schema, ids.map((id) => ({ id: BigInt(id), name: `n${id}` }))));
    return writer.close();
  }

  async function ids(name: string): Promise<number[]> {
    const out = await scanSql(config, `${config.namespace}.${name}`, { orderBy: 'id' });
    return out.rows.map((r) => Number(r['id']));
  }

  it('a conflict answered to a commit that landed (a client retry of it) deletes nothing and adds nothing twice', async () => {
    const table = await openTable(catalog, config.namespace, sinkConfig('landed_conflict', schema));
    await commitAppend(catalog, table.ident, await files(table, [1, 2]), {});
    let landed: LoadedTable | undefined;
    const lossy = faulty(catalog, async (call, base, next) => {
      const out = await catalog.commit(base, next);
      if (call === 1) {
        landed = out;
        throw new StreamError('COMMIT_CONFLICT', 'conflict on the retry of a commit that landed', { details: { metadataLocation: out.metadataLocation } });
      }
      return out;
    });
    const { snapshot, table: after } = await commitAppend(lossy, table.ident, await files(table, [3, 4]), {}, { initialBackoffMs: 1 });
    expect(landed).toBeDefined();
    expect(after.metadataLocation).toBe(landed!.metadataLocation);
    expect(snapshot['snapshot-id']).toBe(landed!.metadata['current-snapshot-id']);
    expect(exists(landed!.metadataLocation)).toBe(true);
    expect(exists(snapshot['manifest-list'])).toBe(true);
    expect(after.metadata.snapshots).toHaveLength(2);
    expect(await ids('landed_conflict')).toEqual([1, 2, 3, 4]);
  });

  it('a lost answer (CATALOG_UNAVAILABLE) to a commit that landed is found on reload, not committed again', async () => {
    const table = await openTable(catalog, config.namespace, sinkConfig('landed_unavailable', schema));
    const lossy = faulty(catalog, async (call, base, next) => {
      const out = await catalog.commit(base, next);
      if (call === 1) throw new StreamError('CATALOG_UNAVAILABLE', 'no answer');
      return out;
    });
    const { snapshot, table: after } = await commitAppend(lossy, table.ident, await files(table, [5]), {}, { initialBackoffMs: 1 });
    expect(after.metadata.snapshots).toHaveLength(1);
    expect(exists(snapshot['manifest-list'])).toBe(true);
    expect(await ids('landed_unavailable')).toEqual([5]);
  });

  it('an attempt that lost to another writer can never land: its manifest list goes, and the retry lands once', async () => {
    const table = await openTable(catalog, config.namespace, sinkConfig('lost_race', schema));
    let lostList: string | undefined;
    const racing = faulty(catalog, async (call, base, next) => {
      if (call === 1) {
        lostList = next.snapshots.at(-1)!['manifest-list'];
        await commitAppend(catalog, table.ident, await files(table, [10]), { writer: 'other' });
      }
      return catalog.commit(base, next);
    });
    const { table: after } = await commitAppend(racing, table.ident, await files(table, [11]), {}, { initialBackoffMs: 1 });
    expect(lostList).toBeDefined();
    expect(exists(lostList!)).toBe(false);
    expect(after.metadata.snapshots).toHaveLength(2);
    expect(await ids('lost_race')).toEqual([10, 11]);
  });

  it('an unknown outcome on a head that has not moved proves nothing: the attempt keeps its files', async () => {
    const table = await openTable(catalog, config.namespace, sinkConfig('unknown', schema));
    let firstList: string | undefined;
    const silent = faulty(catalog, async (call, base, next) => {
      // The request never reached the catalog, but the writer cannot know that.
      if (call === 1) {
        firstList = next.snapshots.at(-1)!['manifest-list'];
        throw new StreamError('CATALOG_UNAVAILABLE', 'no answer');
      }
      return catalog.commit(base, next);
    });
    const { snapshot } = await commitAppend(silent, table.ident, await files(table, [20]), {}, { initialBackoffMs: 1 });
    expect(snapshot['manifest-list']).not.toBe(firstList);
    expect(exists(firstList!)).toBe(true);
    expect(await ids('unknown')).toEqual([20]);
  });
});
