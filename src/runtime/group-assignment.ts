// Scale-out, one pipeline's side of its consumer group: which partitions the group gave this
// process, which of them another process has claimed in the table since (fenced: not read again
// until the group assigns them anew), and the claims per table, which outlive any one runner.
//
// The group says who should read a partition; the table alone says who may commit it
// (iceberg/partition-claims.ts). So nothing here is trusted for correctness: a revocation this
// process hears late, or never, costs at most a fenced commit.

import type { Kafka } from 'kafkajs';
import type { PipelineConfig, ScaleOutConfig } from '../config/types.js';
import type { StreamError } from '../errors.js';
import type { Catalog, TableIdentifier } from '../iceberg/catalog.js';
import { PartitionOwnership } from '../iceberg/partition-claims.js';
import { joinGroup } from '../kafka/group-join.js';
import type { GroupMembership, TopicPartition } from '../kafka/group-membership.js';
import type { RuntimeMetrics } from '../metrics/metrics.js';
import { commitDelayMs } from './faults.js';
import type { Logger } from './log.js';
import type { Assignment } from './pipeline-runner.js';

export interface GroupAssignmentDeps {
  kafka: Kafka;
  catalog: Catalog;
  pipeline: PipelineConfig;
  scaleOut: ScaleOutConfig;
  metrics: RuntimeMetrics;
  log: Logger;
  /**
   * The assignment changed. `revoked`: partitions to give up, awaited (bounded by the group's
   * revoke timeout) before the group hears they are released; `lost`: taken already, nothing of
   * them can be committed.
   */
  changed(change: { gained: number[]; revoked: number[]; lost: boolean }): Promise<void>;
  /** The membership failed for good (the broker refused it, or it is misconfigured). */
  failed(err: StreamError): void;
}

export class GroupAssignment {
  private readonly assigned = new Set<number>();
  private readonly fencedSet = new Set<number>();
  private readonly ownerships = new Map<string, PartitionOwnership>();
  private membership: GroupMembership | undefined;
  private closed = false;
  private readonly log: Logger;

  constructor(private readonly d: GroupAssignmentDeps) {
    this.log = d.log.child({ pipeline: d.pipeline.topic });
  }

  get member(): string {
    return this.d.scaleOut.member;
  }

  /** Joins the group; the first assignment arrives by `changed` (possibly before this resolves). */
  async join(): Promise<void> {
    const { pipeline, scaleOut } = this.d;
    const topic = pipeline.topic;
    const mine = (tps: TopicPartition[]) => tps.filter((tp) => tp.topic === topic).map((tp) => tp.partition);
    this.membership = await joinGroup(
      this.d.kafka,
      { groupId: pipeline.groupId, topics: [topic], protocol: scaleOut.protocol, sessionTimeoutMs: scaleOut.sessionTimeoutMs, rebalanceTimeoutMs: scaleOut.rebalanceTimeoutMs },
      {
        assigned: (tps, epoch) => {
          const gained = mine(tps).filter((p) => !this.assigned.has(p));
          if (gained.length === 0 || this.closed) return;
          for (const p of gained) {
            this.assigned.add(p);
            this.fencedSet.delete(p);
          }
          this.d.metrics.groupRebalances.inc({ pipeline: topic });
          this.log.log('info', 'partitions assigned', { partitions: gained, epoch, member: this.member });
          // Not awaited: the group goes on while the runner restarts with them.
          void this.d.changed({ gained, revoked: [], lost: false });
        },
        revoked: async (tps, epoch, lost) => {
          const gone = mine(tps).filter((p) => this.assigned.has(p));
          if (gone.length === 0 || this.closed) return;
          this.d.metrics.groupRebalances.inc({ pipeline: topic });
          this.log.log(lost ? 'warn' : 'info', 'partitions revoked', { partitions: gone, epoch, lost, member: this.member });
          for (const p of gone) this.assigned.delete(p);
          try {
            await this.d.changed({ gained: [], revoked: gone, lost });
          } finally {
            for (const p of gone) this.fencedSet.delete(p);
            for (const o of this.ownerships.values()) o.release(gone);
            // Their lag is another process's to report now: a stale series here would count twice.
            for (const p of gone) {
              this.d.metrics.consumerLag.remove({ pipeline: topic, partition: String(p) });
              this.d.metrics.consumerLagSeconds.remove({ pipeline: topic, partition: String(p) });
            }
          }
        },
        error: (err) => this.d.failed(err),
        log: (level, msg, fields) => this.log.log(level, msg, fields),
      },
    );
    this.log.log('info', `joined consumer group ${pipeline.groupId} as ${this.member} (${this.membership.protocol} protocol)`, { group: pipeline.groupId, member: this.member, protocol: this.membership.protocol });
  }

  /** The partitions a new runner reads: assigned and not fenced, sorted. */
  current(): number[] {
    return [...this.assigned].filter((p) => !this.fencedSet.has(p)).sort((a, b) => a - b);
  }

  /** What a runner gets: the current partitions, and the claims kept here. */
  forRunner(): Assignment {
    return {
      partitions: this.current(),
      ownership: (table) => this.ownership(table),
      fenced: (partitions) => this.fence(partitions),
    };
  }

  /** Partitions another process claimed: given up until the group assigns them again. */
  fence(partitions: readonly number[]): void {
    const fresh = partitions.filter((p) => this.assigned.has(p) && !this.fencedSet.has(p));
    for (const p of partitions) this.fencedSet.add(p);
    for (const o of this.ownerships.values()) o.release(partitions);
    if (fresh.length > 0) {
      this.d.metrics.partitionsFenced.inc({ pipeline: this.d.pipeline.topic }, fresh.length);
      this.log.log('warn', 'partitions fenced', { partitions: fresh, member: this.member });
    }
  }

  private ownership(table: TableIdentifier): PartitionOwnership {
    const key = `${table.namespace}.${table.name}`;
    let o = this.ownerships.get(key);
    if (!o) {
      const delayMs = commitDelayMs(this.d.pipeline.topic);
      o = new PartitionOwnership(this.d.catalog, table, { groupId: this.d.pipeline.groupId, topic: this.d.pipeline.topic, owner: this.member }, {
        onRetry: () => this.d.metrics.commitRetries.inc({ pipeline: this.d.pipeline.topic, table: table.name }),
        ...(delayMs > 0 ? { beforeSwap: () => new Promise<void>((resolve) => setTimeout(resolve, delayMs)) } : {}),
      });
      this.ownerships.set(key, o);
    }
    return o;
  }

  /** Leaves the group (its partitions move at once); call after the final checkpoint. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.membership?.close();
  }
}
