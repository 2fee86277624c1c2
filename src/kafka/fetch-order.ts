// The order in which one Fetch request asks for its partitions. A broker fills a response in the
// order asked, up to the request's byte limit, and returns a record batch larger than a
// partition's own limit only to the first partition that has data (KIP-74); any later partition
// whose next batch does not fit gets nothing. Asked for in a fixed order, the partitions at the
// end of the list starve whenever those before them hold more than one response, and a batch
// larger than the partition limit behind a busy partition is never read. So:
// - the order rotates by one partition every request, as Kafka's own fetcher does, so each
//   partition is first in turn;
// - a partition the last answer starved (it has records, none came back) goes first in the next
//   request, where the broker must return at least its first batch whatever its size.

export class FetchOrder {
  private turn = 0;
  /** Partitions starved by the last answers, in the order they were starved. */
  private readonly starved = new Set<number>();

  /** The partitions of the next request, in the order to ask for them. */
  next(ready: readonly number[]): number[] {
    if (ready.length === 0) return [];
    const at = this.turn++ % ready.length;
    const rotated = [...ready.slice(at), ...ready.slice(0, at)];
    const first = [...this.starved].filter((p) => ready.includes(p));
    return [...first, ...rotated.filter((p) => !this.starved.has(p))];
  }

  /** The partition had records past its position and the answer held none of them. */
  starve(partition: number): void {
    this.starved.add(partition);
  }

  /** The partition got records (or has none to get): it takes its turn like the others. */
  fed(partition: number): void {
    this.starved.delete(partition);
  }

  /** Whether the partition went first because it was starved. */
  isStarved(partition: number): boolean {
    return this.starved.has(partition);
  }
}
