// Partition discovery while running: every interval the topic's partitions are listed again, and
// partitions the pipeline does not read yet are handed to it with their start offsets. This is
// Flink's Kafka source behaviour (`scan.topic-partition-discovery.interval`, on by default at 5
// minutes since FLIP-288): a partition discovered after the start is read from its EARLIEST
// offset whatever the startup mode, since every record in it arrived after the job started and
// `latest-offset` would skip them (KafkaSourceEnumerator's `newDiscoveryOffsetsInitializer`).
//
// The partition set only grows here. Kafka never takes partitions from a topic; a partition
// missing from a listing (a topic deleted and recreated with fewer) is the fetch loop's to report
// as KAFKA_TOPIC_MISSING, not this one's to drop. Removal is what a consumer group's rebalance
// will need (docs/ARCHITECTURE.md says how it would fit); it is not built.
//
// Hazards: a pass whose listing fails (a broker away) is logged and tried again at the next
// interval — an outage is the fetch loop's to report, and discovery must never fail a pipeline.
// Passes never overlap (the next is scheduled when one ends), and a pass finishing after the
// pipeline began to stop adds nothing: the final checkpoint's partitions are fixed by then.

import { toStreamError } from '../errors.js';
import type { Logger } from './log.js';

export interface PartitionDiscoveryOptions {
  topic: string;
  /** Time between two passes; 0 disables discovery. */
  intervalMs: number;
  /** The topic's partitions as the broker lists them now. */
  list(): Promise<number[]>;
  /** The earliest (log start) offset of each partition; partitions it leaves out wait for the next pass. */
  earliest(partitions: number[]): Promise<Map<number, bigint>>;
  /** Whether partitions may still be added: false once the pipeline stops or closes. */
  open(): boolean;
  /** Adds the partitions at their start offsets; called synchronously after `open()` said yes. */
  add(start: Map<number, bigint>): void;
  log: Logger;
}

export class PartitionDiscovery {
  private readonly known: Set<number>;
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<number[]> | undefined;
  private stopped = false;
  /** Set while listing fails, so an outage is logged once rather than every pass. */
  private failing = false;

  constructor(
    private readonly o: PartitionDiscoveryOptions,
    initial: Iterable<number>,
  ) {
    this.known = new Set(initial);
  }

  /** The partitions the pipeline reads, as far as discovery knows. */
  get partitions(): number[] {
    return [...this.known].sort((a, b) => a - b);
  }

  /** Schedules passes every interval (none when the interval is 0). */
  start(): void {
    if (this.o.intervalMs <= 0 || this.stopped) return;
    this.timer = setTimeout(() => {
      void this.discover().finally(() => this.start());
    }, this.o.intervalMs);
    // The supervisor keeps the process alive; a pending pass must not.
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** One pass; resolves with the partitions it added. A call during a pass joins it. */
  discover(): Promise<number[]> {
    this.pass ??= this.once().finally(() => (this.pass = undefined));
    return this.pass;
  }

  private async once(): Promise<number[]> {
    let found: number[];
    let start: Map<number, bigint>;
    try {
      const listed = await this.o.list();
      found = listed.filter((p) => !this.known.has(p)).sort((a, b) => a - b);
      const offsets = found.length > 0 ? await this.o.earliest(found) : new Map<number, bigint>();
      start = new Map(found.filter((p) => offsets.has(p)).map((p) => [p, offsets.get(p)!]));
      if (this.failing) this.o.log.log('info', 'partition discovery works again', { topic: this.o.topic });
      this.failing = false;
    } catch (err) {
      const e = toStreamError(err, 'KAFKA_UNAVAILABLE', 'kafka');
      if (!this.failing) this.o.log.log('warn', 'partition discovery failed; trying again at the next interval', { topic: this.o.topic, code: e.code, error: e.message });
      this.failing = true;
      return [];
    }
    if (start.size === 0 || this.stopped || !this.o.open()) return [];
    const before = this.known.size;
    for (const p of start.keys()) this.known.add(p);
    this.o.log.log('info', `partitions discovered: ${before} → ${this.known.size}; reading the new ones from their earliest offset`, {
      topic: this.o.topic,
      from: before,
      to: this.known.size,
      partitions: [...start.keys()],
      offsets: Object.fromEntries([...start].map(([p, o]) => [p, String(o)])),
    });
    this.o.add(start);
    return [...start.keys()];
  }
}
