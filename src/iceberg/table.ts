// Opening the table a sink writes to: created from the sink config when missing, its schema
// evolved when the sink schema gained columns. The data-file writer bound to it is
// data-file-writer.ts's newDataFileWriter, which the main thread never loads (parquet-wasm).

import type { SinkConfig } from '../config/types.js';
import { StreamError, isStreamError } from '../errors.js';
import type { Catalog, LoadedTable, TableIdentifier } from './catalog.js';
import { currentSchema, defaultSpec, newTableMetadata } from './metadata.js';
import { buildPartitionSpec, sameSpec } from './partition.js';
import type { IcebergSchema } from './schema.js';
import { buildSchema, evolveSchema } from './schema.js';
import type { WriteTarget } from './table-rows.js';

/**
 * Loads the sink's table, creating namespace and table when missing (race-safe: several
 * processes may start at once). When the sink schema has new columns the table gets them
 * (new field ids, a new schema version) in one metadata commit, retried on conflict.
 * An incompatible schema change throws SCHEMA_INCOMPATIBLE_CHANGE naming the column; a
 * partition_by that differs from the table's spec throws SCHEMA_INCOMPATIBLE_CHANGE too
 * (partition spec evolution is not done here).
 */
export async function openTable(catalog: Catalog, namespace: string, sink: SinkConfig): Promise<LoadedTable> {
  const ident: TableIdentifier = { namespace, name: sink.tableName };
  await catalog.createNamespace(namespace);
  const { table } = await catalog.createTable(ident, (location) => {
    const { schema, lastColumnId } = buildSchema(sink.schema);
    return newTableMetadata({ location, schema, lastColumnId, spec: buildPartitionSpec(schema, sink.partitionBy), properties: sink.properties });
  });

  for (let attempt = 0; ; attempt++) {
    const base = attempt === 0 ? table : await catalog.loadTable(ident);
    const m = base.metadata;
    const evolved = evolveSchema(currentSchema(m), m['last-column-id'], sink.schema);
    const wanted = buildPartitionSpec(evolved.schema, sink.partitionBy);
    if (!sameSpec(wanted, defaultSpec(m))) {
      throw new StreamError(
        'SCHEMA_INCOMPATIBLE_CHANGE',
        `table ${namespace}.${sink.tableName}: partition_by [${sink.partitionBy.map((p) => p.text).join(', ')}] differs from the table's partition spec; partition spec evolution is not supported`,
        { details: { ...ident } },
      );
    }
    if (!evolved.changed) return base;
    const schemaId = Math.max(...m.schemas.map((s) => s['schema-id'])) + 1;
    const schema: IcebergSchema = { ...evolved.schema, 'schema-id': schemaId };
    try {
      return await catalog.commit(base, {
        ...m,
        schemas: [...m.schemas, schema],
        'current-schema-id': schemaId,
        'last-column-id': evolved.lastColumnId,
      });
    } catch (err) {
      if (!(isStreamError(err) && err.code === 'COMMIT_CONFLICT') || attempt >= 5) throw err;
    }
  }
}

/** The table as loaded, for transform workers that prepare rows for its files (TableRows). */
export function writeTargetOf(table: LoadedTable): WriteTarget {
  const m = table.metadata;
  const schema = currentSchema(m);
  const spec = defaultSpec(m);
  const tableName = `${table.ident.namespace}.${table.ident.name}`;
  return { key: `${tableName}/${m['table-uuid']}/${schema['schema-id']}/${spec['spec-id']}`, tableName, schema, spec };
}
