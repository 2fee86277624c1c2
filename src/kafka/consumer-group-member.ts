// A member of a consumer group under the KIP-848 consumer protocol: one ConsumerGroupHeartbeat at a
// time to the group coordinator, at the interval the broker returns. The broker computes the
// assignment (its default uniform assignor) and answers with the partitions this member may use
// now; the member reconciles — revokes what is no longer in it, awaiting the owner's `revoked`,
// then takes what is new — and acknowledges by sending the partitions it owns in its next
// heartbeat, which it sends at once. Only after that acknowledgement does the broker give a
// revoked partition to another member.
//
// Errors (ConsumerGroupHeartbeatResponse.json lists them):
// - FENCED_MEMBER_EPOCH, UNKNOWN_MEMBER_ID: the broker has moved on without this member (its
//   session expired, or its epoch is stale). Everything it owned is lost — other members may
//   already read it — and it joins again with epoch 0 and the same member id.
// - NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE: the coordinator moved; find it again
//   (FindCoordinator, through kafkajs) and send again. COORDINATOR_LOAD_IN_PROGRESS: send again.
// - a broken connection or an unanswered request: the same, after a backoff, on a new kafkajs
//   cluster (as the fetch loop does: a kafkajs connection cut in the middle of an answer never
//   answers again, fetch-loop.ts says why). If nothing has been
//   answered for the session timeout, the broker has fenced the member by now: its partitions
//   are given up as lost without waiting to hear so, as a paused process must not go on reading.
// - anything else (authorization, a group of the other protocol, an invalid request): the
//   membership fails with a StreamError and stops.

import { randomUUID } from 'node:crypto';
import { letGo, withDeadline } from '../deadline.js';
import { StreamError } from '../errors.js';
import { heartbeatRequest, parseHeartbeatResponse, type HeartbeatRequest, type HeartbeatResponse, type TopicIdPartitions } from './group-heartbeat.js';
import {
  DEFAULT_REBALANCE_TIMEOUT_MS,
  DEFAULT_SESSION_TIMEOUT_MS,
  GROUP_ERRORS,
  key,
  sorted,
  type CoordinatorBroker,
  type GroupCluster,
  type GroupMembership,
  type MembershipEvents,
  type MembershipOptions,
  type TopicPartition,
} from './group-membership.js';
import { topicIds } from './topic-ids.js';

const LEAVE_EPOCH = -1;
const MAX_BACKOFF_MS = 5_000;
const LEAVE_DEADLINE_MS = 5_000;
/** An unanswered heartbeat is abandoned after this long, so the loop can find the coordinator again. */
const REQUEST_DEADLINE_MS = 30_000;

export class ConsumerGroupMember implements GroupMembership {
  readonly protocol = 'consumer';
  memberId: string;
  private epoch = 0;
  private readonly owned = new Map<string, TopicPartition>();
  /** The owned set, as last acknowledged to the broker; undefined until the first answer after a join. */
  private acked: string | undefined;
  private coordinator: CoordinatorBroker | undefined;
  /** The first cluster comes connected (group-join.ts); a replacement connects on first use. */
  private connected = true;
  private readonly names = new Map<string, string>();
  private readonly ids = new Map<string, string>();
  private intervalMs = 1_000;
  private failures = 0;
  private lastAnswer = Date.now();
  /** The heartbeat loop ends: closing, or refused for good. */
  private closed = false;
  private closing = false;
  /** Brought by heartbeats sent while an owner's callback ran: handled once it returns. */
  private deferredAssignment: { assignment: TopicIdPartitions; epoch: number } | undefined;
  private fencedMeanwhile = false;
  private epochMeanwhile: number | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private joined!: { resolve(): void; reject(err: StreamError): void };
  private readonly sessionTimeoutMs: number;
  private readonly rebalanceTimeoutMs: number;
  private readonly revokeTimeoutMs: number;

  constructor(
    private cluster: GroupCluster,
    private readonly newCluster: () => GroupCluster,
    private readonly o: MembershipOptions,
    private readonly events: MembershipEvents,
    private readonly version: 0 | 1,
  ) {
    // Version 1 members name themselves (KIP-1082); under version 0 the broker names the member.
    this.memberId = version >= 1 ? randomUUID() : '';
    this.sessionTimeoutMs = o.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    this.rebalanceTimeoutMs = o.rebalanceTimeoutMs ?? DEFAULT_REBALANCE_TIMEOUT_MS;
    this.revokeTimeoutMs = o.revokeTimeoutMs ?? Math.max(1_000, this.rebalanceTimeoutMs - 5_000);
  }

  /** Resolves once the broker has taken this member in (epoch > 0); rejects if it refuses for good. */
  async start(): Promise<void> {
    const joined = new Promise<void>((resolve, reject) => (this.joined = { resolve, reject }));
    await this.resolveTopicIds();
    this.loop = this.run();
    await joined;
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
    if (this.epoch > 0) {
      // Leaving moves the partitions at once, instead of after the session timeout.
      const leave: HeartbeatRequest = { groupId: this.o.groupId, memberId: this.memberId, memberEpoch: LEAVE_EPOCH, rebalanceTimeoutMs: -1, subscribedTopicNames: null, topicPartitions: null };
      await withDeadline(this.send(leave), LEAVE_DEADLINE_MS, () => new Error('leave unanswered')).catch((err: unknown) =>
        this.log('warn', 'leaving the group failed; the broker moves the partitions when the session expires', { groupId: this.o.groupId, error: (err as Error).message }),
      );
      this.epoch = 0;
    }
    await this.cluster.disconnect().catch(() => {});
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      const delay = await this.beat();
      if (this.closed) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** One heartbeat and what follows from its answer; returns how long to wait before the next. */
  private async beat(): Promise<number> {
    // A process paused past its session (SIGSTOP, a long stall) has been fenced by now: it gives
    // its partitions up before anything else, not one round trip later.
    await this.expireIfSilent();
    let res: HeartbeatResponse;
    try {
      res = await this.send(this.nextRequest());
    } catch (err) {
      if (this.closed) return 0;
      this.replaceCluster();
      if (this.failures === 0) this.log('warn', 'group heartbeat failed; finding the coordinator again', { groupId: this.o.groupId, error: (err as Error).message });
      await this.expireIfSilent();
      return this.backoff();
    }
    return this.handle(res);
  }

  private async handle(res: HeartbeatResponse): Promise<number> {
    const E = GROUP_ERRORS;
    switch (res.errorCode) {
      case 0:
        break;
      case E.FENCED_MEMBER_EPOCH:
      case E.UNKNOWN_MEMBER_ID:
        // A version 0 member gets a new id from the broker; a version 1 member keeps its own.
        if (res.errorCode === E.UNKNOWN_MEMBER_ID && this.version === 0) this.memberId = '';
        this.log('warn', 'fenced by the group coordinator; partitions lost, joining again', { groupId: this.o.groupId, memberId: this.memberId, epoch: this.epoch, errorCode: res.errorCode });
        await this.loseAll();
        return 0;
      case E.NOT_COORDINATOR:
      case E.COORDINATOR_NOT_AVAILABLE:
        this.coordinator = undefined;
        return this.backoff();
      case E.COORDINATOR_LOAD_IN_PROGRESS:
        return this.backoff();
      default:
        this.fail(res);
        return 0;
    }
    this.failures = 0;
    this.lastAnswer = Date.now();
    if (res.memberId !== null && res.memberId !== '') this.memberId = res.memberId;
    const joining = this.epoch === 0;
    this.epoch = res.memberEpoch;
    this.intervalMs = res.heartbeatIntervalMs;
    if (res.assignment !== null) await this.reconcile(res.assignment);
    // What heartbeats brought while `revoked` ran: a newer assignment, or the news of a fence.
    while (this.deferredAssignment !== undefined && !this.fencedMeanwhile) {
      const next = this.deferredAssignment;
      this.deferredAssignment = undefined;
      // The epoch came with the assignment: heartbeats after it must carry it, or be fenced.
      this.epoch = next.epoch;
      await this.reconcile(next.assignment);
    }
    if (this.fencedMeanwhile) {
      this.fencedMeanwhile = false;
      this.epochMeanwhile = undefined;
      await this.loseAll();
      return 0;
    }
    if (this.epochMeanwhile !== undefined && this.epoch > 0) this.epoch = this.epochMeanwhile;
    this.epochMeanwhile = undefined;
    if (joining) this.joined.resolve();
    // An acknowledgement due goes at once: the broker holds revoked partitions back until then.
    return this.ownedKey() === this.acked ? this.intervalMs : 0;
  }

  private async reconcile(target: TopicIdPartitions): Promise<void> {
    const want = new Map<string, TopicPartition>();
    for (const { topicId, partitions } of target) {
      let topic = this.names.get(topicId);
      if (topic === undefined) {
        await this.resolveTopicIds();
        topic = this.names.get(topicId);
      }
      if (topic === undefined) {
        this.log('warn', 'assigned partitions of a topic this member did not subscribe to; ignored', { groupId: this.o.groupId, topicId });
        continue;
      }
      for (const partition of partitions) want.set(key({ topic, partition }), { topic, partition });
    }
    const revoked = [...this.owned.values()].filter((tp) => !want.has(key(tp)));
    const added = [...want.values()].filter((tp) => !this.owned.has(key(tp)));
    if (revoked.length > 0) {
      await this.whileHeartbeating(this.release(sorted(revoked), false));
      for (const tp of revoked) this.owned.delete(key(tp));
    }
    if (added.length > 0) {
      for (const tp of added) this.owned.set(key(tp), tp);
      await this.whileHeartbeating(Promise.resolve(this.events.assigned(sorted(added), this.epoch)));
    }
  }

  /**
   * Heartbeats at the broker's interval while `work` (an owner's callback: a final checkpoint
   * may take seconds) runs, so that the session does not expire under it. They acknowledge
   * nothing (owned partitions unchanged); an assignment or a fence they bring is kept and
   * handled when `work` is done, so the owner's callbacks never overlap.
   */
  private async whileHeartbeating<T>(work: Promise<T>): Promise<T> {
    let busy = false;
    const timer = setInterval(() => {
      if (busy || this.epoch <= 0) return;
      busy = true;
      this.send({ ...this.nextRequest(), topicPartitions: null })
        .then(
          (res) => {
            if (res.errorCode === 0) {
              if (res.assignment !== null) this.deferredAssignment = { assignment: res.assignment, epoch: res.memberEpoch };
              this.epochMeanwhile = res.memberEpoch;
              this.intervalMs = res.heartbeatIntervalMs;
              this.lastAnswer = Date.now();
            } else if (res.errorCode === GROUP_ERRORS.FENCED_MEMBER_EPOCH || res.errorCode === GROUP_ERRORS.UNKNOWN_MEMBER_ID) {
              this.fencedMeanwhile = true;
            }
          },
          () => {},
        )
        .finally(() => (busy = false));
    }, this.intervalMs);
    try {
      return await work;
    } finally {
      clearInterval(timer);
    }
  }

  private nextRequest(): HeartbeatRequest {
    const joining = this.epoch === 0;
    const owned = this.ownedKey();
    return {
      groupId: this.o.groupId,
      memberId: this.memberId,
      memberEpoch: this.epoch,
      rebalanceTimeoutMs: joining ? this.rebalanceTimeoutMs : -1,
      subscribedTopicNames: joining ? this.o.topics : null,
      // Sent on joining (empty) and whenever the owned set differs from what the broker last heard.
      topicPartitions: joining || owned !== this.acked ? this.ownedByTopicId() : null,
    };
  }

  private async send(request: HeartbeatRequest): Promise<HeartbeatResponse> {
    this.coordinator ??= await this.findCoordinator();
    const sentOwned = this.ownedKey();
    const res = await withDeadline(
      this.coordinator.connectionPool.send<HeartbeatResponse>({
        request: heartbeatRequest(request, this.version),
        response: {
          decode: async (payload) => {
            const value = parseHeartbeatResponse(payload);
            return { clientSideThrottleTime: value.throttleTimeMs, value };
          },
          parse: async (decoded) => decoded.value,
        },
      }),
      REQUEST_DEADLINE_MS,
      () => new StreamError('KAFKA_UNAVAILABLE', `group ${this.o.groupId}: a heartbeat went unanswered for ${REQUEST_DEADLINE_MS} ms`),
    );
    if (res.errorCode === 0 && request.topicPartitions !== null) this.acked = sentOwned;
    return res;
  }

  private async findCoordinator(): Promise<CoordinatorBroker> {
    if (!this.connected) {
      await this.cluster.connect();
      this.connected = true;
    }
    return this.cluster.findGroupCoordinator({ groupId: this.o.groupId });
  }

  private replaceCluster(): void {
    letGo(this.cluster);
    this.cluster = this.newCluster();
    this.connected = false;
    this.coordinator = undefined;
  }

  private async resolveTopicIds(): Promise<void> {
    this.coordinator ??= await this.findCoordinator();
    for (const t of await topicIds(this.coordinator, this.o.topics)) {
      this.names.set(t.id, t.name);
      this.ids.set(t.name, t.id);
    }
  }

  private ownedByTopicId(): TopicIdPartitions {
    const byTopic = new Map<string, number[]>();
    for (const tp of this.assignment()) {
      const id = this.ids.get(tp.topic)!;
      byTopic.set(id, [...(byTopic.get(id) ?? []), tp.partition]);
    }
    return [...byTopic].map(([topicId, partitions]) => ({ topicId, partitions }));
  }

  private ownedKey(): string {
    return this.assignment().map(key).join(',');
  }

  /** Awaits the owner's `revoked`, for at most the revoke timeout: a stuck owner cannot hold the group. */
  private async release(partitions: TopicPartition[], lost: boolean): Promise<void> {
    try {
      await withDeadline(Promise.resolve(this.events.revoked(partitions, this.epoch, lost)), this.revokeTimeoutMs, () => new Error(`not released within ${this.revokeTimeoutMs} ms`));
    } catch (err) {
      this.log('warn', 'releasing revoked partitions failed; they are released anyway', { groupId: this.o.groupId, error: (err as Error).message });
    }
  }

  private async loseAll(): Promise<void> {
    const owned = this.assignment();
    this.owned.clear();
    this.epoch = 0;
    this.acked = undefined;
    if (owned.length > 0) await this.release(owned, true);
  }

  private async expireIfSilent(): Promise<void> {
    if (this.epoch > 0 && Date.now() - this.lastAnswer > this.sessionTimeoutMs) {
      this.log('warn', 'no heartbeat answered within the session timeout; partitions lost', { groupId: this.o.groupId, sessionTimeoutMs: this.sessionTimeoutMs });
      await this.loseAll();
    }
  }

  private backoff(): number {
    this.failures++;
    return Math.min(100 * 2 ** this.failures, MAX_BACKOFF_MS);
  }

  private fail(res: HeartbeatResponse): void {
    const code = res.errorCode === GROUP_ERRORS.GROUP_AUTHORIZATION_FAILED ? 'KAFKA_AUTH_FAILED' : res.errorCode === GROUP_ERRORS.INCONSISTENT_GROUP_PROTOCOL ? 'CONFIG_INVALID' : 'KAFKA_PROTOCOL';
    const hint = code === 'CONFIG_INVALID' ? ': the group has members of the classic protocol; give the pipeline a group of its own or use the classic protocol' : '';
    const err = new StreamError(code, `group ${this.o.groupId}: the coordinator refused the heartbeat with error code ${res.errorCode}${res.errorMessage ? ` (${res.errorMessage})` : ''}${hint}`, {
      details: { groupId: this.o.groupId, errorCode: res.errorCode },
    });
    this.closed = true; // the loop ends; close() still releases, leaves and disconnects
    if (this.epoch === 0) this.joined.reject(err);
    else this.events.error(err);
  }

  private log(level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void {
    this.events.log?.(level, msg, fields);
  }
}
