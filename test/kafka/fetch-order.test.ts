import { describe, expect, it } from 'vitest';
import { FetchOrder } from '../../src/kafka/fetch-order.js';

describe('FetchOrder', () => {
  it('rotates by one partition each request, so each is first in turn', () => {
    const order = new FetchOrder();
    const firsts = Array.from({ length: 8 }, () => order.next([0, 1, 2, 3])[0]);
    expect(firsts).toEqual([0, 1, 2, 3, 0, 1, 2, 3]);
    expect(order.next([0, 1, 2, 3])).toEqual([0, 1, 2, 3]);
    expect(order.next([0, 1, 2, 3])).toEqual([1, 2, 3, 0]);
  });

  it('puts starved partitions first until they are fed, and leaves out partitions not ready', () => {
    const order = new FetchOrder();
    order.starve(3);
    order.starve(1);
    expect(order.next([0, 1, 2, 3])).toEqual([3, 1, 0, 2]);
    expect(order.next([0, 2, 3])).toEqual([3, 2, 0]);
    order.fed(3);
    expect(order.isStarved(3)).toBe(false);
    expect(order.next([0, 1, 2, 3])[0]).toBe(1);
    expect(order.next([])).toEqual([]);
  });
});
