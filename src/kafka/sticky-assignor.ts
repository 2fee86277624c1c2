// The assignment the leader of a classic group computes: balanced per topic, sticky (a member
// keeps what it owns up to its fair share), and cooperative (KIP-429's idea): a partition moving
// from one live member to another is left out of this round's assignment, so its owner revokes it
// and rejoins at once, and the next round gives it to its new owner. No partition is ever
// assigned to two members in one generation, and a partition nobody gives up keeps being read
// through the rebalance.
//
// Pure: members and partition counts in, assignment out; the same input gives the same output on
// every member, which is what makes a leader change harmless.

import type { TopicPartition } from './group-membership.js';

export interface AssignorMember {
  memberId: string;
  topics: readonly string[];
  /** What the member reports owning (from the previous generation). */
  owned: readonly TopicPartition[];
}

export function assignSticky(members: readonly AssignorMember[], partitionCounts: ReadonlyMap<string, number>): Map<string, TopicPartition[]> {
  const out = new Map<string, TopicPartition[]>(members.map((m) => [m.memberId, []]));
  const topics = [...partitionCounts.keys()].sort();
  topics.forEach((topic, topicIndex) => {
    const count = partitionCounts.get(topic)!;
    const subscribers = members.filter((m) => m.topics.includes(topic)).map((m) => m.memberId).sort();
    if (subscribers.length === 0 || count === 0) return;
    // The previous owner of each partition, if it is still here and subscribed; a partition two
    // members claim (a stale report) goes to the first, by member id.
    const owner = new Map<number, string>();
    for (const id of subscribers) {
      const m = members.find((x) => x.memberId === id)!;
      for (const tp of m.owned) if (tp.topic === topic && tp.partition < count && !owner.has(tp.partition)) owner.set(tp.partition, id);
    }
    const ownedCount = (id: string) => [...owner.values()].filter((o) => o === id).length;
    const base = Math.floor(count / subscribers.length);
    const extra = count % subscribers.length;
    // The members that get one partition more than the base: those holding the most already, so
    // fewer partitions move; ties rotate by topic so one member does not get every topic's extra.
    const rotated = subscribers.map((id, i) => ({ id, i: (i + topicIndex) % subscribers.length }));
    rotated.sort((a, b) => ownedCount(b.id) - ownedCount(a.id) || a.i - b.i);
    const quota = new Map(rotated.map(({ id }, rank) => [id, base + (rank < extra ? 1 : 0)]));

    const target = new Map<number, string>();
    const load = new Map(subscribers.map((id) => [id, 0]));
    for (let p = 0; p < count; p++) {
      const o = owner.get(p);
      if (o !== undefined && load.get(o)! < quota.get(o)!) {
        target.set(p, o);
        load.set(o, load.get(o)! + 1);
      }
    }
    for (let p = 0; p < count; p++) {
      if (target.has(p)) continue;
      const to = subscribers.find((id) => load.get(id)! < quota.get(id)!)!;
      target.set(p, to);
      load.set(to, load.get(to)! + 1);
    }
    for (const [p, to] of target) {
      const from = owner.get(p);
      // Moving between two live members: withheld until its owner has let it go.
      if (from !== undefined && from !== to) continue;
      out.get(to)!.push({ topic, partition: p });
    }
  });
  return out;
}
