import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isStreamError, type StreamError } from '../../src/errors.js';
import type { LoadedTable } from '../../src/iceberg/catalog.js';
import { checkRequirements, commitAppend, type CommitRequirement } from '../../src/iceberg/commit.js';
import { mainSnapshot } from '../../src/iceberg/metadata.js';
import { warehouse, type Warehouse } from '../helpers/checkpoint-fixtures.js';

const failure = async (p: Promise<unknown>): Promise<StreamError | undefined> =>
  p.then(
    () => undefined,
    (e: unknown) => (isStreamError(e) ? e : undefined),
  );

describe('commitAppend requirements', () => {
  let w: Warehouse;
  let table: LoadedTable;
  beforeEach(async () => {
    w = await warehouse();
    table = await w.open('events');
  });
  afterEach(async () => {
    await w.close();
  });

  it('commits when every requirement holds on the head', async () => {
    const first = await commitAppend(w.catalog, table.ident, [], { 'writer.epoch': '1', owner: 'x' });
    const requirements: CommitRequirement[] = [
      { type: 'assert-ref-snapshot-id', ref: 'main', snapshotId: first.snapshot['snapshot-id'] },
      { type: 'assert-table-uuid', uuid: table.metadata['table-uuid'] },
      { type: 'assert-fence', ownerKey: 'owner', epochKey: 'writer.epoch', epoch: 1, owner: 'w' },
    ];
    const r = await commitAppend(w.catalog, table.ident, [await w.dataFile(table, [1])], { owner: 'x', 'writer.epoch': '2' }, { requirements });
    expect(mainSnapshot(r.table.metadata)!['snapshot-id']).toBe(r.snapshot['snapshot-id']);
    expect(r.snapshot['parent-snapshot-id']).toBe(first.snapshot['snapshot-id']);
  });

  it('refuses a head whose ref moved, or another table, for good and without committing', async () => {
    const moved = await failure(
      commitAppend(w.catalog, table.ident, [], {}, { requirements: [{ type: 'assert-ref-snapshot-id', ref: 'main', snapshotId: 42n }] }),
    );
    expect([moved?.code, moved?.retryable]).toEqual(['COMMIT_FAILED', false]);
    expect(moved?.message).toMatch(/events: ref main is at snapshot null, the commit requires 42/);
    const other = await failure(commitAppend(w.catalog, table.ident, [], {}, { requirements: [{ type: 'assert-table-uuid', uuid: 'not-this-one' }] }));
    expect([other?.code, other?.retryable]).toEqual(['COMMIT_FAILED', false]);
    expect((await w.catalog.loadTable(table.ident)).metadata.snapshots).toEqual([]);
  });

  it('the fence: the newest snapshot with the owner key must carry the expected epoch; none expected means none there', () => {
    const fence = (epoch: number | null): CommitRequirement => ({ type: 'assert-fence', ownerKey: 'owner', epochKey: 'writer.epoch', epoch, owner: 'p' });
    expect(() => checkRequirements('events', table.metadata, [fence(null)])).not.toThrow();
    let thrown: unknown;
    try {
      checkRequirements('events', table.metadata, [fence(3)]);
    } catch (err) {
      thrown = err;
    }
    expect(isStreamError(thrown) && [thrown.code, thrown.retryable, thrown.details.actor]).toEqual(['COMMIT_FAILED', true, 'commit']);
    expect((thrown as Error).message).toBe('events: another writer committed epoch undefined of p (this one expected 3); restarting from the table');
  });
});
