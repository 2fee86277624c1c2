// A member of a consumer group under the classic protocol (JoinGroup, SyncGroup, Heartbeat,
// LeaveGroup), for brokers without KIP-848 such as MSK 3.x. Protocol type `consumer`; the leader
// member computes the assignment (sticky-assignor.ts) and hands it out through SyncGroup.
//
// The requests themselves are kafkajs' (its broker's joinGroup, syncGroup, heartbeat and
// leaveGroup, and its MemberMetadata / MemberAssignment encoders of the consumer protocol's
// embedded formats): they pick the version each broker serves, from 0.10 to 4.x, and answer the
// MEMBER_ID_REQUIRED round trip (KIP-394); none of them is on the data path, so their per-call
// object decoding costs nothing that matters. kafkajs' own consumer group is not used: it is
// bound to its fetcher and commits offsets, and this group must only hold membership.
//
// The protocol is named `streamberg-sticky`, not `cooperative-sticky`: each member's owned
// partitions travel in the subscription's user data, which only this assignor reads, so a Java
// consumer must not take part in the same group (the broker refuses a member whose protocols
// share no name with the group's: INCONSISTENT_GROUP_PROTOCOL).
//
// Rebalances are cooperative: a member keeps reading what it keeps; on a new assignment it
// revokes what is gone (awaiting its owner) and, if it gave anything up, joins again at once so
// the partitions withheld from their new owners can be handed out (sticky-assignor.ts).

import { createRequire } from 'node:module';
import { letGo, withDeadline } from '../deadline.js';
import { StreamError } from '../errors.js';
import {
  DEFAULT_REBALANCE_TIMEOUT_MS,
  DEFAULT_SESSION_TIMEOUT_MS,
  key,
  sorted,
  without,
  type CoordinatorBroker,
  type GroupCluster,
  type GroupMembership,
  type MembershipEvents,
  type MembershipOptions,
  type TopicPartition,
} from './group-membership.js';
import { assignSticky, type AssignorMember } from './sticky-assignor.js';

const require = createRequire(import.meta.url);
const { MemberMetadata, MemberAssignment } = require('kafkajs/src/consumer/assignerProtocol.js') as {
  MemberMetadata: { encode(m: { version: number; topics: string[]; userData?: Buffer }): Buffer; decode(b: Buffer): { version: number; topics: string[]; userData: Buffer } };
  MemberAssignment: { encode(a: { version: number; assignment: Record<string, number[]>; userData?: Buffer }): Buffer; decode(b: Buffer): { assignment: Record<string, number[]> } | null };
};

export const CLASSIC_PROTOCOL_NAME = 'streamberg-sticky';
const MAX_BACKOFF_MS = 5_000;
const LEAVE_DEADLINE_MS = 5_000;

interface ClassicBroker extends CoordinatorBroker {
  joinGroup(r: { groupId: string; sessionTimeout: number; rebalanceTimeout: number; memberId: string; protocolType: string; groupProtocols: Array<{ name: string; metadata: Buffer }> }): Promise<{
    generationId: number;
    leaderId: string;
    memberId: string;
    members: Array<{ memberId: string; memberMetadata: Buffer }>;
  }>;
  syncGroup(r: { groupId: string; generationId: number; memberId: string; groupAssignment: Array<{ memberId: string; memberAssignment: Buffer }> }): Promise<{ memberAssignment: Buffer }>;
  heartbeat(r: { groupId: string; groupGenerationId: number; memberId: string }): Promise<unknown>;
  leaveGroup(r: { groupId: string; memberId: string }): Promise<unknown>;
}

interface ClassicCluster extends GroupCluster {
  findTopicPartitionMetadata(topic: string): unknown[];
}

/** kafkajs' name for a broker's error code, when `err` is a protocol error. */
const errorType = (err: unknown): string | undefined => (err as { type?: unknown } | undefined)?.type as string | undefined;

const COORDINATOR_MOVED = new Set(['NOT_COORDINATOR_FOR_GROUP', 'GROUP_COORDINATOR_NOT_AVAILABLE', 'GROUP_LOAD_IN_PROGRESS']);

export class ClassicGroupMember implements GroupMembership {
  readonly protocol = 'classic';
  memberId = '';
  private generation = -1;
  private readonly owned = new Map<string, TopicPartition>();
  private coordinator: ClassicBroker | undefined;
  /** The first cluster comes connected (group-join.ts); a replacement connects on first use. */
  private connected = true;
  /** The heartbeat loop ends: closing, or refused for good. */
  private closed = false;
  private closing = false;
  private failures = 0;
  private lastAnswer = Date.now();
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly sessionTimeoutMs: number;
  private readonly rebalanceTimeoutMs: number;
  private readonly revokeTimeoutMs: number;
  private readonly heartbeatIntervalMs: number;

  constructor(
    private cluster: GroupCluster,
    private readonly newCluster: () => GroupCluster,
    private readonly o: MembershipOptions,
    private readonly events: MembershipEvents,
  ) {
    this.sessionTimeoutMs = o.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    this.rebalanceTimeoutMs = o.rebalanceTimeoutMs ?? DEFAULT_REBALANCE_TIMEOUT_MS;
    this.revokeTimeoutMs = o.revokeTimeoutMs ?? Math.max(1_000, this.rebalanceTimeoutMs - 5_000);
    // Three heartbeats to a session, as Kafka's own consumer sends by default.
    this.heartbeatIntervalMs = Math.max(100, Math.floor(this.sessionTimeoutMs / 3));
  }

  async start(): Promise<void> {
    await this.join();
    this.loop = this.run();
  }

  assignment(): TopicPartition[] {
    return sorted(this.owned.values());
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.closed = true;
    this.wake?.();
    await this.loop;
    const owned = this.assignment();
    if (owned.length > 0) await this.whileHeartbeating(this.release(owned, false));
    this.owned.clear();
    if (this.memberId !== '') {
      await withDeadline(this.broker().then((b) => b.leaveGroup({ groupId: this.o.groupId, memberId: this.memberId })), LEAVE_DEADLINE_MS, () => new Error('leave unanswered')).catch((err: unknown) =>
        this.log('warn', 'leaving the group failed; the broker moves the partitions when the session expires', { groupId: this.o.groupId, error: (err as Error).message }),
      );
    }
    await this.cluster.disconnect().catch(() => {});
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      await this.sleep(this.failures === 0 ? this.heartbeatIntervalMs : this.backoffMs());
      if (this.closed) break;
      // A process paused past its session (SIGSTOP, a long stall) has been expelled by now: it
      // gives its partitions up before anything else, not one round trip later.
      if (this.generation >= 0 && Date.now() - this.lastAnswer > this.sessionTimeoutMs) {
        this.log('warn', 'no heartbeat answered within the session timeout; partitions lost', { groupId: this.o.groupId, sessionTimeoutMs: this.sessionTimeoutMs });
        await this.loseAll();
      }
      try {
        await (await this.broker()).heartbeat({ groupId: this.o.groupId, groupGenerationId: this.generation, memberId: this.memberId });
        this.failures = 0;
        this.lastAnswer = Date.now();
      } catch (err) {
        if (this.closed) break;
        try {
          await this.recover(err);
          if (this.rejoinNeeded(err)) await this.join();
        } catch (fatal) {
          this.closed = true; // the loop ends; close() still releases, leaves and disconnects
          this.events.error(fatal instanceof StreamError ? fatal : new StreamError('KAFKA_PROTOCOL', `group ${this.o.groupId}: ${(fatal as Error).message}`, { cause: fatal }));
        }
      }
    }
  }

  /** What a failed request means for this member; throws when the group refuses it for good. */
  private async recover(err: unknown): Promise<void> {
    const type = errorType(err);
    if (type === 'REBALANCE_IN_PROGRESS') return;
    if (type === 'ILLEGAL_GENERATION' || type === 'UNKNOWN_MEMBER_ID' || type === 'FENCED_INSTANCE_ID') {
      this.log('warn', 'fenced by the group coordinator; partitions lost, joining again', { groupId: this.o.groupId, memberId: this.memberId, generation: this.generation, error: type });
      if (type === 'UNKNOWN_MEMBER_ID') this.memberId = '';
      await this.loseAll();
      return;
    }
    if (type === 'GROUP_AUTHORIZATION_FAILED') throw new StreamError('KAFKA_AUTH_FAILED', `group ${this.o.groupId}: not authorized to join the group`, { cause: err });
    if (type === 'INCONSISTENT_GROUP_PROTOCOL') {
      throw new StreamError('CONFIG_INVALID', `group ${this.o.groupId}: the group's members speak another protocol than ${CLASSIC_PROTOCOL_NAME} (another application, or KIP-848 members); give the pipeline a group of its own`, { cause: err });
    }
    if (type === 'INVALID_SESSION_TIMEOUT') {
      throw new StreamError('CONFIG_INVALID', `group ${this.o.groupId}: the broker refuses a session timeout of ${this.sessionTimeoutMs} ms (outside group.min/max.session.timeout.ms)`, { cause: err });
    }
    // The coordinator moved or is loading, a connection broke, a request went unanswered. A
    // broken connection means a new cluster: a kafkajs connection cut in the middle of an answer
    // never answers again (fetch-loop.ts says why).
    this.coordinator = undefined;
    if (type === undefined) {
      letGo(this.cluster);
      this.cluster = this.newCluster();
      this.connected = false;
    }
    if (this.failures++ === 0 && !COORDINATOR_MOVED.has(type ?? '')) this.log('warn', 'group request failed; finding the coordinator again', { groupId: this.o.groupId, error: (err as Error).message });
    if (this.generation >= 0 && Date.now() - this.lastAnswer > this.sessionTimeoutMs) {
      this.log('warn', 'no heartbeat answered within the session timeout; partitions lost', { groupId: this.o.groupId, sessionTimeoutMs: this.sessionTimeoutMs });
      await this.loseAll();
    }
  }

  private rejoinNeeded(err: unknown): boolean {
    const type = errorType(err);
    return type === 'REBALANCE_IN_PROGRESS' || type === 'ILLEGAL_GENERATION' || type === 'UNKNOWN_MEMBER_ID' || this.generation < 0;
  }

  /** Join and sync rounds until this member holds an assignment it gave nothing up for. */
  private async join(): Promise<void> {
    while (!this.closed) {
      try {
        const broker = await this.broker();
        const metadata = MemberMetadata.encode({ version: 0, topics: this.o.topics, userData: Buffer.from(JSON.stringify(this.ownedByTopic())) });
        const joined = await broker.joinGroup({
          groupId: this.o.groupId,
          sessionTimeout: this.sessionTimeoutMs,
          rebalanceTimeout: this.rebalanceTimeoutMs,
          memberId: this.memberId,
          protocolType: 'consumer',
          groupProtocols: [{ name: CLASSIC_PROTOCOL_NAME, metadata }],
        });
        this.memberId = joined.memberId;
        const groupAssignment = joined.leaderId === joined.memberId ? await this.lead(joined.members) : [];
        const synced = await broker.syncGroup({ groupId: this.o.groupId, generationId: joined.generationId, memberId: this.memberId, groupAssignment });
        this.generation = joined.generationId;
        this.failures = 0;
        this.lastAnswer = Date.now();
        const gaveUp = await this.apply(MemberAssignment.decode(synced.memberAssignment)?.assignment ?? {});
        if (!gaveUp) return;
      } catch (err) {
        await this.recover(err);
        if (errorType(err) !== 'REBALANCE_IN_PROGRESS') await this.sleep(this.backoffMs());
      }
    }
  }

  /** The leader's part: every member's assignment, from their subscriptions and what they own. */
  private async lead(members: Array<{ memberId: string; memberMetadata: Buffer }>): Promise<Array<{ memberId: string; memberAssignment: Buffer }>> {
    const assignorMembers: AssignorMember[] = members.map(({ memberId, memberMetadata }) => {
      const m = MemberMetadata.decode(memberMetadata);
      return { memberId, topics: m.topics, owned: parseOwned(m.userData) };
    });
    const topics = [...new Set(assignorMembers.flatMap((m) => m.topics))];
    const cluster = this.cluster as ClassicCluster;
    for (const t of topics) await cluster.addTargetTopic(t);
    await cluster.refreshMetadata();
    const counts = new Map(topics.map((t) => [t, cluster.findTopicPartitionMetadata(t).length]));
    const assignment = assignSticky(assignorMembers, counts);
    return [...assignment].map(([memberId, tps]) => ({ memberId, memberAssignment: MemberAssignment.encode({ version: 0, assignment: byTopic(tps) }) }));
  }

  /** Revokes what the new assignment leaves out, then takes what is new; true if anything was given up. */
  private async apply(assignment: Record<string, number[]>): Promise<boolean> {
    const next = Object.entries(assignment).flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })));
    const current = this.assignment();
    const revoked = without(current, next);
    const added = without(next, current);
    if (revoked.length > 0) {
      await this.whileHeartbeating(this.release(revoked, false));
      for (const tp of revoked) this.owned.delete(key(tp));
    }
    if (added.length > 0) {
      for (const tp of added) this.owned.set(key(tp), tp);
      await this.whileHeartbeating(Promise.resolve(this.events.assigned(sorted(added), this.generation)));
    }
    return revoked.length > 0;
  }

  /**
   * Heartbeats while `work` (an owner's callback: a final checkpoint may take seconds) runs, so
   * the session does not expire under it. Their answers are not needed: a rebalance they would
   * announce is announced again to the next heartbeat of the loop.
   */
  private async whileHeartbeating<T>(work: Promise<T>): Promise<T> {
    let busy = false;
    const timer = setInterval(() => {
      if (busy || this.generation < 0) return;
      busy = true;
      this.broker()
        .then((b) => b.heartbeat({ groupId: this.o.groupId, groupGenerationId: this.generation, memberId: this.memberId }))
        .catch(() => {})
        .finally(() => (busy = false));
    }, this.heartbeatIntervalMs);
    try {
      return await work;
    } finally {
      clearInterval(timer);
    }
  }

  private async broker(): Promise<ClassicBroker> {
    if (!this.connected) {
      await this.cluster.connect();
      this.connected = true;
    }
    this.coordinator ??= (await this.cluster.findGroupCoordinator({ groupId: this.o.groupId })) as ClassicBroker;
    return this.coordinator;
  }

  private ownedByTopic(): Record<string, number[]> {
    return byTopic(this.assignment());
  }

  private async release(partitions: TopicPartition[], lost: boolean): Promise<void> {
    try {
      await withDeadline(Promise.resolve(this.events.revoked(partitions, this.generation, lost)), this.revokeTimeoutMs, () => new Error(`not released within ${this.revokeTimeoutMs} ms`));
    } catch (err) {
      this.log('warn', 'releasing revoked partitions failed; they are released anyway', { groupId: this.o.groupId, error: (err as Error).message });
    }
  }

  private async loseAll(): Promise<void> {
    const owned = this.assignment();
    this.owned.clear();
    if (owned.length > 0) await this.release(owned, true);
    this.generation = -1;
  }

  private backoffMs(): number {
    return Math.min(100 * 2 ** Math.max(1, this.failures), MAX_BACKOFF_MS);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private log(level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void {
    this.events.log?.(level, msg, fields);
  }
}

function byTopic(tps: readonly TopicPartition[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const { topic, partition } of tps) (out[topic] ??= []).push(partition);
  return out;
}

/** The owned partitions in a member's user data; nothing when it is absent or not ours. */
function parseOwned(userData: Buffer | null): TopicPartition[] {
  if (userData === null || userData.length === 0) return [];
  try {
    const owned = JSON.parse(userData.toString('utf8')) as Record<string, unknown>;
    return Object.entries(owned).flatMap(([topic, ps]) => (Array.isArray(ps) ? ps.filter((p): p is number => Number.isInteger(p)).map((partition) => ({ topic, partition })) : []));
  } catch {
    return [];
  }
}
