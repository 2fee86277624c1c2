import { describe, expect, it } from 'vitest';
import { isStreamError } from '../../src/errors.js';
import type { Snapshot, TableMetadata } from '../../src/iceberg/metadata.js';
import { newTableMetadata, stringifyJsonBig } from '../../src/iceberg/metadata.js';
import { tableChanges, withCallerRequirements } from '../../src/iceberg/rest-updates.js';
import { buildSchema, evolveSchema } from '../../src/iceberg/schema.js';
import { fields } from '../helpers/iceberg-fixtures.js';

function table(): TableMetadata {
  const { schema, lastColumnId } = buildSchema(fields({ id: 'BIGINT', name: 'STRING' }));
  return newTableMetadata({ location: 's3://b/t', schema, lastColumnId, spec: { 'spec-id': 0, fields: [] }, properties: {} });
}

function withAppend(m: TableMetadata, id: bigint): { next: TableMetadata; snapshot: Snapshot } {
  const parent = m.refs['main']?.['snapshot-id'];
  const snapshot: Snapshot = {
    'snapshot-id': id,
    ...(parent !== undefined ? { 'parent-snapshot-id': parent } : {}),
    'sequence-number': m['last-sequence-number'] + 1,
    'timestamp-ms': 1,
    'manifest-list': `s3://b/t/metadata/snap-${id}.avro`,
    summary: { operation: 'append', 'kafka.offsets.g': '{"t":{"0":5}}' },
  };
  const next: TableMetadata = {
    ...m,
    'last-sequence-number': snapshot['sequence-number'],
    'current-snapshot-id': id,
    snapshots: [...m.snapshots, snapshot],
    'snapshot-log': [...m['snapshot-log'], { 'timestamp-ms': 1, 'snapshot-id': id }],
    refs: { ...m.refs, main: { 'snapshot-id': id, type: 'branch' } },
  };
  return { next, snapshot };
}

describe('a commit as REST updates and requirements', () => {
  it('an append on an empty table: add-snapshot and set main, asserting the uuid and that main does not exist yet', () => {
    const base = table();
    const { next, snapshot } = withAppend(base, 9_000_000_000_000_000_001n);
    const { requirements, updates } = tableChanges(base, next);
    expect(requirements).toEqual([
      { type: 'assert-table-uuid', uuid: base['table-uuid'] },
      { type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': null },
    ]);
    expect(updates).toEqual([
      { action: 'add-snapshot', snapshot },
      { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': 9_000_000_000_000_000_001n },
    ]);
    // On the wire the 63-bit ids are JSON integers, exact, and "no main yet" is null.
    const wire = stringifyJsonBig({ requirements, updates }, 0);
    expect(wire).toContain('"snapshot-id":null');
    expect(wire).toContain('"snapshot-id":9000000000000000001');
  });

  it('an append on top of another asserts main is still the snapshot it was built on', () => {
    const first = withAppend(table(), 5n).next;
    const { next } = withAppend(first, 6n);
    const { requirements, updates } = tableChanges(first, next);
    expect(requirements).toContainEqual({ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': 5n });
    expect(updates.map((u) => u.action)).toEqual(['add-snapshot', 'set-snapshot-ref']);
  });

  it('a new column: add-schema with the last column id and set-current-schema -1, asserting the schema and field ids it was built from', () => {
    const base = table();
    const evolved = evolveSchema(base.schemas[0]!, base['last-column-id'], fields({ id: 'BIGINT', name: 'STRING', score: 'DOUBLE' }));
    const schema = { ...evolved.schema, 'schema-id': 1 };
    const next: TableMetadata = { ...base, schemas: [...base.schemas, schema], 'current-schema-id': 1, 'last-column-id': evolved.lastColumnId };
    const { requirements, updates } = tableChanges(base, next);
    expect(updates).toEqual([
      { action: 'add-schema', schema, 'last-column-id': 3 },
      { action: 'set-current-schema', 'schema-id': -1 },
    ]);
    expect(requirements).toEqual([
      { type: 'assert-table-uuid', uuid: base['table-uuid'] },
      { type: 'assert-last-assigned-field-id', 'last-assigned-field-id': 2 },
      { type: 'assert-current-schema-id', 'current-schema-id': 0 },
    ]);
  });

  it('properties set and removed; nothing changed is no update', () => {
    const base = { ...table(), properties: { a: '1', b: '2' } };
    expect(tableChanges(base, { ...base, properties: { a: '1', b: '3', c: '4' } }).updates).toEqual([{ action: 'set-properties', updates: { b: '3', c: '4' } }]);
    expect(tableChanges(base, { ...base, properties: { a: '1' } }).updates).toEqual([{ action: 'remove-properties', removals: ['b'] }]);
    expect(tableChanges(base, structuredClone(base)).updates).toEqual([]);
  });

  it('a change it cannot express is refused rather than dropped', () => {
    const withSnap = withAppend(table(), 5n).next;
    let err: unknown;
    try {
      tableChanges(withSnap, { ...withSnap, schemas: [] });
    } catch (e) {
      err = e;
    }
    expect(isStreamError(err) && err.code).toBe('NOT_IMPLEMENTED');
    expect(() => tableChanges(withSnap, { ...withSnap, location: 's3://b/elsewhere' })).toThrow(/new table location/);
  });
});

describe('the caller\'s commit requirements in a REST commit', () => {
  it('sends those REST can express once, beside the derived ones, and keeps the fence client-side', () => {
    const base = table();
    const first = withAppend(base, 7n).next;
    const derived = tableChanges(first, withAppend(first, 8n).next).requirements;
    const sent = withCallerRequirements(derived, [
      { type: 'assert-table-uuid', uuid: base['table-uuid'] },
      { type: 'assert-ref-snapshot-id', ref: 'main', snapshotId: 7n },
      { type: 'assert-ref-snapshot-id', ref: 'audit', snapshotId: null },
      { type: 'assert-fence', ownerKey: 'o', epochKey: 'e', epoch: 3, owner: 'p' },
    ]);
    // The uuid and main's snapshot were derived already: not repeated. The other ref is added.
    expect(sent.filter((r) => r.type === 'assert-table-uuid')).toHaveLength(1);
    expect(sent.filter((r) => r.type === 'assert-ref-snapshot-id' && r.ref === 'main')).toEqual([{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': 7n }]);
    expect(sent).toContainEqual({ type: 'assert-ref-snapshot-id', ref: 'audit', 'snapshot-id': null });
    expect(sent).toHaveLength(derived.length + 1);
    expect(sent.some((r) => (r.type as string) === 'assert-fence')).toBe(false);
  });
});
