// Exactly once across processes, at the table: two committers ("processes", each with its own
// catalog connection to one SQLite catalog and file warehouse) claim Kafka partitions and commit
// offset ranges. Each row's id encodes its partition and offset (partition * 1e6 + offset), and
// pyiceberg reads the table back: every offset below each partition's committed next is there
// exactly once, and nothing else.

import { existsSync } from 'node:fs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StreamError, isStreamError } from '../../src/errors.js';
import type { Catalog, LoadedTable, TableIdentifier } from '../../src/iceberg/catalog.js';
import { createCatalog } from '../../src/iceberg/catalogs.js';
import { COMMIT_ID_KEY, commitAppend } from '../../src/iceberg/commit.js';
import { compactTable } from '../../src/iceberg/compact.js';
import { expireSnapshots } from '../../src/iceberg/expire.js';
import { localPath } from '../../src/iceberg/file-io.js';
import { decodeManifestList } from '../../src/iceberg/manifest.js';
import { rewriteManifests } from '../../src/iceberg/manifest-rewrite.js';
import type { TableMetadata } from '../../src/iceberg/metadata.js';
import { type Claimant, type OwnedFile, PartitionOwnership, claimPartitions, commitOwned, dropFenced, fencedPartitions } from '../../src/iceberg/partition-claims.js';
import { tablePositions } from '../../src/iceberg/partition-fence.js';
import { openTable } from '../../src/iceberg/table.js';
import { encodeOffsets, encodePosition, offsetsKey, positionProperty } from '../../src/iceberg/snapshot-offsets.js';
import { NAMESPACE, ROW_FIELDS, warehouse, type Warehouse } from '../helpers/checkpoint-fixtures.js';
import { sinkConfig } from '../helpers/iceberg-fixtures.js';
import { PY_SQL_CATALOG, scanSql } from '../helpers/pyiceberg.js';
import { ensurePythonEnv, runPython } from '../helpers/python.js';

const TOPIC = 'bids';
const GROUP = 'g';
const KEY = offsetsKey(GROUP);
const id = (p: number, offset: bigint): number => p * 1_000_000 + Number(offset);
const who = (owner: string): Claimant => ({ groupId: GROUP, topic: TOPIC, owner });

async function failure(p: Promise<unknown>): Promise<StreamError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isStreamError(err)) throw new Error(`expected a StreamError, got ${String(err)}`);
  return err;
}

/** A catalog connection of one "process": the real SQL catalog, with a hook before its next commit. */
function connection(inner: Catalog): Catalog & { beforeNextCommit?: () => Promise<void> } {
  const c = Object.create(inner, {
    commit: {
      value: async (base: LoadedTable, next: TableMetadata, requirements?: never) => {
        const hook = c.beforeNextCommit;
        c.beforeNextCommit = undefined;
        if (hook) await hook();
        return inner.commit(base, next, requirements);
      },
    },
  }) as Catalog & { beforeNextCommit?: () => Promise<void> };
  return c;
}

describe('partition claims and fencing', { timeout: 300_000 }, () => {
  let w: Warehouse;
  let otherCatalog: Catalog;
  let table: LoadedTable;
  let ident: TableIdentifier;

  beforeAll(() => ensurePythonEnv(), 900_000);
  beforeEach(async () => {
    w = await warehouse();
    otherCatalog = await createCatalog(w.config);
    table = await w.open('events');
    ident = table.ident;
  });
  afterEach(async () => {
    await otherCatalog.close();
    await w.close();
  });

  /** One data file per partition of `ranges` (partition → [first, next)), each row's id its partition and offset. */
  async function files(ranges: ReadonlyMap<number, readonly [bigint, bigint]>): Promise<OwnedFile[]> {
    const out: OwnedFile[] = [];
    for (const [p, [first, next]] of ranges) {
      if (next === first) continue;
      const ids: number[] = [];
      for (let o = first; o < next; o++) ids.push(id(p, o));
      out.push({ file: await w.dataFile(table, ids), partitions: [p] });
    }
    return out;
  }

  /** Commits the next `n` offsets of each of `partitions` from where `owner` holds them. */
  async function step(owner: PartitionOwnership, partitions: readonly number[], n = 10n) {
    const ranges = new Map(partitions.map((p) => [p, [owner.held.get(p)!.next, owner.held.get(p)!.next + n] as const]));
    return { files: await files(ranges), next: new Map([...ranges].map(([p, [, next]]) => [p, next])) };
  }

  async function rowIds(): Promise<number[]> {
    const scan = await scanSql(w.config as Parameters<typeof scanSql>[0], `${NAMESPACE}.events`, { orderBy: 'id' });
    return scan.rows.map((r) => Number(r['id']));
  }

  /** Every offset below each partition's committed next, once, ascending. */
  async function expectedIds(): Promise<number[]> {
    const positions = tablePositions((await w.catalog.loadTable(ident)).metadata, KEY, TOPIC);
    const ids: number[] = [];
    for (const [p, at] of positions) for (let o = 0n; o < at.next; o++) ids.push(id(p, o));
    return ids.sort((a, b) => a - b);
  }

  it("fences a superseded owner's commit whole; its other partitions go on; the new owner resumes at the last committed next", async () => {
    const a = new PartitionOwnership(w.catalog, ident, who('proc-a'));
    const b = new PartitionOwnership(otherCatalog, ident, who('proc-b'));
    // An assignment that gains nothing commits nothing.
    expect(await a.claim(new Map())).toEqual(new Map());
    expect((await w.catalog.loadTable(ident)).metadata.snapshots).toHaveLength(0);
    expect(await a.claim(new Map([0, 1, 2, 3].map((p) => [p, 0n])))).toEqual(new Map([0, 1, 2, 3].map((p) => [p, 0n])));
    const first = await step(a, [0, 1, 2, 3]);
    await a.commit(first.files, first.next);

    // B gains p2 and p3: their epoch goes one past the table's, and B resumes at A's next.
    const beforeClaim = await w.catalog.loadTable(ident);
    expect(await b.claim(new Map([[2, 0n], [3, 0n]]))).toEqual(new Map([[2, 10n], [3, 10n]]));
    expect(b.held.get(2)).toEqual({ epoch: 2, next: 10n });
    const claimed = await w.catalog.loadTable(ident);
    const claim = claimed.metadata.snapshots.at(-1)!;
    expect(claim.summary['added-data-files']).toBe('0');
    const parent = beforeClaim.metadata.snapshots.at(-1)!;
    const manifests = async (list: string) => (await decodeManifestList(await w.catalog.io.read(list))).map((m) => m.manifest_path);
    expect(await manifests(claim['manifest-list'])).toEqual(await manifests(parent['manifest-list']));

    // A, a zombie for p2/p3 now, commits all four: refused whole, naming what was fenced.
    const second = await step(a, [0, 1, 2, 3]);
    const fenced = await failure(a.commit(second.files, second.next));
    expect([fenced.code, fenced.retryable, fencedPartitions(fenced)]).toEqual(['PARTITION_FENCED', false, [2, 3]]);
    expect(fenced.message).toContain('events: topic bids: partition 2 (claimed at epoch 1; the table\'s epoch is 2, held by proc-b), partition 3');
    expect(fenced.details['fenced']).toEqual([
      { partition: 2, claimed: 1, epoch: 2, owner: 'proc-b' },
      { partition: 3, claimed: 1, epoch: 2, owner: 'proc-b' },
    ]);
    expect((await w.catalog.loadTable(ident)).metadataLocation).toBe(claimed.metadataLocation);
    expect([...a.held.keys()]).toEqual([0, 1]);

    // The others go on without the fenced partitions' files.
    const ranges = [...second.next].map(([partition, next]) => ({ partition, epoch: 1, first: 10n, next }));
    const rest = dropFenced(second.files, ranges, fencedPartitions(fenced));
    expect([rest.files.length, rest.ranges.map((r) => r.partition), rest.replay]).toEqual([2, [0, 1], []]);
    await a.commit(rest.files, new Map(rest.ranges.map((r) => [r.partition, r.next])));

    // Never again for p2, neither through the ownership (released) nor with its old epoch directly.
    expect((await failure(a.commit([], new Map([[2, 20n]])))).code).toBe('PARTITION_FENCED');
    const direct = await failure(commitOwned(w.catalog, ident, who('proc-a'), [], [{ partition: 2, epoch: 1, first: 10n, next: 20n }]));
    expect([direct.code, fencedPartitions(direct)]).toEqual(['PARTITION_FENCED', [2]]);

    const third = await step(b, [2, 3]);
    await b.commit(third.files, third.next);
    expect(tablePositions((await w.catalog.loadTable(ident)).metadata, KEY, TOPIC)).toEqual(
      new Map([
        [0, { next: 20n, epoch: 1, owner: 'proc-a' }],
        [1, { next: 20n, epoch: 1, owner: 'proc-a' }],
        [2, { next: 20n, epoch: 2, owner: 'proc-b' }],
        [3, { next: 20n, epoch: 2, owner: 'proc-b' }],
      ]),
    );
    const ids = await rowIds();
    expect(ids).toHaveLength(80);
    expect(ids).toEqual(await expectedIds());
  });

  it('a restarted runner resumes what it still holds where the table says, and gives up what another process claimed', async () => {
    const a = new PartitionOwnership(w.catalog, ident, who('proc-a'));
    const b = new PartitionOwnership(otherCatalog, ident, who('proc-b'));
    await a.claim(new Map([0, 1, 2].map((p) => [p, 0n])));
    const first = await step(a, [0, 1, 2]);
    await a.commit(first.files, first.next);
    // A's next commit landed but its answer was lost: A's own record of p0..p2 says 10, the table 20.
    const landed = await step(a, [0, 1, 2]);
    await commitOwned(otherCatalog, ident, who('proc-a'), landed.files.map((f) => f.file), [0, 1, 2].map((p) => ({ partition: p, epoch: 1, first: 10n, next: 20n })));
    await b.claim(new Map([[2, 0n]]));
    const head = await w.catalog.loadTable(ident);
    // p3 was never A's: not resumed, not fenced.
    const r = a.resume(head.metadata, [0, 1, 2, 3]);
    expect(r).toEqual({ resumed: new Map([[0, 20n], [1, 20n]]), fenced: [2] });
    expect(a.held).toEqual(new Map([[0, { epoch: 1, next: 20n }], [1, { epoch: 1, next: 20n }]]));
    // It goes on from the table's next: contiguous, so accepted.
    const next = await step(a, [0, 1]);
    await a.commit(next.files, next.next);
    const ids = await rowIds();
    expect(ids).toEqual(await expectedIds());
    expect(ids).toHaveLength(30 + 30 + 20);
  });

  it('a commit whose rows share a file with a fenced partition: that partition is replayed, not half committed', () => {
    const f = (partitions: number[]) => ({ file: { filePath: partitions.join('+') } as OwnedFile['file'], partitions });
    const ranges = [0, 1, 2, 3, 4].map((partition) => ({ partition, epoch: 1, first: 0n, next: 5n }));
    const rest = dropFenced([f([0]), f([1, 2]), f([2, 3]), f([4])], ranges, [3]);
    expect(rest.files.map((x) => x.file.filePath)).toEqual(['0', '4']);
    expect(rest.ranges.map((r) => r.partition)).toEqual([0, 4]);
    expect(rest.replay).toEqual([1, 2]);
  });

  it('reads a position written before ownership as epoch 0, unowned: the first claim is epoch 1 at its next', async () => {
    // What a single process commits (checkpoint-coordinator.ts): bare numbers, property and summary.
    const offsets = encodeOffsets(TOPIC, new Map([[0, 42n], [1, 7n]]));
    await commitAppend(w.catalog, ident, [], { [KEY]: offsets, 'streamberg.epoch': '5' }, { setProperties: { [positionProperty(KEY)]: encodePosition(5, offsets) } });
    // Unclaimed, nobody may commit it as an owner.
    expect((await failure(commitOwned(w.catalog, ident, who('proc-a'), [], [{ partition: 0, epoch: 0, first: 42n, next: 43n }]))).code).toBe('PARTITION_FENCED');
    const r = await claimPartitions(w.catalog, ident, who('proc-a'), new Map([[0, 0n]]));
    expect(r.held).toEqual(new Map([[0, { epoch: 1, next: 42n }]]));
    const m = r.table.metadata;
    // Partition 1, never claimed, keeps the bare form; the position's epoch counts on from 5.
    expect(JSON.parse(m.properties[positionProperty(KEY)]!)).toEqual({ epoch: 6, offsets: { bids: { '0': { next: 42, epoch: 1, owner: 'proc-a' }, '1': 7 } } });
    expect(r.snapshot.summary['streamberg.owner']).toBe('proc-a');
  });

  it('claims add no manifest even where a merge is due', async () => {
    const t = await openTable(w.catalog, NAMESPACE, sinkConfig('unmerged', ROW_FIELDS, [], { 'commit.manifest-merge.enabled': 'false' }));
    for (const ids of [[1], [2], [3]]) await commitAppend(w.catalog, t.ident, [await w.dataFile(t, ids)], {});
    // Merging is due now (3 manifests, 2 to merge), from the next commit on.
    await commitAppend(w.catalog, t.ident, [], {}, { setProperties: { 'commit.manifest-merge.enabled': 'true', 'commit.manifest.min-count-to-merge': '2' } });
    const before = await w.catalog.loadTable(t.ident);
    const r = await claimPartitions(w.catalog, t.ident, who('proc-a'), new Map([[0, 0n]]));
    const list = async (m: TableMetadata) => (await decodeManifestList(await w.catalog.io.read(m.snapshots.at(-1)!['manifest-list']))).map((x) => x.manifest_path);
    expect(await list(r.table.metadata)).toEqual(await list(before.metadata));
    expect(await list(r.table.metadata)).toHaveLength(3);
  });

  it('interleaved commits of two processes conflict and retry on the fresh head; a handover under way; every offset exactly once', async () => {
    const aConn = connection(w.catalog);
    const bConn = connection(otherCatalog);
    let retriesA = 0;
    let retriesB = 0;
    const a = new PartitionOwnership(aConn, ident, who('proc-a'), { initialBackoffMs: 1, maxBackoffMs: 20, maxAttempts: 20, onRetry: () => retriesA++ });
    const b = new PartitionOwnership(bConn, ident, who('proc-b'), { initialBackoffMs: 1, maxBackoffMs: 20, maxAttempts: 20, onRetry: () => retriesB++ });
    await a.claim(new Map([[0, 0n], [1, 0n]]));
    await b.claim(new Map([[2, 0n], [3, 0n]]));

    // Forced: the rival commits between each one's load and its swap, every round.
    for (let round = 0; round < 6; round++) {
      const [first, second, secondConn] = round % 2 === 0 ? ([a, b, bConn] as const) : ([b, a, aConn] as const);
      const mine = await step(first, [...first.held.keys()]);
      const rival = await step(second, [...second.held.keys()]);
      secondConn.beforeNextCommit = async () => void (await first.commit(mine.files, mine.next));
      await second.commit(rival.files, rival.next);
    }
    expect([retriesA, retriesB]).toEqual([3, 3]);

    // Free-running, with B taking p1 from A halfway (after A's 4th commit, before its 7th): A is
    // fenced for it, drops it and goes on.
    let fencedSeen = 0;
    let aRounds!: () => void;
    const aAtFour = new Promise<void>((resolve) => (aRounds = resolve));
    let claimed!: () => void;
    const bClaimed = new Promise<void>((resolve) => (claimed = resolve));
    const run = async (o: PartitionOwnership, rounds: number, atRound?: (r: number) => Promise<void>) => {
      for (let r = 0; r < rounds; r++) {
        await atRound?.(r);
        const s = await step(o, [...o.held.keys()], 7n);
        try {
          await o.commit(s.files, s.next);
        } catch (err) {
          if (!isStreamError(err) || err.code !== 'PARTITION_FENCED') throw err;
          fencedSeen++;
          const ranges = [...s.next].map(([partition, next]) => ({ partition, epoch: 1, first: next - 7n, next }));
          const rest = dropFenced(s.files, ranges, fencedPartitions(err));
          await o.commit(rest.files, new Map(rest.ranges.map((x) => [x.partition, x.next])));
        }
      }
    };
    const handover = async (r: number) => {
      if (r !== 4) return;
      await aAtFour;
      await b.claim(new Map([[1, 0n]]));
      claimed();
    };
    const aWaits = async (r: number) => {
      if (r === 4) aRounds();
      if (r === 6) await bClaimed;
    };
    await Promise.all([run(a, 10, aWaits), run(b, 10, handover)]);

    const positions = tablePositions((await w.catalog.loadTable(ident)).metadata, KEY, TOPIC);
    expect(positions.get(1)!.owner).toBe('proc-b');
    expect(positions.get(1)!.epoch).toBe(2);
    expect([...a.held.keys()]).toEqual([0]);
    expect(fencedSeen).toBe(1);
    expect(positions.get(0)!.next).toBe(60n + 70n);
    expect(positions.get(2)!.next).toBe(60n + 70n);
    const ids = await rowIds();
    expect(ids).toEqual(await expectedIds());
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a commit the catalog applied whose answer was lost, a rival claim in between: found by its commit id, not fenced, not doubled', async () => {
    const a = new PartitionOwnership(w.catalog, ident, who('proc-a'));
    const b = new PartitionOwnership(otherCatalog, ident, who('proc-b'));
    await a.claim(new Map([[0, 0n], [1, 0n]]));
    let landed: LoadedTable | undefined;
    const lossy = Object.create(w.catalog, {
      commit: {
        value: async (base: LoadedTable, next: TableMetadata) => {
          landed = await w.catalog.commit(base, next);
          // Before A hears anything, B claims p1: A's epoch for it is superseded on the head A reloads.
          await b.claim(new Map([[1, 0n]]));
          throw new StreamError('CATALOG_UNAVAILABLE', 'the answer to a commit that was applied got lost');
        },
      },
    }) as Catalog;
    const s = await step(a, [0, 1]);
    // A's commit, through a connection that loses the answer, with the epochs A claimed.
    const r = await commitOwned(lossy, ident, who('proc-a'), s.files.map((f) => f.file), [
      { partition: 0, epoch: 1, first: 0n, next: 10n },
      { partition: 1, epoch: 1, first: 0n, next: 10n },
    ]);
    expect(landed).toBeDefined();
    expect(r.snapshot[`snapshot-id`]).toBe(landed!.metadata['current-snapshot-id']);
    expect(r.snapshot.summary[COMMIT_ID_KEY]).toBe(landed!.metadata.snapshots.at(-1)!.summary[COMMIT_ID_KEY]);
    for (const f of s.files) expect(existsSync(localPath(f.file.filePath))).toBe(true);
    // B resumes p1 where A's landed commit ended.
    expect(b.held.get(1)).toEqual({ epoch: 2, next: 10n });
    const t = await step(b, [1]);
    await b.commit(t.files, t.next);
    const ids = await rowIds();
    expect(ids).toHaveLength(30);
    expect(ids).toEqual(await expectedIds());
  });

  it('a lost answer whose snapshot another writer and expiry removed before the reload: refused as out of line, never appended twice', async () => {
    const a = new PartitionOwnership(w.catalog, ident, who('proc-a'));
    const b = new PartitionOwnership(otherCatalog, ident, who('proc-b'));
    await a.claim(new Map([[0, 0n]]));
    await b.claim(new Map([[1, 0n]]));
    const bStep = await step(b, [1]);
    const lossy = Object.create(w.catalog, {
      commit: {
        value: async (base: LoadedTable, next: TableMetadata) => {
          const out = await w.catalog.commit(base, next);
          if (next.snapshots.at(-1)!.summary['streamberg.owner'] === 'proc-a') {
            // B commits after A, and expiry (any age) takes A's snapshot, B's being the newest of the group.
            await b.commit(bStep.files, bStep.next);
            const e = await expireSnapshots(otherCatalog, ident, { now: Date.now() + 10 * 24 * 3600 * 1000 });
            expect(e.expiredSnapshots).toContain(next.snapshots.at(-1)!['snapshot-id']);
            throw new StreamError('CATALOG_UNAVAILABLE', 'the answer to a commit that was applied got lost');
          }
          return out;
        },
      },
    }) as Catalog;
    const s = await step(a, [0]);
    const err = await failure(commitOwned(lossy, ident, who('proc-a'), s.files.map((f) => f.file), [{ partition: 0, epoch: 1, first: 0n, next: 10n }], { initialBackoffMs: 1 }));
    expect([err.code, err.retryable]).toEqual(['COMMIT_FAILED', true]);
    expect(err.message).toBe("events: topic bids: partition 0 begins at offset 0, the table's next offset is 10 (held by proc-a); restarting from the table's position");
    // Claiming again resumes after the commit that landed.
    expect(await a.claim(new Map([[0, 0n]]))).toEqual(new Map([[0, 10n]]));
    const ids = await rowIds();
    expect(ids).toHaveLength(20);
    expect(ids).toEqual(await expectedIds());
  });

  it('maintenance keeps the position: compaction, manifest rewrite, our expiry, and pyiceberg expiring the claim snapshot', async () => {
    const a = new PartitionOwnership(w.catalog, ident, who('proc-a'));
    const b = new PartitionOwnership(otherCatalog, ident, who('proc-b'));
    await a.claim(new Map([[0, 0n], [1, 0n]]));
    for (let i = 0; i < 3; i++) {
      const s = await step(a, [0, 1]);
      await a.commit(s.files, s.next);
    }
    expect(await b.claim(new Map([[1, 0n]]))).toEqual(new Map([[1, 30n]]));
    const claim = (await w.catalog.loadTable(ident)).metadata.snapshots.at(-1)!;
    expect(claim.summary['streamberg.owner']).toBe('proc-b');
    const positionBefore = (await w.catalog.loadTable(ident)).metadata.properties[positionProperty(KEY)];

    expect((await compactTable(w.catalog, ident, { minInputFiles: 2 })).replacedFiles).toHaveLength(6);
    expect((await rewriteManifests(w.catalog, ident)).replaced.length).toBeGreaterThan(1);
    expect((await expireSnapshots(w.catalog, ident, { now: Date.now() + 10 * 24 * 3600 * 1000 })).expiredSnapshots.length).toBeGreaterThan(0);
    expect((await w.catalog.loadTable(ident)).metadata.properties[positionProperty(KEY)]).toBe(positionBefore);
    const left = await runPython<{ snapshots: string[]; property: string | null }>(
      PY_SQL_CATALOG +
        `
t = catalog.load_table(ARGS["table"])
current = t.current_snapshot().snapshot_id
t.maintenance.expire_snapshots().by_ids([s.snapshot_id for s in t.metadata.snapshots if s.snapshot_id != current]).commit()
t = catalog.load_table(ARGS["table"])
print(json.dumps({"snapshots": [str(s.snapshot_id) for s in t.metadata.snapshots], "property": t.properties.get(ARGS["property"])}))
`,
      { catalog: w.config, table: `${NAMESPACE}.events`, property: positionProperty(KEY) },
    );
    expect(left.snapshots).not.toContain(String(claim['snapshot-id']));
    expect(left.snapshots).toHaveLength(1);
    expect(left.property).toBe(positionBefore);

    // B's claim (its snapshot gone) still holds, and a later claimant resumes where B holds p1.
    const s = await step(b, [1]);
    await b.commit(s.files, s.next);
    const c = new PartitionOwnership(w.catalog, ident, who('proc-c'));
    expect(await c.claim(new Map([[1, 0n]]))).toEqual(new Map([[1, 40n]]));
    expect(c.held.get(1)!.epoch).toBe(3);
    const ids = await rowIds();
    expect(ids).toHaveLength(70);
    expect(ids).toEqual(await expectedIds());
  });
});
