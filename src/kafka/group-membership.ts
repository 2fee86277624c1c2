// Membership of a Kafka consumer group, for the scale-out mode: which partitions of a pipeline's
// topics this process reads. One interface over the two group protocols:
// - `consumer` (KIP-848, Kafka 4.0 and later): the broker computes the assignment and hands it
//   out in heartbeats (consumer-group-member.ts);
// - `classic` (every broker, e.g. MSK 3.x): join and sync rounds, the leader member computing a
//   sticky, cooperative assignment (classic-group-member.ts, sticky-assignor.ts).
// group-join.ts chooses between them.
//
// The group is for membership only. No offsets are committed to it: the position lives in the
// table, and a partition's new owner reads it there. So a partition moving between members is
// safe only because the table fences commits; the events here say who should read what, never
// who may commit — a member fenced by the broker, or paused past its session, may not yet know
// that it lost its partitions (hence `lost` on revocation, and the table's claim on gaining one).

import type { StreamError } from '../errors.js';
import type { KafkajsBroker, KafkajsCluster } from './kafkajs-cluster.js';

export interface TopicPartition {
  topic: string;
  partition: number;
}

export type GroupProtocol = 'consumer' | 'classic' | 'auto';

export interface MembershipEvents {
  /**
   * Partitions this member owns from now on, with the member epoch (the generation under the
   * classic protocol) at which they were given.
   */
  assigned(partitions: TopicPartition[], epoch: number): void | Promise<void>;
  /**
   * Partitions this member no longer owns. Awaited, for at most `revokeTimeoutMs`, before the
   * release is acknowledged to the group: the place to checkpoint or drop what is in flight.
   * `lost`: they were taken without this member giving them up (fenced, its session expired,
   * the group forgot it) — another member may already read them.
   */
  revoked(partitions: TopicPartition[], epoch: number, lost: boolean): void | Promise<void>;
  /** The membership failed for good (refused by the broker, misconfigured); it has stopped. */
  error(err: StreamError): void;
  log?(level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void;
}

export interface MembershipOptions {
  groupId: string;
  topics: string[];
  protocol?: GroupProtocol;
  /**
   * Classic: the session the broker keeps for this member. Consumer: the broker decides
   * (group.consumer.session.timeout.ms); this member gives up its partitions as lost when no
   * heartbeat has been answered for this long, as the broker will have fenced it by then.
   * Default 45 s.
   */
  sessionTimeoutMs?: number;
  /** How long the group waits for a member to release revoked partitions. Default 60 s. */
  rebalanceTimeoutMs?: number;
  /** How long `revoked` may take before the release goes on without it. Default: the rebalance timeout less 5 s. */
  revokeTimeoutMs?: number;
}

export interface GroupMembership {
  readonly protocol: 'consumer' | 'classic';
  readonly memberId: string;
  /** The partitions owned now, sorted by topic and partition. */
  assignment(): TopicPartition[];
  /** Stops heartbeating: revokes what it owns (awaited), then leaves the group so its partitions move at once. */
  close(): Promise<void>;
}

/** What both members need from the broker side: the coordinator, found again when it moves. */
export interface CoordinatorBroker extends KafkajsBroker {
  versions?: Record<number, { minVersion: number; maxVersion: number }>;
}

export interface GroupCluster extends KafkajsCluster {
  findGroupCoordinator(args: { groupId: string }): Promise<CoordinatorBroker>;
}

export const DEFAULT_SESSION_TIMEOUT_MS = 45_000;
export const DEFAULT_REBALANCE_TIMEOUT_MS = 60_000;

/** `a` less `b`, both as topic-partition lists. */
export function without(a: readonly TopicPartition[], b: readonly TopicPartition[]): TopicPartition[] {
  const drop = new Set(b.map(key));
  return a.filter((tp) => !drop.has(key(tp)));
}

export function key(tp: TopicPartition): string {
  return `${tp.topic}:${tp.partition}`;
}

export function sorted(tps: Iterable<TopicPartition>): TopicPartition[] {
  return [...tps].sort((x, y) => (x.topic < y.topic ? -1 : x.topic > y.topic ? 1 : x.partition - y.partition));
}

/** Kafka error codes both group protocols answer with. */
export const GROUP_ERRORS = {
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  UNKNOWN_MEMBER_ID: 25,
  REBALANCE_IN_PROGRESS: 27,
  GROUP_AUTHORIZATION_FAILED: 30,
  FENCED_MEMBER_EPOCH: 110,
} as const;
