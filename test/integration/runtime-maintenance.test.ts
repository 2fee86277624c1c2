// Table maintenance with the real runtime and broker: the runtime's own snapshot expiry between
// checkpoints, a restart after it, kill -9 in the middle of it (runtime and `maintain`), and
// `maintain --dry-run`. Tables are read back by pyiceberg; "no live file missing" is checked on
// disk against every snapshot left in the metadata.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SqlCatalog } from '../../src/iceberg/catalog-sql.js';
import { latestSnapshotWithSummaryKey } from '../../src/iceberg/commit.js';
import { manifestEntryPaths } from '../../src/iceberg/expire.js';
import { localPath } from '../../src/iceberg/file-io.js';
import { decodeManifestList } from '../../src/iceberg/manifest.js';
import { offsetsKey } from '../../src/iceberg/snapshot-offsets.js';
import { ROOT, ensureBuilt } from '../helpers/build.js';
import { expectExactlyOnce } from '../helpers/expectations.js';
import { readWithJava } from '../helpers/iceberg-java.js';
import { BOOTSTRAP, ensureKafka } from '../helpers/kafka.js';
import { ensurePythonEnv } from '../helpers/python.js';
import { expectedRecords, produce, readTable, runToExit, runtimeProject, type RuntimeProject } from '../helpers/runtime.js';

beforeAll(() => {
  ensureBuilt();
  ensureKafka();
  ensurePythonEnv();
}, 900_000);

const RUN = ['--bounded', '--checkpoint-interval', '200ms', '--metrics-port', '0'];

/** A project whose bid table expires every snapshot it can at once (max age 0). */
function maintainedProject(maintenance: string): RuntimeProject {
  const p = runtimeProject({ batchSize: 200, runtimeExtra: `  maintenance: ${maintenance}` });
  const file = path.join(p.configDir, 'topics.yaml');
  const yaml = readFileSync(file, 'utf8').replace(
    '      table_name: "parsed_events"\n',
    '      table_name: "parsed_events"\n      properties: { "history.expire.max-snapshot-age-ms": "0" }\n',
  );
  writeFileSync(file, yaml);
  return p;
}

/** Files that some snapshot left in the table's metadata needs, and that are not on disk. */
async function missingLiveFiles(p: RuntimeProject, name: string): Promise<string[]> {
  const catalog = new SqlCatalog(p.config.catalog as Extract<typeof p.config.catalog, { type: 'sql' }>);
  try {
    const { metadata, metadataLocation } = await catalog.loadTable({ namespace: p.config.catalog.namespace, name });
    const live = new Set([metadataLocation]);
    for (const s of metadata.snapshots) {
      live.add(s['manifest-list']);
      for (const m of await decodeManifestList(await catalog.io.read(s['manifest-list']))) {
        live.add(m.manifest_path);
        for (const f of await manifestEntryPaths(catalog.io, m.manifest_path, true)) live.add(f);
      }
    }
    return [...live].filter((uri) => !existsSync(localPath(uri)));
  } finally {
    await catalog.close();
  }
}

function maintain(p: RuntimeProject, args: string[], env: Record<string, string> = {}): { status: number | null; signal: string | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'dist/src/cli.js'), 'maintain', '--config', p.configDir, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, KAFKA_BOOTSTRAP_SERVERS: BOOTSTRAP, WAREHOUSE_DIR: p.warehouse, ...env },
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** One hash over every file's path and bytes under a directory. */
function hashTree(dir: string): string {
  const h = createHash('sha256');
  for (const name of (readdirSync(dir, { recursive: true }) as string[]).sort()) {
    const full = path.join(dir, name);
    h.update(name);
    try {
      h.update(readFileSync(full));
    } catch {
      // a directory
    }
  }
  return h.digest('hex');
}

const faultEnv = (faults: string): Record<string, string> => ({
  STREAMBERG_FAULTS: faults,
  STREAMBERG_FAULT_DIR: mkdtempSync(path.join(os.tmpdir(), 'faults-')),
});

describe('table maintenance', () => {
  it("expires snapshots between checkpoints, and a restart after it resumes exactly once", async () => {
    const p = maintainedProject('{ expire_interval: 1s }');
    produce(p, p.bid, ['--count', '4000', '--partitions', '2', '--seed', '31']);
    produce(p, p.user, ['--count', '10', '--partitions', '1', '--seed', '32']);
    const first = await runToExit(p, RUN);
    expect(first.code, first.output).toBe(0);
    expect(first.output).toMatch(/table maintenance by the runtime on: the default for a sql catalog/);
    expect(first.output).toMatch(/snapshots expired.*"table":"analytics\.parsed_events"/);
    // The first commit's expiry took the start snapshot (epoch 0): nothing is kept for its age.
    const epochs = (t: { snapshots: Array<Record<string, string>> }): number[] => t.snapshots.map((s) => Number(s['streamberg.epoch']));
    const afterFirst = epochs(await readTable(p, 'parsed_events', ['session_id']));
    expect(afterFirst).not.toContain(0);

    produce(p, p.bid, ['--count', '4000', '--start-index', '4000', '--seed', '31']);
    const second = await runToExit(p, RUN);
    expect(second.code, second.output).toBe(0);
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 8000, 31, 0));
    expect(await missingLiveFiles(p, 'parsed_events')).toEqual([]);
    // The second run's first commit expired every snapshot of the first run.
    const afterSecond = epochs(await readTable(p, 'parsed_events', ['session_id']));
    expect(Math.min(...afterSecond)).toBeGreaterThan(Math.max(...afterFirst));
  }, 300_000);

  it('a runtime killed in the middle of its expiry leaves a readable table with no live file missing, and resumes exactly once', async () => {
    const p = maintainedProject('{ expire_interval: 1s }');
    produce(p, p.bid, ['--count', '4000', '--partitions', '2', '--seed', '33']);
    produce(p, p.user, ['--count', '10', '--partitions', '1', '--seed', '34']);
    const killed = await runToExit(p, RUN, faultEnv(`kill-at:expire-deleting:${p.bid}:1`));
    expect(killed.code, killed.output).toBe('SIGKILL');

    expect(await missingLiveFiles(p, 'parsed_events')).toEqual([]);
    await readTable(p, 'parsed_events', ['session_id']);
    const rest = await runToExit(p, RUN);
    expect(rest.code, rest.output).toBe(0);
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 4000, 33, 0));
    expect(await missingLiveFiles(p, 'parsed_events')).toEqual([]);
  }, 300_000);

  it('compacts between checkpoints; killed with the compacted files written, the restart is exactly once and compacts again', async () => {
    const p = maintainedProject('{ compact_interval: 1s, compact_min_files: 2 }');
    produce(p, p.user, ['--count', '10', '--partitions', '1', '--seed', '38']);
    produce(p, p.bid, ['--count', '2000', '--partitions', '2', '--seed', '37']);
    expect((await runToExit(p, RUN)).code).toBe(0);
    // The next run's first commit makes two small files at least: compaction starts, and dies
    // once its new files are written, before its commit.
    produce(p, p.bid, ['--count', '2000', '--start-index', '2000', '--seed', '37']);
    const killed = await runToExit(p, RUN, faultEnv(`kill-at:compact-files-written:${p.bid}:1`));
    expect(killed.code, killed.output).toBe('SIGKILL');
    expect(await missingLiveFiles(p, 'parsed_events')).toEqual([]);
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 4000, 37, 0));

    produce(p, p.bid, ['--count', '2000', '--start-index', '4000', '--seed', '37']);
    const rest = await runToExit(p, RUN);
    expect(rest.code, rest.output).toBe(0);
    expect(rest.output).toMatch(/small files compacted.*"table":"analytics\.parsed_events"/);
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 6000, 37, 0));
    expect(await missingLiveFiles(p, 'parsed_events')).toEqual([]);
    const { snapshots } = await readTable(p, 'parsed_events', ['session_id']);
    expect(snapshots.some((s) => s['operation'] === 'replace')).toBe(true);
  }, 300_000);

  it('maintain --dry-run changes nothing; maintain killed mid-rewrite or mid-expiry loses no live file; run again, it finishes the job', async () => {
    const p = maintainedProject('{ enabled: false }');
    produce(p, p.user, ['--count', '10', '--partitions', '1', '--seed', '36']);
    // Two runs: at least three snapshots (start, one per run), none expired by the runtime.
    produce(p, p.bid, ['--count', '2000', '--partitions', '2', '--seed', '35']);
    expect((await runToExit(p, RUN)).code).toBe(0);
    produce(p, p.bid, ['--count', '2000', '--start-index', '2000', '--seed', '35']);
    const run = await runToExit(p, RUN);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/table maintenance by the runtime off: runtime.maintenance.enabled is false/);
    const tableDir = path.join(p.warehouse, `${p.config.catalog.namespace}.db`);
    const before = hashTree(tableDir);
    const snapshotsBefore = (await readTable(p, 'parsed_events', ['session_id'])).snapshots.length;
    expect(snapshotsBefore).toBeGreaterThan(2);

    const dry = maintain(p, ['--dry-run', '--table', 'parsed_events']);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`analytics.parsed_events (dry run: nothing changed)`);
    expect(dry.stdout).toContain(`would expire ${snapshotsBefore - 1} snapshots`);
    expect(dry.stdout).toMatch(/manifests: would rewrite [2-9]\d* manifests into 1/);
    expect(hashTree(tableDir)).toBe(before);

    // Killed with the rewritten manifests written, not committed: they are orphans, nothing else changed.
    const killedRewrite = maintain(p, ['--table', 'parsed_events', '--skip-compact'], faultEnv('kill-at:manifests-written:parsed_events:1'));
    expect(killedRewrite.signal, killedRewrite.stdout + killedRewrite.stderr).toBe('SIGKILL');
    expect((await readTable(p, 'parsed_events', ['session_id'])).snapshots).toHaveLength(snapshotsBefore);
    expect(await missingLiveFiles(p, 'parsed_events')).toEqual([]);
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 4000, 35, 0));

    const killed = maintain(p, ['--table', 'parsed_events'], faultEnv('kill-at:expire-deleting:parsed_events:1'));
    expect(killed.signal, killed.stdout + killed.stderr).toBe('SIGKILL');
    expect(await missingLiveFiles(p, 'parsed_events')).toEqual([]);
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 4000, 35, 0));

    // The files the killed run did not delete are orphans now; young, so only an explicit age takes them.
    const again = maintain(p, ['--table', 'parsed_events', '--orphan-min-age', '0']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/orphans: remove [1-9]\d* files?/);
    expect(await missingLiveFiles(p, 'parsed_events')).toEqual([]);
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 4000, 35, 0));
    const catalog = new SqlCatalog(p.config.catalog as Extract<typeof p.config.catalog, { type: 'sql' }>);
    const t = await catalog.loadTable({ namespace: 'analytics', name: 'parsed_events' });
    await catalog.close();
    // Left: the manifest rewrite the killed run committed (the head), and the pipeline's last
    // snapshot below it, which recovery needs and expiry therefore keeps.
    expect(t.metadata.snapshots.map((s) => s.summary.operation)).toEqual(['append', 'replace']);
    expect(latestSnapshotWithSummaryKey(t.metadata, offsetsKey(p.pipeline(p.bid).groupId))).toBeDefined();
    // The strictest reader agrees: Iceberg's Java library reads the rows pyiceberg reads.
    const py = await readTable(p, 'parsed_events', ['session_id']);
    const java = await readWithJava(p.config.catalog as Extract<typeof p.config.catalog, { type: 'sql' }>, 'analytics.parsed_events');
    const col = java.columns.indexOf('session_id');
    expect(java.rows).toHaveLength(py.rows.length);
    expect(java.rows.map((r) => r[col]).sort()).toEqual(py.rows.map((r) => String(r['session_id'])).sort());
  }, 300_000);
});
