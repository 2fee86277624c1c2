import { describe, expect, it } from 'vitest';
import { BoundedEnd } from '../../src/runtime/bounded-end.js';

describe('BoundedEnd', () => {
  it('is done with a partition once the accepted records reach its end, and drained when all are', async () => {
    const stopped: number[] = [];
    const end = new BoundedEnd(new Map([[0, 10n], [1, 5n]]), (p) => stopped.push(p));
    expect(end.begin(new Map([[0, 0n], [1, 0n]]))).toEqual([]);
    let drained = false;
    void end.drained.then(() => (drained = true));
    end.reached(0, 9n);
    expect(end.isDone(0)).toBe(false);
    end.reached(0, 10n);
    end.reached(0, 10n); // once only
    expect(stopped).toEqual([0]);
    end.reached(1, 5n);
    await Promise.resolve();
    expect(stopped).toEqual([0, 1]);
    expect(drained).toBe(true);
  });

  it('ends a partition whose last offsets are transaction markers by the consumer position alone', async () => {
    const stopped: number[] = [];
    const end = new BoundedEnd(new Map([[0, 12n]]), (p) => stopped.push(p));
    end.begin(new Map([[0, 0n]]));
    end.reached(0, 10n); // records 0..9 taken; 10 and 11 are markers no chunk delivers
    expect(end.isDone(0)).toBe(false);
    end.moved(0, 12n, 10n);
    expect(end.isDone(0)).toBe(true);
    expect(stopped).toEqual([0]);
  });

  it('counts partitions already at their end as done from the start, and drains only after check()', async () => {
    const end = new BoundedEnd(new Map([[0, 3n], [1, 0n]]), () => {});
    expect(end.begin(new Map([[0, 3n], [1, 0n]]))).toEqual([0, 1]);
    let drained = false;
    void end.drained.then(() => (drained = true));
    await Promise.resolve();
    expect(drained).toBe(false);
    end.check();
    await Promise.resolve();
    expect(drained).toBe(true);
  });
});
