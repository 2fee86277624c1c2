// Several runtime processes sharing one topic's partitions through the Kafka consumer group
// (runtime.scale_out): real processes killed, stopped, frozen and started again under a running
// producer, the tables read back by pyiceberg — every record produced exactly once, nothing
// else — and every partition owned at the end, in the table, by one live process.

import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../helpers/build.js';
import { expectExactlyOnce } from '../helpers/expectations.js';
import { ensureKafka } from '../helpers/kafka.js';
import { ensurePythonEnv } from '../helpers/python.js';
import { expectedRecords, produce, type RuntimeProject } from '../helpers/runtime.js';
import { Fleet, metricValue, waitUntil } from '../helpers/fleet.js';
import {
  expectDeadLetterPositionCovers,
  expectOwnedByLiveMembers,
  positionNow,
  scaleOutProject,
  startLoad,
  tableOwnership,
  waitForCommitted,
  zombieWrites,
  type GroupProtocol,
  type Load,
} from '../helpers/scale-out.js';
import { seeded, seedFrom } from '../helpers/seed.js';

beforeAll(() => {
  ensureBuilt();
  ensureKafka();
  ensurePythonEnv();
}, 900_000);

const PARTITIONS = 12;
const MALFORMED = 0.02;
const USER_RECORDS = 300;
// One transform worker each: four processes share two cores with the broker and the producer.
const ARGS = ['--parallelism', '1', '--checkpoint-interval', '2s'];

/** The user pipeline gets a few records before the fleet starts, so both pipelines run. */
function project(protocol: GroupProtocol, userSeed: number): RuntimeProject {
  const p = scaleOutProject({ protocol, sessionTimeout: '10s', rebalanceTimeout: '20s' });
  produce(p, p.user, ['--count', String(USER_RECORDS), '--partitions', '2', '--seed', String(userSeed)]);
  return p;
}

/** Starts writing the bid topic (made with 12 partitions by the first chunk) and waits for that chunk. */
/**
 * A producer's load and a fleet of processes for one test: the members' logs are printed when the
 * body fails, and both are stopped after it either way.
 */
async function withFleet(p: RuntimeProject, seed: number, loadMs: number, args: string[], body: (fleet: Fleet, l: Load) => Promise<void>): Promise<void> {
  const l = await load(p, seed, loadMs);
  const fleet = new Fleet(p, args);
  try {
    await body(fleet, l);
  } catch (err) {
    console.log(fleet.logs());
    throw err;
  } finally {
    await l.stop();
    await fleet.stopAll();
  }
}

async function load(p: RuntimeProject, seed: number, maxMs: number): Promise<Load> {
  const l = startLoad(p, p.bid, { total: 200_000, maxMs, chunk: 2000, partitions: PARTITIONS, seed, malformedRatio: MALFORMED });
  await waitUntil('the first chunk produced', () => (l.produced() > 0 ? true : undefined), 60_000);
  return l;
}

/**
 * Stops the producer, waits until the bid table and the user table hold every record (the
 * dead-letter table's position moves only with dead letters, so it may stop short), and checks
 * them: exactly once, and every partition owned by a live member as its metrics say.
 */
async function finish(fleet: Fleet, p: RuntimeProject, l: Load, seed: number, userSeed: number, commitTimeoutMs: number): Promise<number> {
  const total = await l.stop();
  const counts = await fleet.settled(p.bid, PARTITIONS, 120_000);
  await waitForCommitted(p, 'parsed_events', p.bid, total, commitTimeoutMs);
  await waitForCommitted(p, 'user_events_enriched', p.user, USER_RECORDS, commitTimeoutMs);
  await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, total, seed, MALFORMED));
  // Each epoch commits its dead letters before its rows: with every row in, every dead letter is.
  await expectDeadLetterPositionCovers(p, 'parsed_events', p.bid);
  await expectExactlyOnce(p, p.user, 'user_events_enriched', expectedRecords(p, p.user, USER_RECORDS, userSeed, 0));
  // Nothing moved since the gauges were read: the same members still read the same partitions.
  expect(await fleet.settled(p.bid, PARTITIONS, 30_000)).toEqual(counts);
  const { history } = await expectOwnedByLiveMembers(fleet, p, 'parsed_events', p.bid, PARTITIONS, counts);
  await expectOwnedByLiveMembers(fleet, p, 'parsed_events_dlq', p.bid, PARTITIONS, counts);
  const claims = history.filter((s) => s.addedFiles === 0).length;
  console.log(`${total} records produced; parsed_events: ${history.length} snapshots on main (${claims} without data: claims), partitions read at the end ${[...counts].map(([m, n]) => `${m}=${n}`).join(' ')}`);
  return total;
}

describe('several processes on one topic (runtime.scale_out)', () => {
  // Each protocol once: the broker computes KIP-848 assignments; classic's are computed by a
  // member (the group leader), with cooperative revocation.
  it.each([['consumer', 21], ['classic', 23]] as const)(
    '%s protocol: 3 processes under load; kill -9 one, start a fourth, SIGTERM another — exactly once, each partition owned by one live process',
    async (protocol, seed) => {
      const p = project(protocol, seed + 1);
      await withFleet(p, seed, 90_000, ARGS, async (fleet, l) => {
        await Promise.all(['a', 'b', 'c'].map((n) => fleet.start(n)));
        await fleet.settled(p.bid, PARTITIONS, 90_000);

        // What a holds in the table when it dies: its claims are in before it reports running.
        const ofA = await waitUntil(
          'a holding partitions in parsed_events',
          async () => {
            const mine = [...(await positionNow(p, 'parsed_events', p.bid))].filter(([, e]) => e.owner === 'a');
            return mine.length > 0 ? new Map(mine.map(([q, e]) => [q, e.next])) : undefined;
          },
          30_000,
        );
        const killedAt = Date.now();
        await fleet.kill('a');
        await fleet.start('d');
        // a's partitions move once its session (10 s) runs out; d gets a share. Meanwhile: how
        // long until every partition a held commits again elsewhere (a figure, not a check).
        const [afterKill, resumedMs] = await Promise.all([
          fleet.settled(p.bid, PARTITIONS, 90_000),
          waitUntil(
            "a's partitions committing again elsewhere",
            async () => {
              const now = await positionNow(p, 'parsed_events', p.bid);
              return [...ofA].every(([q, next]) => now.get(q)!.owner !== 'a' && now.get(q)!.next > next) ? Date.now() - killedAt : undefined;
            },
            90_000,
          ),
        ]);
        console.log(`${protocol}: the ${ofA.size} partitions of the process killed with -9 committed again elsewhere ${(resumedMs / 1000).toFixed(1)} s after the kill (session 10 s)`);
        expect(afterKill.get('d')).toBeGreaterThan(0);
        expect(fleet.get('d').run.output()).toMatch(/"msg":"partitions claimed"/);

        expect(await fleet.terminate('b')).toBe(0);
        expect(fleet.get('b').run.output()).toMatch(/pipeline stopped after its final checkpoint/);
        await finish(fleet, p, l, seed, seed + 1, 120_000);
      });
    },
    300_000,
  );

  // Both protocols: on waking, a member of either finds its session over by its own clock (or is
  // told so by the coordinator) and gives the partitions up as lost; the table fences any commit
  // that gets ahead of that.
  it.each([['consumer', 31], ['classic', 33]] as const)('%s protocol: a process frozen past its session commits nothing for the partitions taken from it; exactly once', async (protocol, seed) => {
    const p = project(protocol, seed + 1);
    await withFleet(p, seed, 90_000, ARGS, async (fleet, l) => {
      await Promise.all(['a', 'b', 'z'].map((n) => fleet.start(n)));
      await fleet.settled(p.bid, PARTITIONS, 90_000);
      // What z holds in each table: its claims are in before it reports running.
      const TABLES = ['parsed_events', 'parsed_events_dlq'];
      const held = new Map<string, Map<number, number>>();
      for (const table of TABLES) {
        held.set(
          table,
          await waitUntil(
            `z holding its partitions in ${table}`,
            async () => {
              const mine = [...(await positionNow(p, table, p.bid))].filter(([, e]) => e.owner === 'z');
              return mine.length > 0 ? new Map(mine.map(([q, e]) => [q, e.epoch])) : undefined;
            },
            30_000,
          ),
        );
      }
      const lost = [...held.get('parsed_events')!.keys()];
      const frozenAt = Date.now();
      fleet.freeze('z');
      // The others take z's partitions once its session is over, claim them, and commit data of
      // them: each partition has another owner and has moved on since that owner's claim.
      const claimedAt = new Map<number, number>();
      await waitUntil(
        `a and b taking and committing z's partitions ${lost.join(',')}`,
        async () => {
          const now = await positionNow(p, 'parsed_events', p.bid);
          for (const q of lost) {
            const e = now.get(q)!;
            if (e.owner !== 'z' && !claimedAt.has(q)) claimedAt.set(q, e.next);
          }
          return lost.every((q) => claimedAt.has(q) && now.get(q)!.next > claimedAt.get(q)!) ? true : undefined;
        },
        90_000,
        1000,
      );
      // Past the session in any case, not only as long as the takeover took.
      await new Promise((r) => setTimeout(r, Math.max(0, frozenAt + 12_000 - Date.now())));
      const taken = new Map<string, Map<number, number>>();
      for (const table of TABLES) {
        const now = await positionNow(p, table, p.bid);
        taken.set(table, new Map([...held.get(table)!.keys()].map((q) => [q, now.get(q)?.epoch ?? 0])));
      }
      const thawedAt = Date.now();
      const before = fleet.get('z').run.output().length;
      fleet.thaw('z');
      // z learns it lost them: by the group (revoked, lost) or by the table (fenced at commit).
      const bid = JSON.stringify(p.bid);
      await fleet.get('z').run.waitFor(new RegExp(`"msg":"partitions fenced","pipeline":${bid}|"msg":"partitions revoked","pipeline":${bid}[^\\n]*"lost":true`), 60_000);

      await finish(fleet, p, l, seed, seed + 1, 120_000);
      const woke = fleet.get('z').run.output().slice(before).split('\n');
      console.log(`z after SIGCONT:\n${woke.filter((line) => line.includes(bid) && /partitions (fenced|revoked|assigned|claimed)|checkpoint|commit/.test(line)).slice(0, 12).join('\n')}`);
      for (const table of TABLES) {
        const { history } = await tableOwnership(p, table, p.bid);
        // Along main, no snapshot put a partition back at the epoch z held when it froze.
        expect(zombieWrites(history, 'z', held.get(table)!), table).toEqual([]);
        // z's snapshots since it woke touch those partitions only under a claim newer than the
        // takeover (the group may give z some of them back, and then it claims them again).
        // Compared with the entry before it on main (snapshots without a position, such as
        // compactions, skipped).
        const touched: string[] = [];
        const last = new Map<number, string>();
        for (const s of history) {
          for (const [q, epoch] of taken.get(table)!) {
            const e = s.position?.get(q);
            if (!e) continue;
            if (s.owner === 'z' && s.timestampMs >= thawedAt && JSON.stringify(e) !== last.get(q) && e.epoch <= epoch) touched.push(`${s.id} (${s.operation}): partition ${q} ${JSON.stringify(e)}`);
            last.set(q, JSON.stringify(e));
          }
        }
        expect(touched, table).toEqual([]);
      }
    });
  }, 300_000);

  it('a process killed between its dead-letter commit and its table commit: those that take its partitions while running write none of its dead letters twice', async () => {
    const seed = 61;
    const p = project('consumer', seed + 1);
    await withFleet(p, seed, 60_000, ARGS, async (fleet, l) => {
      await Promise.all(['a', 'b'].map((n) => fleet.start(n)));
      await fleet.settled(p.bid, PARTITIONS, 90_000);
      // k dies by its own SIGKILL at its second epoch, after the dead-letter table's commit
      // and before the table's (the single-process case is in fault-suite.test.ts).
      const k = await fleet.start('k', {
        STREAMBERG_FAULTS: `kill-at:before-table-commit:${p.bid}:2`,
        STREAMBERG_FAULT_DIR: mkdtempSync(path.join(os.tmpdir(), 'faults-')),
      });
      expect(await k.run.exited).toBe('SIGKILL');
      // The case at hand: for some partition k held, the dead-letter table is ahead of the table.
      const table = await positionNow(p, 'parsed_events', p.bid);
      const dlq = await positionNow(p, 'parsed_events_dlq', p.bid);
      const ahead = [...dlq].filter(([q, e]) => e.owner === 'k' && table.get(q)?.owner === 'k' && e.next > table.get(q)!.next).map(([q]) => q);
      expect(ahead.length, `partitions of k whose dead letters were committed and rows not: dead-letter table ${JSON.stringify([...dlq])}, table ${JSON.stringify([...table])}`).toBeGreaterThan(0);
      // a and b take them once k's session is over, re-read them from the table's next, and
      // must drop the dead letters below the dead-letter table's next.
      await finish(fleet, p, l, seed, seed + 1, 120_000);
    });
  }, 240_000);

  it('a rebalance storm: processes started, stopped and killed every few seconds for a minute, then two finish — exactly once', async () => {
    const seed = seedFrom('STREAMBERG_STORM_SEED', 41);
    console.log(`rebalance storm seed ${seed} (STREAMBERG_STORM_SEED=${seed} replays it)`);
    const random = seeded(seed);
    const p = project('auto', seed + 1);
    await withFleet(p, seed, 100_000, ARGS, async (fleet, l) => {
      // a and b stay throughout; the others come and go.
      await Promise.all(['a', 'b'].map((n) => fleet.start(n)));
      const transient: string[] = [];
      const stormEnds = Date.now() + 60_000;
      let started = 0;
      const actions: string[] = [];
      for (let i = 0; i < 20 && Date.now() < stormEnds; i++) {
        if (transient.length < 2 && (transient.length === 0 || random() < 0.5)) {
          const name = `s${++started}`;
          await fleet.start(name);
          transient.push(name);
          actions.push(`start ${name}`);
        } else {
          const name = transient.splice(Math.floor(random() * transient.length), 1)[0]!;
          if (random() < 0.5) {
            await fleet.kill(name);
            actions.push(`kill -9 ${name}`);
          } else {
            expect(await fleet.terminate(name), `${name} on SIGTERM`).toBe(0);
            actions.push(`SIGTERM ${name}`);
          }
        }
        await new Promise((r) => setTimeout(r, 2000 + random() * 3000));
      }
      for (const name of transient) expect(await fleet.terminate(name), `${name} on SIGTERM`).toBe(0);
      console.log(`storm: ${actions.join(', ')}`);
      expect(actions.filter((a) => a.startsWith('start')).length).toBeGreaterThanOrEqual(4);
      const total = await finish(fleet, p, l, seed, seed + 1, 180_000);
      expect(total).toBeGreaterThan(0);
    });
  }, 360_000);

  it('two processes whose commits to one table conflict constantly — exactly once; conflicts retried, their rate and commit latency reported', async () => {
    const seed = 51;
    const p = project('consumer', seed + 1);
    // Each commit waits 400 ms between reading the table's head and the swap: with a checkpoint
    // a second in each process, their commits overlap and most lose the compare-and-swap once.
    const slow = { STREAMBERG_FAULTS: `commit-delay:${p.bid}:400` };
    let retried = 0;
    await withFleet(p, seed, 25_000, ['--parallelism', '1', '--checkpoint-interval', '1s'], async (fleet, l) => {
      await Promise.all(['a', 'b'].map((n) => fleet.start(n, slow)));
      await l.done;
      await finish(fleet, p, l, seed, seed + 1, 120_000);
      for (const name of ['a', 'b']) {
        const body = await fleet.scrape(name);
        for (const table of ['parsed_events', 'parsed_events_dlq']) {
          const labels = { pipeline: p.bid, table };
          const commits = metricValue(body, 'streamberg_commits_total', labels) ?? 0;
          const retries = metricValue(body, 'streamberg_commit_retries_total', labels) ?? 0;
          const seconds = metricValue(body, 'streamberg_commit_duration_seconds_sum', labels) ?? 0;
          console.log(
            `${name}: ${table} ${commits} commits, ${retries} conflicts retried (${commits ? ((100 * retries) / commits).toFixed(1) : '-'} %), mean commit ${commits ? ((1000 * seconds) / commits).toFixed(0) : '-'} ms`,
          );
          if (table === 'parsed_events') expect(commits, `${name} committed`).toBeGreaterThan(0);
          retried += retries;
        }
      }
      // The conflicts happened, and every record is in once (finish above) all the same.
      expect(retried, 'conflicts retried by the two processes').toBeGreaterThan(0);
    });
  }, 240_000);
});
