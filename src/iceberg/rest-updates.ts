// A commit to a REST catalog as the protocol wants it: not a metadata file, but the change as
// data — `updates` to apply and `requirements` the server checks first, atomically, against the
// table as it is then (Iceberg REST OpenAPI spec, `CommitTableRequest`, `TableUpdate`,
// `TableRequirement`). The server writes the metadata file.
//
// The runtime builds the next metadata the same way for every catalog (commit.ts, table.ts);
// here the difference between the metadata a writer read (`base`) and the one it built (`next`)
// becomes those updates, and what the change assumed about `base` becomes requirements:
// - always `assert-table-uuid`: the table was not dropped and re-created under the same name;
// - per branch moved, `assert-ref-snapshot-id` with the snapshot it pointed to (null: no branch
//   yet). For `main` this is the compare-and-swap of every append: another writer's snapshot
//   in between fails the requirement, the server answers 409, and commit.ts rebuilds on the new
//   head;
// - a new schema asserts the current schema and the last column id it was built from, so two
//   writers adding columns at once cannot both assign the same field id.
//
// - snapshots and refs that expiry removed become `remove-snapshots` / `remove-snapshot-ref`;
//   expire.ts adds the `assert-ref-snapshot-id` on `main` that its plan rests on.
//
// Hazard: a change this module cannot express (a removed schema, a new location) must not be
// dropped silently — the server would commit something other than what the writer built — so
// it throws.

import { StreamError } from '../errors.js';
import type { CommitRequirement } from './catalog.js';
import type { Snapshot, TableMetadata } from './metadata.js';
import type { PartitionSpec } from './partition.js';
import type { IcebergSchema } from './schema.js';

export type TableRequirement =
  | { type: 'assert-table-uuid'; uuid: string }
  | { type: 'assert-ref-snapshot-id'; ref: string; 'snapshot-id': bigint | null }
  | { type: 'assert-current-schema-id'; 'current-schema-id': number }
  | { type: 'assert-last-assigned-field-id'; 'last-assigned-field-id': number }
  | { type: 'assert-default-spec-id'; 'default-spec-id': number }
  | { type: 'assert-last-assigned-partition-id'; 'last-assigned-partition-id': number };

export type TableUpdate =
  | { action: 'add-snapshot'; snapshot: Snapshot }
  | { action: 'set-snapshot-ref'; 'ref-name': string; type: 'branch' | 'tag'; 'snapshot-id': bigint }
  | { action: 'remove-snapshots'; 'snapshot-ids': bigint[] }
  | { action: 'remove-snapshot-ref'; 'ref-name': string }
  | { action: 'add-schema'; schema: IcebergSchema; 'last-column-id': number }
  /** -1: the schema added last in this commit (the server may number it). */
  | { action: 'set-current-schema'; 'schema-id': number }
  | { action: 'add-spec'; spec: PartitionSpec }
  | { action: 'set-default-spec'; 'spec-id': number }
  | { action: 'set-properties'; updates: Record<string, string> }
  | { action: 'remove-properties'; removals: string[] };

export interface TableChanges {
  requirements: TableRequirement[];
  updates: TableUpdate[];
}

const sameJson = (a: unknown, b: unknown): boolean =>
  JSON.stringify(a, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) === JSON.stringify(b, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));

function unsupported(base: TableMetadata, what: string): never {
  throw new StreamError('NOT_IMPLEMENTED', `table ${base.location}: a REST commit cannot express ${what}`, { details: { location: base.location } });
}

/** The updates that turn `base` into `next`, and the requirements they rest on. */
export function tableChanges(base: TableMetadata, next: TableMetadata): TableChanges {
  if (next['table-uuid'] !== base['table-uuid']) unsupported(base, 'a new table uuid');
  if (next.location !== base.location) unsupported(base, 'a new table location');
  if (!sameJson(next['sort-orders'], base['sort-orders']) || next['default-sort-order-id'] !== base['default-sort-order-id']) {
    unsupported(base, 'a sort order change');
  }
  const requirements: TableRequirement[] = [{ type: 'assert-table-uuid', uuid: base['table-uuid'] }];
  const updates: TableUpdate[] = [];

  // Schemas: added ones first, then the current one, so that -1 can name the one just added.
  const baseSchemas = new Set(base.schemas.map((s) => s['schema-id']));
  const addedSchemas = next.schemas.filter((s) => !baseSchemas.has(s['schema-id']));
  if (next.schemas.length - addedSchemas.length !== base.schemas.length) unsupported(base, 'a removed schema');
  for (const schema of addedSchemas) updates.push({ action: 'add-schema', schema, 'last-column-id': next['last-column-id'] });
  if (addedSchemas.length > 0) requirements.push({ type: 'assert-last-assigned-field-id', 'last-assigned-field-id': base['last-column-id'] });
  if (next['current-schema-id'] !== base['current-schema-id']) {
    const last = addedSchemas.at(-1);
    updates.push({ action: 'set-current-schema', 'schema-id': last?.['schema-id'] === next['current-schema-id'] ? -1 : next['current-schema-id'] });
    requirements.push({ type: 'assert-current-schema-id', 'current-schema-id': base['current-schema-id'] });
  }

  const baseSpecs = new Set(base['partition-specs'].map((s) => s['spec-id']));
  const addedSpecs = next['partition-specs'].filter((s) => !baseSpecs.has(s['spec-id']));
  if (next['partition-specs'].length - addedSpecs.length !== base['partition-specs'].length) unsupported(base, 'a removed partition spec');
  for (const spec of addedSpecs) updates.push({ action: 'add-spec', spec });
  if (addedSpecs.length > 0) requirements.push({ type: 'assert-last-assigned-partition-id', 'last-assigned-partition-id': base['last-partition-id'] });
  if (next['default-spec-id'] !== base['default-spec-id']) {
    const last = addedSpecs.at(-1);
    updates.push({ action: 'set-default-spec', 'spec-id': last?.['spec-id'] === next['default-spec-id'] ? -1 : next['default-spec-id'] });
    requirements.push({ type: 'assert-default-spec-id', 'default-spec-id': base['default-spec-id'] });
  }

  const baseSnapshots = new Set(base.snapshots.map((s) => s['snapshot-id']));
  const nextSnapshots = new Set(next.snapshots.map((s) => s['snapshot-id']));
  const removedSnapshots = [...baseSnapshots].filter((id) => !nextSnapshots.has(id));
  if (removedSnapshots.length > 0) updates.push({ action: 'remove-snapshots', 'snapshot-ids': removedSnapshots });
  for (const snapshot of next.snapshots) if (!baseSnapshots.has(snapshot['snapshot-id'])) updates.push({ action: 'add-snapshot', snapshot });

  for (const name of Object.keys(base.refs)) if (!(name in next.refs)) updates.push({ action: 'remove-snapshot-ref', 'ref-name': name });
  for (const [name, ref] of Object.entries(next.refs)) {
    const before = base.refs[name];
    if (before && before['snapshot-id'] === ref['snapshot-id'] && before.type === ref.type) continue;
    updates.push({ action: 'set-snapshot-ref', 'ref-name': name, type: ref.type, 'snapshot-id': ref['snapshot-id'] });
    requirements.push({ type: 'assert-ref-snapshot-id', ref: name, 'snapshot-id': before ? before['snapshot-id'] : null });
  }

  const set: Record<string, string> = {};
  for (const [k, v] of Object.entries(next.properties)) if (base.properties[k] !== v) set[k] = v;
  const removed = Object.keys(base.properties).filter((k) => !(k in next.properties));
  if (Object.keys(set).length > 0) updates.push({ action: 'set-properties', updates: set });
  if (removed.length > 0) updates.push({ action: 'remove-properties', removals: removed });

  return { requirements, updates };
}

/**
 * The caller's commit preconditions that the REST protocol can express, added to `derived`
 * (those `tableChanges` found) without repeating one. `assert-fence` has no REST form: it was
 * checked against `base`, and the `assert-ref-snapshot-id` on `main` that every append carries
 * makes the server refuse the commit if anything was committed since `base`, so it still holds
 * when the commit applies. The same holds for `assert-partition-epochs`: a claim moves `main` too.
 */
export function withCallerRequirements(derived: readonly TableRequirement[], caller: readonly CommitRequirement[]): TableRequirement[] {
  const out = [...derived];
  const has = (r: TableRequirement): boolean => out.some((o) => sameJson(o, r));
  for (const c of caller) {
    let r: TableRequirement | undefined;
    if (c.type === 'assert-ref-snapshot-id') r = { type: 'assert-ref-snapshot-id', ref: c.ref, 'snapshot-id': c.snapshotId };
    else if (c.type === 'assert-table-uuid') r = { type: 'assert-table-uuid', uuid: c.uuid };
    if (r && !has(r)) out.push(r);
  }
  return out;
}
