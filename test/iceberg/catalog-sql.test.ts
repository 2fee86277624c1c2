import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { isStreamError } from '../../src/errors.js';
import { createCatalog } from '../../src/iceberg/catalogs.js';
import { SqlCatalog } from '../../src/iceberg/catalog-sql.js';
import { newTableMetadata } from '../../src/iceberg/metadata.js';
import { buildSchema } from '../../src/iceberg/schema.js';
import { fields, sqlCatalogConfig } from '../helpers/iceberg-fixtures.js';

const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => {
  try {
    await p;
    return undefined;
  } catch (err) {
    return isStreamError(err) ? err.code : String(err);
  }
};

describe('SqlCatalog', () => {
  const { config, dir } = sqlCatalogConfig('unit');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const build = (location: string) => {
    const { schema, lastColumnId } = buildSchema(fields({ id: 'BIGINT' }));
    return newTableMetadata({ location, schema, lastColumnId, spec: { 'spec-id': 0, fields: [] }, properties: {} });
  };

  it('creates the JdbcCatalog/pyiceberg tables and swaps metadata_location only from the expected value', async () => {
    const catalog = (await createCatalog(config)) as SqlCatalog;
    const ident = { namespace: 'ns', name: 't' };
    expect(await codeOf(catalog.createTable(ident, build))).toBe('NAMESPACE_NOT_FOUND');
    expect(await codeOf(catalog.loadTable(ident))).toBe('TABLE_NOT_FOUND');
    await catalog.createNamespace('ns');
    await catalog.createNamespace('ns');
    const { table, created } = await catalog.createTable(ident, build);
    expect(created).toBe(true);
    expect(table.metadata.location).toBe(`${config.warehouse}/ns.db/t`);
    const again = await catalog.createTable(ident, build);
    expect(again.created).toBe(false);
    expect(again.table.metadataLocation).toBe(table.metadataLocation);

    const next = await catalog.commit(table, { ...table.metadata, properties: { ...table.metadata.properties, a: '1' } });
    expect(next.metadataLocation).toMatch(/\/00001-[^/]+\.metadata\.json$/);
    expect(next.metadata['metadata-log'].map((e) => e['metadata-file'])).toEqual([table.metadataLocation]);
    expect(await codeOf(catalog.commit(table, table.metadata))).toBe('COMMIT_CONFLICT');
    await catalog.close();

    const db = new Database(config.sqlitePath, { readonly: true });
    const cols = (db.prepare('PRAGMA table_info(iceberg_tables)').all() as Array<{ name: string }>).map((c) => c.name);
    expect(cols).toEqual(['catalog_name', 'table_namespace', 'table_name', 'metadata_location', 'previous_metadata_location', 'iceberg_type']);
    const row = db.prepare('SELECT * FROM iceberg_tables').get() as Record<string, string>;
    expect(row).toEqual({
      catalog_name: 'unit', table_namespace: 'ns', table_name: 't',
      metadata_location: next.metadataLocation, previous_metadata_location: table.metadataLocation, iceberg_type: 'TABLE',
    });
    expect(db.prepare('SELECT * FROM iceberg_namespace_properties').all()).toEqual([
      { catalog_name: 'unit', namespace: 'ns', property_key: 'exists', property_value: 'true' },
    ]);
    db.close();
  });

  it('a rest catalog that does not answer is CATALOG_UNAVAILABLE at start, naming no secret', async () => {
    const pending = createCatalog({ type: 'rest', name: 'r', uri: 'http://127.0.0.1:1', namespace: 'n', auth: { kind: 'bearer', token: 'secret-token-1' }, headers: {}, properties: {} });
    expect(await codeOf(pending)).toBe('CATALOG_UNAVAILABLE');
    const err = await pending.catch((e: unknown) => e);
    expect(JSON.stringify((err as { toJSON(): unknown }).toJSON())).not.toContain('secret-token-1');
  });
});
