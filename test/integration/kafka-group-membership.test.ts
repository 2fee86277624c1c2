// Consumer-group membership against the real broker (Kafka 4.1 serves both protocols): members of
// one group on a 12-partition topic get disjoint assignments covering every partition, as members
// join, leave, and stop heartbeating (a process frozen with SIGSTOP past its session) — under the
// KIP-848 consumer protocol and the classic one. Assertions are on assignments only; every wait
// is bounded.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaConfig } from '../../src/config/types.js';
import { createKafka } from '../../src/kafka/client.js';
import { joinGroup } from '../../src/kafka/group-join.js';
import type { GroupMembership, TopicPartition } from '../../src/kafka/group-membership.js';
import { ROOT, ensureBuilt } from '../helpers/build.js';
import { sleep } from '../helpers/faults.js';
import { BOOTSTRAP, KAFKA_PORT, ensureKafka, uniqueTopic } from '../helpers/kafka.js';

const PARTITIONS = 12;
const config: KafkaConfig = { bootstrapServers: [BOOTSTRAP], clientId: 'group-membership-test', security: { protocol: 'PLAINTEXT' } };
/** The classic session this test asks for; the consumer protocol's comes from scripts/kafka.sh (10 s). */
const SESSION_MS = 6_000;

beforeAll(() => {
  ensureBuilt();
  ensureKafka();
}, 900_000);

async function newTopic(): Promise<string> {
  const topic = uniqueTopic('group');
  const admin = createKafka(config).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  return topic;
}

/**
 * Who owns what, as the members' own events say. A partition given to a member while another
 * live member still holds it is recorded as an overlap: the protocols promise there is none.
 */
class Ledger {
  readonly owners = new Map<number, string>();
  readonly overlaps: string[] = [];
  readonly lost = new Map<string, number>();
  /** The members' warnings: the proof that a fault was met, not missed. */
  readonly warnings: string[] = [];

  assigned(member: string, tps: TopicPartition[]): void {
    for (const { partition } of tps) {
      const holder = this.owners.get(partition);
      if (holder !== undefined && holder !== member) this.overlaps.push(`${partition} given to ${member} while ${holder} held it`);
      this.owners.set(partition, member);
    }
  }
  revoked(member: string, tps: TopicPartition[], lost: boolean): void {
    for (const { partition } of tps) if (this.owners.get(partition) === member) this.owners.delete(partition);
    if (lost) this.lost.set(member, (this.lost.get(member) ?? 0) + 1);
  }
  /** Forgets a member that no longer speaks for itself (frozen): what it held is open to others. */
  forget(member: string): void {
    for (const [p, m] of this.owners) if (m === member) this.owners.delete(p);
  }
}

const members: GroupMembership[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  await Promise.all(members.splice(0).map((m) => m.close()));
});

async function member(name: string, groupId: string, topic: string, protocol: 'consumer' | 'classic' | 'auto', ledger: Ledger, revokeMs = 0): Promise<GroupMembership> {
  const m = await joinGroup(
    createKafka(config),
    { groupId, topics: [topic], protocol, sessionTimeoutMs: SESSION_MS },
    {
      assigned: (tps) => ledger.assigned(name, tps),
      // A slow owner: a final checkpoint before the partitions are released.
      revoked: async (tps, _epoch, lost) => {
        if (!lost && revokeMs > 0) await sleep(revokeMs);
        ledger.revoked(name, tps, lost);
      },
      error: (err) => ledger.overlaps.push(`${name} failed: ${err.message}`),
      log: (level, msg) => {
        if (level !== 'info') ledger.warnings.push(`${name}: ${msg}`);
      },
    },
  );
  members.push(m);
  return m;
}

const partitionsOf = (m: { assignment(): TopicPartition[] }) => m.assignment().map((tp) => tp.partition);

/**
 * True when the assignments are disjoint, cover every partition, and are balanced (each member
 * holds 12/n, rounded either way) — the settled state both assignors reach; a rebalance passes
 * through disjoint but unbalanced states while revocations are acknowledged.
 */
function spread(assignments: number[][]): boolean {
  const all = assignments.flat();
  const fair = PARTITIONS / assignments.length;
  return assignments.every((a) => a.length >= Math.floor(fair) && a.length <= Math.ceil(fair)) && all.length === PARTITIONS && new Set(all).size === PARTITIONS;
}

async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(200);
  }
}

/** A member in a process of its own, reporting its events as JSON lines, so it can be frozen. */
function memberProcess(groupId: string, topic: string, protocol: 'consumer' | 'classic') {
  const dist = (f: string) => pathToFileURL(path.join(ROOT, 'dist/src/kafka', f)).href;
  const script = `
    const { createKafka } = await import(${JSON.stringify(dist('client.js'))});
    const { joinGroup } = await import(${JSON.stringify(dist('group-join.js'))});
    const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
    const ps = (tps) => tps.map((tp) => tp.partition);
    await joinGroup(createKafka(${JSON.stringify(config)}), { groupId: ${JSON.stringify(groupId)}, topics: [${JSON.stringify(topic)}], protocol: ${JSON.stringify(protocol)}, sessionTimeoutMs: ${SESSION_MS} }, {
      assigned: (tps) => say({ event: 'assigned', partitions: ps(tps) }),
      revoked: (tps, epoch, lost) => say({ event: 'revoked', partitions: ps(tps), lost }),
      error: (err) => say({ event: 'error', message: err.message }),
    });
    say({ event: 'joined' });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const owned = new Set<number>();
  const events: Array<{ event: string; partitions?: number[]; lost?: boolean; message?: string }> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const e = JSON.parse(line) as (typeof events)[number];
    events.push(e);
    if (e.event === 'assigned') for (const p of e.partitions!) owned.add(p);
    if (e.event === 'revoked') for (const p of e.partitions!) owned.delete(p);
  });
  return { child, events, assignment: () => [...owned].sort((a, b) => a - b).map((partition) => ({ topic, partition })) };
}

describe.each(['consumer', 'classic'] as const)('the %s protocol', (protocol) => {
  it('spreads 12 partitions over two, then three members, disjoint and complete, and moves a leaving member\'s partitions to the others', async () => {
    const topic = await newTopic();
    const groupId = `${topic}-group`;
    const ledger = new Ledger();
    const a = await member('a', groupId, topic, protocol, ledger);
    expect(a.protocol).toBe(protocol);
    await until('one member holds every partition', () => spread([partitionsOf(a)]));

    const b = await member('b', groupId, topic, protocol, ledger);
    await until('two members share the partitions', () => spread([partitionsOf(a), partitionsOf(b)]));
    expect(partitionsOf(a).length).toBe(6);

    const c = await member('c', groupId, topic, protocol, ledger);
    await until('three members share the partitions', () => spread([partitionsOf(a), partitionsOf(b), partitionsOf(c)]));
    expect([a, b, c].map((m) => partitionsOf(m).length)).toEqual([4, 4, 4]);

    // c leaves: its partitions go to a and b, which keep what they had.
    const before = { a: partitionsOf(a), b: partitionsOf(b), c: partitionsOf(c) };
    await c.close();
    members.splice(members.indexOf(c), 1);
    expect(c.assignment()).toEqual([]);
    await until('the two left share every partition', () => spread([partitionsOf(a), partitionsOf(b)]));
    for (const p of before.c) expect([...partitionsOf(a), ...partitionsOf(b)]).toContain(p);
    for (const p of before.a) expect(partitionsOf(a)).toContain(p);
    for (const p of before.b) expect(partitionsOf(b)).toContain(p);

    // The members' events agree with their assignments, and never gave a partition to two at once.
    expect(ledger.overlaps).toEqual([]);
    expect([...ledger.owners].filter(([, m]) => m === 'a').map(([p]) => p).sort((x, y) => x - y)).toEqual(partitionsOf(a));
    expect(ledger.lost.size).toBe(0);
  }, 180_000);

  it('keeps a member whose revocation outlasts the session (a slow final checkpoint): it goes on heartbeating, loses nothing, and releases cleanly', async () => {
    const topic = await newTopic();
    const groupId = `${topic}-group`;
    const ledger = new Ledger();
    // Longer than either session here: the broker's consumer-protocol 10 s, the classic 6 s.
    const a = await member('a', groupId, topic, protocol, ledger, 12_000);
    await until('one member holds every partition', () => spread([partitionsOf(a)]));
    const b = await member('b', groupId, topic, protocol, ledger);
    await until('two members share the partitions', () => spread([partitionsOf(a), partitionsOf(b)]), 90_000);
    expect(ledger.lost.size).toBe(0);
    expect(ledger.overlaps).toEqual([]);
    expect(ledger.warnings.filter((w) => /fenced|session/.test(w))).toEqual([]);
  }, 180_000);

  it('fences a member that stops heartbeating past its session: its partitions move, and on waking it finds them lost and joins again', async () => {
    const topic = await newTopic();
    const groupId = `${topic}-group`;
    const ledger = new Ledger();
    const a = await member('a', groupId, topic, protocol, ledger);
    const b = await member('b', groupId, topic, protocol, ledger);
    const frozen = memberProcess(groupId, topic, protocol);
    await until('three members share the partitions', () => spread([partitionsOf(a), partitionsOf(b), partitionsOf(frozen)]));
    const held = partitionsOf(frozen);
    expect(held.length).toBe(4);

    frozen.child.kill('SIGSTOP');
    ledger.forget('frozen');
    await until('the two live members take every partition', () => spread([partitionsOf(a), partitionsOf(b)]), 90_000);
    for (const p of held) expect([...partitionsOf(a), ...partitionsOf(b)]).toContain(p);
    // Frozen, it still believes it holds them: only the table's fence keeps such a zombie out.
    expect(partitionsOf(frozen)).toEqual(held);

    frozen.child.kill('SIGCONT');
    await until('the woken member learns its partitions are lost', () => frozen.events.some((e) => e.event === 'revoked' && e.lost === true));
    const lostEvent = frozen.events.find((e) => e.event === 'revoked' && e.lost === true)!;
    expect(lostEvent.partitions).toEqual(held);
    await until('it joins again and the three share the partitions', () => spread([partitionsOf(a), partitionsOf(b), partitionsOf(frozen)]), 90_000);
    expect(frozen.events.filter((e) => e.event === 'error')).toEqual([]);
    expect(ledger.overlaps).toEqual([]);
  }, 240_000);
});

/** `scripts/kafka.sh start|stop` on the test broker, without blocking the event loop. */
async function kafkaSh(cmd: 'start' | 'stop'): Promise<void> {
  await promisify(execFile)('bash', [path.join(ROOT, 'scripts/kafka.sh'), cmd], { env: { ...process.env, KAFKA_PORT: String(KAFKA_PORT) }, timeout: 300_000 });
}

describe('a broker restart', () => {
  it('members of both protocols find the coordinator again and keep sharing the partitions, and a newcomer is let in', async () => {
    const topic = await newTopic();
    const groups = { consumer: new Ledger(), classic: new Ledger() };
    const joined = {
      consumer: [await member('a', `${topic}-consumer`, topic, 'consumer', groups.consumer), await member('b', `${topic}-consumer`, topic, 'consumer', groups.consumer)],
      classic: [await member('a', `${topic}-classic`, topic, 'classic', groups.classic), await member('b', `${topic}-classic`, topic, 'classic', groups.classic)],
    };
    for (const ms of Object.values(joined)) await until('two members share the partitions', () => spread(ms.map(partitionsOf)));

    // Every connection breaks; while the broker is down and loading, the coordinator is unknown
    // or answers COORDINATOR_NOT_AVAILABLE / NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS.
    // Run apart from this thread, so that the members keep heartbeating into the outage.
    for (const ledger of Object.values(groups)) ledger.warnings.length = 0;
    await kafkaSh('stop');
    await sleep(3_000);
    await kafkaSh('start');

    for (const [protocol, ms] of Object.entries(joined)) {
      const ledger = groups[protocol as keyof typeof groups];
      ms.push(await member('c', `${topic}-${protocol}`, topic, protocol as 'consumer' | 'classic', ledger));
      await until(`${protocol}: three members share the partitions after the restart`, () => spread(ms.map(partitionsOf)), 120_000);
      expect(ledger.overlaps).toEqual([]);
      // a and b met the broken connections (a heartbeat failed) rather than sleeping through them.
      expect(ledger.warnings.filter((w) => /^[ab]: group (heartbeat|request) failed/.test(w)).length).toBeGreaterThan(0);
    }
  }, 300_000);
});

describe('choosing the protocol', () => {
  it('auto takes the consumer protocol from a broker whose ApiVersions lists ConsumerGroupHeartbeat', async () => {
    const topic = await newTopic();
    const m = await member('a', `${topic}-group`, topic, 'auto', new Ledger());
    expect(m.protocol).toBe('consumer');
    await until('it holds every partition', () => spread([partitionsOf(m)]));
  }, 60_000);
});
