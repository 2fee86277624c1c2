// The classic group's assignor, as a pure function: balanced, sticky, and cooperative (a partition
// moving between two live members is withheld for one round).

import { describe, expect, it } from 'vitest';
import type { TopicPartition } from '../../src/kafka/group-membership.js';
import { assignSticky, type AssignorMember } from '../../src/kafka/sticky-assignor.js';

const T = 'events';
const tps = (...ps: number[]): TopicPartition[] => ps.map((partition) => ({ topic: T, partition }));
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const parts = (a: Map<string, TopicPartition[]>, id: string) => a.get(id)!.map((tp) => tp.partition).sort((x, y) => x - y);
const member = (memberId: string, owned: number[] = [], topics = [T]): AssignorMember => ({ memberId, topics, owned: tps(...owned) });

function expectDisjoint(a: Map<string, TopicPartition[]>): number[] {
  const all = [...a.values()].flat().map((tp) => `${tp.topic}:${tp.partition}`);
  expect(new Set(all).size).toBe(all.length);
  return [...a.values()].flat().filter((tp) => tp.topic === T).map((tp) => tp.partition);
}

describe('assignSticky', () => {
  it('spreads a fresh group evenly over every partition', () => {
    const a = assignSticky([member('a'), member('b'), member('c')], new Map([[T, 12]]));
    expect(expectDisjoint(a).sort((x, y) => x - y)).toEqual(range(0, 12));
    expect(['a', 'b', 'c'].map((id) => a.get(id)!.length)).toEqual([4, 4, 4]);
  });

  it('lets owners keep their share and withholds what moves to a newcomer until it is given up', () => {
    const first = assignSticky([member('a', range(0, 6)), member('b', range(6, 12)), member('c')], new Map([[T, 12]]));
    expect(parts(first, 'a').every((p) => p < 6)).toBe(true);
    expect(parts(first, 'b').every((p) => p >= 6)).toBe(true);
    expect(parts(first, 'a')).toHaveLength(4);
    expect(parts(first, 'b')).toHaveLength(4);
    // Nothing yet for c: each of its partitions is still held by a or b.
    expect(parts(first, 'c')).toEqual([]);
    expectDisjoint(first);

    const second = assignSticky([member('a', parts(first, 'a')), member('b', parts(first, 'b')), member('c')], new Map([[T, 12]]));
    expect(parts(second, 'a')).toEqual(parts(first, 'a'));
    expect(parts(second, 'b')).toEqual(parts(first, 'b'));
    expect(parts(second, 'c')).toHaveLength(4);
    expect(expectDisjoint(second).sort((x, y) => x - y)).toEqual(range(0, 12));
  });

  it("hands a departed member's partitions to those left, who keep their own", () => {
    const a = assignSticky([member('a', range(0, 4)), member('b', range(4, 8))], new Map([[T, 12]]));
    expect(parts(a, 'a')).toEqual(expect.arrayContaining(range(0, 4)));
    expect(parts(a, 'b')).toEqual(expect.arrayContaining(range(4, 8)));
    expect(parts(a, 'a')).toHaveLength(6);
    expect(expectDisjoint(a).sort((x, y) => x - y)).toEqual(range(0, 12));
  });

  it('gives a partition two members claim (a stale report) to one of them only', () => {
    const a = assignSticky([member('a', [0, 1]), member('b', [1, 2])], new Map([[T, 4]]));
    expect(expectDisjoint(a).sort((x, y) => x - y)).toEqual([0, 1, 2, 3]);
  });

  it('assigns a topic only to the members subscribed to it, and ignores partitions past the count', () => {
    const a = assignSticky([member('a', [], [T]), member('b', [7], [T, 'other'])], new Map([[T, 2], ['other', 3]]));
    expect(a.get('a')!.some((tp) => tp.topic === 'other')).toBe(false);
    expect(a.get('b')!.filter((tp) => tp.topic === 'other').map((tp) => tp.partition)).toEqual([0, 1, 2]);
    expect(expectDisjoint(a).sort()).toEqual([0, 1]);
  });
});
