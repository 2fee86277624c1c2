// End detection for a bounded run (`--bounded`): each partition stops at the end offset seen when
// the run started (or that a previous run of the same pipeline saw, so a restarted bounded run
// ends where the first one meant to). A partition is done once either the records accepted or the
// consumer's own position reach its end — the position moves past transaction markers and aborted
// records, which no chunk delivers, so a partition whose last offsets are markers still ends.

import type { PartitionOffsets } from '../iceberg/snapshot-offsets.js';

export class BoundedEnd {
  readonly drained: Promise<void>;
  private resolveDrained!: () => void;
  private readonly done = new Set<number>();
  private readonly position = new Map<number, bigint>();
  private partitions = 0;

  /**
   * @param ends each partition's end offset (records at or past it are the next run's)
   * @param stop called once per partition when it reaches its end
   */
  constructor(
    readonly ends: PartitionOffsets,
    private readonly stop: (partition: number) => void,
  ) {
    this.drained = new Promise((resolve) => (this.resolveDrained = resolve));
  }

  /** The partitions of the run and where each starts; those already at their end are done at once (not stopped: they never ran). */
  begin(start: ReadonlyMap<number, bigint>): number[] {
    this.partitions = start.size;
    const finished: number[] = [];
    for (const [p, offset] of start) {
      if ((this.ends.get(p) ?? 0n) <= offset) {
        this.done.add(p);
        finished.push(p);
      }
    }
    return finished;
  }

  isDone(partition: number): boolean {
    return this.done.has(partition);
  }

  /** The consumer's next fetch offset for a partition moved. */
  moved(partition: number, next: bigint, accepted: bigint): void {
    if (next > (this.position.get(partition) ?? -1n)) this.position.set(partition, next);
    this.reached(partition, accepted);
  }

  /** Records up to `accepted` (exclusive) of a partition were taken; done once at its end. */
  reached(partition: number, accepted: bigint): void {
    const end = this.ends.get(partition);
    if (end === undefined || this.done.has(partition)) return;
    const at = this.position.get(partition) ?? 0n;
    if (accepted >= end || at >= end) {
      this.done.add(partition);
      this.stop(partition);
      this.check();
    }
  }

  /** Resolves `drained` once every partition is done (called once the run is under way). */
  check(): void {
    if (this.done.size === this.partitions) this.resolveDrained();
  }
}
