import { describe, expect, it } from 'vitest';
import type { LoadedTable } from '../../src/iceberg/catalog.js';
import { packEnd } from '../../src/iceberg/manifest-merge.js';
import type { Snapshot, TableMetadata } from '../../src/iceberg/metadata.js';
import { newTableMetadata } from '../../src/iceberg/metadata.js';
import { buildPartitionSpec } from '../../src/iceberg/partition.js';
import { recoverPosition } from '../../src/iceberg/position-recovery.js';
import { buildSchema } from '../../src/iceberg/schema.js';
import { committedPosition, encodePosition, offsetsKey } from '../../src/iceberg/snapshot-offsets.js';
import { fields } from '../helpers/iceberg-fixtures.js';

const KEY = offsetsKey('g');

function table(snapshots: Array<{ id: bigint; parent?: bigint; summary?: Record<string, string> }>, properties: Record<string, string> = {}, main?: bigint): LoadedTable {
  const { schema, lastColumnId } = buildSchema(fields({ id: 'BIGINT' }));
  const m: TableMetadata = newTableMetadata({ location: 'file:///w/t', schema, lastColumnId, spec: buildPartitionSpec(schema, []), properties });
  m.snapshots = snapshots.map(
    (s, i): Snapshot => ({
      'snapshot-id': s.id,
      ...(s.parent !== undefined ? { 'parent-snapshot-id': s.parent } : {}),
      'sequence-number': i + 1,
      'timestamp-ms': 0,
      'manifest-list': `file:///w/t/metadata/snap-${s.id}.avro`,
      summary: { operation: 'append', ...s.summary },
    }),
  );
  const head = main ?? snapshots.at(-1)?.id;
  if (head !== undefined) m.refs = { main: { 'snapshot-id': head, type: 'branch' } };
  return { ident: { namespace: 'ns', name: 't' }, metadata: m, metadataLocation: 'x', versionToken: 'x' };
}

const ours = (epoch: number, offset: number): Record<string, string> => ({ [KEY]: `{"bids":{"0":${offset}}}`, 'streamberg.epoch': String(epoch) });

describe('committed position', () => {
  it('is read from the table property when expiry left no snapshot of the writer on main', () => {
    // Snapshot 1 (ours) was expired: 2, by another writer, names a parent the table no longer has.
    const t = table([{ id: 2n, parent: 1n, summary: { writer: 'other' } }], { [`streamberg.${KEY}`]: encodePosition(7, '{"bids":{"0":70}}') });
    expect(committedPosition(t.metadata, KEY)).toEqual({ epoch: 7, offsets: '{"bids":{"0":70}}', from: 'table-property' });
    expect(recoverPosition(t, 'bids', 'g').offsets).toEqual(new Map([[0, 70n]]));
  });

  it('takes the summary when it is newer than the property (a runtime from before the property committed after it)', () => {
    const t = table([{ id: 1n, summary: ours(9, 90) }], { [`streamberg.${KEY}`]: encodePosition(7, '{"bids":{"0":70}}') });
    expect(committedPosition(t.metadata, KEY)).toMatchObject({ epoch: 9, from: 'snapshot-summary' });
  });

  it('is none for a new table or a new group: scan_mode decides', () => {
    const found = recoverPosition(table([{ id: 1n, summary: { writer: 'other' } }]), 'bids', 'g');
    expect(found.position).toBeUndefined();
    expect(found.offsets).toBeUndefined();
  });

  it("fails with POSITION_LOST when the group's position is for another topic, naming table, group and the reset property", () => {
    const t = table([], { [`streamberg.${KEY}`]: encodePosition(3, '{"old-topic":{"0":5}}') });
    expect(() => recoverPosition(t, 'bids', 'g')).toThrow(
      expect.objectContaining({ code: 'POSITION_LOST', retryable: false, message: expect.stringMatching(/table ns\.t shows the history of consumer group g.*streamberg\.kafka\.reset\.g/) }),
    );
  });

  it("fails with POSITION_LOST when the group's snapshots are only off main (a rollback)", () => {
    const t = table([{ id: 1n, summary: ours(1, 10) }, { id: 2n, summary: { writer: 'other' } }], {}, 2n);
    expect(() => recoverPosition(t, 'bids', 'g')).toThrow(expect.objectContaining({ code: 'POSITION_LOST' }));
  });

  it('honours the reset property, and refuses a value it does not know', () => {
    const lost = { [`streamberg.${KEY}`]: encodePosition(3, '{"old-topic":{"0":5}}') };
    expect(recoverPosition(table([], { ...lost, 'streamberg.kafka.reset.g': 'latest-offset' }), 'bids', 'g')).toMatchObject({ reset: 'latest-offset', offsets: undefined });
    expect(() => recoverPosition(table([], { 'streamberg.kafka.reset.g': 'earliest' }), 'bids', 'g')).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('accepted: earliest-offset, latest-offset') }),
    );
  });
});

describe('packEnd', () => {
  it('packs from the end as Iceberg\'s ListPacker does: the newest bin may be short', () => {
    expect(packEnd([1, 2, 3, 4, 5], () => 1, 2)).toEqual([[1], [2, 3], [4, 5]]);
    expect(packEnd([10, 1, 1], (x) => x, 5)).toEqual([[10], [1, 1]]);
  });
});
