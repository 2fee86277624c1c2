// The ownership checks the multi-process tests end with must be able to fail: a history in
// which a zombie's commit landed after a rival's claim is caught, a legitimate claim back is not.

import { describe, expect, it } from 'vitest';
import { ownershipViolations, zombieWrites, type OwnedEntry, type PositionSnapshot } from './scale-out.js';

function snap(id: string, owner: string, entries: Record<number, OwnedEntry>): PositionSnapshot {
  return { id, owner, timestampMs: Number(id), operation: 'append', addedFiles: 1, position: new Map(Object.entries(entries).map(([p, e]) => [Number(p), e])) };
}

// z claims partition 0 at epoch 1 and commits; a takes it over at epoch 2 and commits.
const base = [
  snap('1', 'z', { 0: { next: 0, epoch: 1, owner: 'z' }, 1: { next: 0, epoch: 1, owner: 'a' } }),
  snap('2', 'z', { 0: { next: 10, epoch: 1, owner: 'z' }, 1: { next: 0, epoch: 1, owner: 'a' } }),
  snap('3', 'a', { 0: { next: 10, epoch: 2, owner: 'a' }, 1: { next: 0, epoch: 1, owner: 'a' } }),
  snap('4', 'a', { 0: { next: 25, epoch: 2, owner: 'a' }, 1: { next: 7, epoch: 1, owner: 'a' } }),
];
const held = new Map([[0, 1]]);

describe('ownership history checks', () => {
  it('pass a history where ownership only moves forward, a claim back by the old owner included', () => {
    const history = [...base, snap('5', 'z', { 0: { next: 25, epoch: 3, owner: 'z' }, 1: { next: 7, epoch: 1, owner: 'a' } })];
    expect(ownershipViolations(history)).toEqual([]);
    expect(zombieWrites(history, 'z', held)).toEqual([]);
  });

  it('catch a zombie commit landing after the takeover', () => {
    const history = [...base, snap('5', 'z', { 0: { next: 18, epoch: 1, owner: 'z' }, 1: { next: 7, epoch: 1, owner: 'a' } })];
    expect(ownershipViolations(history)).toEqual(['snapshot 5 by z: partition 0 epoch 2 → 1', 'snapshot 5 by z: partition 0 next 25 → 18']);
    expect(zombieWrites(history, 'z', held)).toEqual(["snapshot 5 (append, by z) holds partition 0 at epoch 1 (owner z), after z's epoch 1 was superseded"]);
  });

  it('catch two owners at one epoch', () => {
    const history = [...base, snap('5', 'b', { 0: { next: 30, epoch: 2, owner: 'b' }, 1: { next: 7, epoch: 1, owner: 'a' } })];
    expect(ownershipViolations(history)).toEqual(['snapshot 5: partition 0 epoch 2 owned by a and b']);
  });
});
