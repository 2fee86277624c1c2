// Partition discovery on its own, with fake listings: what a pass adds, and what it never does.

import { describe, expect, it } from 'vitest';
import { StreamError } from '../../src/errors.js';
import { PartitionDiscovery, type PartitionDiscoveryOptions } from '../../src/runtime/partition-discovery.js';
import { recordingLogger } from '../helpers/checkpoint-fixtures.js';

function discovery(over: Partial<PartitionDiscoveryOptions>, initial = [0, 1]) {
  const added: Array<Map<number, bigint>> = [];
  const log = recordingLogger();
  const d = new PartitionDiscovery(
    {
      topic: 't',
      intervalMs: 0,
      list: async () => [0, 1],
      earliest: async (ps) => new Map(ps.map((p) => [p, 0n])),
      open: () => true,
      add: (start) => added.push(new Map(start)),
      log,
      ...over,
    },
    initial,
  );
  return { d, added, log };
}

describe('PartitionDiscovery', () => {
  it('adds only partitions it did not know, at their earliest offsets, and logs the count change', async () => {
    const { d, added, log } = discovery({ list: async () => [3, 0, 2, 1], earliest: async (ps) => new Map(ps.map((p) => [p, BigInt(p * 10)])) });
    expect(await d.discover()).toEqual([2, 3]);
    expect(await d.discover()).toEqual([]);
    expect(added).toEqual([new Map([[2, 20n], [3, 30n]])]);
    expect(d.partitions).toEqual([0, 1, 2, 3]);
    expect(log.lines.map((l) => [l.level, l.msg, l.fields.from, l.fields.to])).toEqual([['info', 'partitions discovered: 2 → 4; reading the new ones from their earliest offset', 2, 4]]);
  });

  it('a partition the offsets answer leaves out waits for the next pass', async () => {
    let known = [2];
    const { d, added } = discovery({ list: async () => [0, 1, 2, 3], earliest: async (ps) => new Map(ps.filter((p) => known.includes(p)).map((p) => [p, 0n])) });
    expect(await d.discover()).toEqual([2]);
    known = [3];
    expect(await d.discover()).toEqual([3]);
    expect(added).toEqual([new Map([[2, 0n]]), new Map([[3, 0n]])]);
  });

  it('a failing listing is logged once, never thrown, and the next pass that works adds', async () => {
    let fail = true;
    const { d, added, log } = discovery({
      list: async () => {
        if (fail) throw new StreamError('KAFKA_UNAVAILABLE', 'broker away');
        return [0, 1, 2];
      },
    });
    expect(await d.discover()).toEqual([]);
    expect(await d.discover()).toEqual([]);
    fail = false;
    expect(await d.discover()).toEqual([2]);
    expect(added).toHaveLength(1);
    expect(log.lines.map((l) => l.msg.split(';')[0])).toEqual(['partition discovery failed', 'partition discovery works again', 'partitions discovered: 2 → 3']);
  });

  it('adds nothing once closed to additions or stopped, and overlapping calls share one pass', async () => {
    let open = true;
    let listings = 0;
    const { d, added } = discovery({
      list: async () => {
        listings++;
        return [0, 1, 2];
      },
      open: () => open,
    });
    open = false;
    expect(await d.discover()).toEqual([]);
    open = true;
    const [a, b] = await Promise.all([d.discover(), d.discover()]);
    expect([a, b, listings]).toEqual([[2], [2], 2]);
    d.stop();
    expect(added).toHaveLength(1);
  });
});
