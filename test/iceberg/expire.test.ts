// Which snapshots expiry removes, on metadata built in memory: the history.expire.* properties
// as Java reads them, and the one rule of ours — the chain recovery walks is never expired.

import { describe, expect, it } from 'vitest';
import { StreamError } from '../../src/errors.js';
import { expirePolicy, planExpiry, recoveryChain } from '../../src/iceberg/expire.js';
import type { Snapshot, TableMetadata } from '../../src/iceberg/metadata.js';
import { tableChanges } from '../../src/iceberg/rest-updates.js';

const DAY = 86_400_000;
const NOW = 100 * DAY;

function snap(id: number, parent: number | null, ageDays: number, summary: Record<string, string> = {}): Snapshot {
  return {
    'snapshot-id': BigInt(id),
    ...(parent === null ? {} : { 'parent-snapshot-id': BigInt(parent) }),
    'sequence-number': id,
    'timestamp-ms': NOW - ageDays * DAY,
    'manifest-list': `file:///t/metadata/snap-${id}.avro`,
    summary: { operation: 'append', ...summary },
  };
}

/** A linear history 1 ← 2 ← … ← n, `ages[i]` days old, main at the last. */
function table(snapshots: Snapshot[], props: Record<string, string> = {}, refs: TableMetadata['refs'] = {}): TableMetadata {
  const head = snapshots.at(-1)!;
  return {
    'format-version': 2,
    'table-uuid': 'u',
    location: 'file:///t',
    'last-sequence-number': snapshots.length,
    'last-updated-ms': NOW,
    'last-column-id': 1,
    'current-schema-id': 0,
    schemas: [],
    'default-spec-id': 0,
    'partition-specs': [],
    'last-partition-id': 999,
    'default-sort-order-id': 0,
    'sort-orders': [],
    properties: props,
    'current-snapshot-id': head['snapshot-id'],
    snapshots,
    'snapshot-log': snapshots.map((s) => ({ 'timestamp-ms': s['timestamp-ms'], 'snapshot-id': s['snapshot-id'] })),
    'metadata-log': [],
    refs: { main: { 'snapshot-id': head['snapshot-id'], type: 'branch' }, ...refs },
  };
}

const ids = (ss: Snapshot[]): number[] => ss.map((s) => Number(s['snapshot-id']));
const OFFSETS = { 'kafka.offsets.g1': '{"t":{"0":5}}', 'streamberg.epoch': '3' };

describe('planExpiry', () => {
  it('expires ancestors older than max-snapshot-age-ms (default 5 days) and keeps the younger ones', () => {
    const m = table([snap(1, null, 9), snap(2, 1, 7), snap(3, 2, 4), snap(4, 3, 1)]);
    const plan = planExpiry(m, NOW);
    expect(ids(plan.expired)).toEqual([1, 2]);
    expect(ids(plan.next.snapshots)).toEqual([3, 4]);
    expect(plan.next['snapshot-log'].map((e) => Number(e['snapshot-id']))).toEqual([3, 4]);
  });

  it('keeps min-snapshots-to-keep of the branch whatever their age', () => {
    const m = table([snap(1, null, 9), snap(2, 1, 8), snap(3, 2, 7)], { 'history.expire.min-snapshots-to-keep': '2' });
    expect(ids(planExpiry(m, NOW).expired)).toEqual([1]);
  });

  it('never expires the chain from main down to the newest snapshot of each offsets key', () => {
    // 2 is the pipeline's newest checkpoint; 3 and 4 are another writer's (compaction, an overwrite).
    const m = table([snap(1, null, 30, OFFSETS), snap(2, 1, 20, OFFSETS), snap(3, 2, 10), snap(4, 3, 9)]);
    expect(ids(recoveryChain(m))).toEqual([4, 3, 2]);
    const plan = planExpiry(m, NOW);
    expect(ids(plan.expired)).toEqual([1]);
    expect(ids(plan.next.snapshots)).toEqual([2, 3, 4]);
  });

  it('keeps the newest snapshot of every group found in the ancestry, not only the latest group', () => {
    const other = { 'kafka.offsets.g2': '{"u":{"0":1}}' };
    const m = table([snap(1, null, 30, other), snap(2, 1, 20, OFFSETS), snap(3, 2, 10, OFFSETS)]);
    expect(ids(planExpiry(m, NOW).expired)).toEqual([]);
  });

  it('removes a tag older than max-ref-age-ms with its snapshot, never main', () => {
    const m = table([snap(1, null, 30), snap(2, 1, 20)], { 'history.expire.max-ref-age-ms': String(10 * DAY) }, { old: { 'snapshot-id': 1n, type: 'tag' } });
    const plan = planExpiry(m, NOW);
    expect(plan.removedRefs).toEqual(['old']);
    expect(ids(plan.expired)).toEqual([1]);
    expect(Object.keys(plan.next.refs)).toEqual(['main']);
  });

  it('keeps a tagged snapshot while the tag lives', () => {
    const m = table([snap(1, null, 30), snap(2, 1, 20)], {}, { release: { 'snapshot-id': 1n, type: 'tag' } });
    expect(ids(planExpiry(m, NOW).expired)).toEqual([]);
  });

  it('returns the metadata unchanged when nothing expires', () => {
    const m = table([snap(1, null, 1), snap(2, 1, 0)]);
    expect(planExpiry(m, NOW).next).toBe(m);
  });

  it('refuses a property that is not a whole number, naming it', () => {
    const m = table([snap(1, null, 1)], { 'history.expire.max-snapshot-age-ms': '5 days' });
    expect(() => expirePolicy(m)).toThrow(StreamError);
    expect(() => expirePolicy(m)).toThrow(/history\.expire\.max-snapshot-age-ms = "5 days" is not a whole number/);
  });

  it('becomes remove-snapshots and remove-snapshot-ref updates for a REST catalog', () => {
    const m = table([snap(1, null, 30), snap(2, 1, 20), snap(3, 2, 0)], { 'history.expire.max-ref-age-ms': String(10 * DAY) }, { old: { 'snapshot-id': 1n, type: 'tag' } });
    const { updates } = tableChanges(m, planExpiry(m, NOW).next);
    expect(updates).toEqual([
      { action: 'remove-snapshots', 'snapshot-ids': [1n, 2n] },
      { action: 'remove-snapshot-ref', 'ref-name': 'old' },
    ]);
  });
});
