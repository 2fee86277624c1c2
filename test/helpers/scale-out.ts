// What the multi-process tests (runtime.scale_out) need beside the processes themselves
// (fleet.ts): a project whose processes name themselves, a producer that writes while they come
// and go, bounded in count and time, and what a table says about who owns each partition — its
// position now, and its history along main, with the rules that history must keep. Producing
// and reading rows back are runtime.ts's and expectations.ts's.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect } from 'vitest';
import { createCatalog } from '../../src/iceberg/catalogs.js';
import { committedPosition, decodePositions, offsetsKey } from '../../src/iceberg/snapshot-offsets.js';
import { ROOT } from './build.js';
import { BOOTSTRAP } from './kafka.js';
import { runPython } from './python.js';
import { waitUntil, type Fleet } from './fleet.js';
import { readTable, runtimeProject, type RuntimeProject } from './runtime.js';

export type GroupProtocol = 'auto' | 'consumer' | 'classic';

/**
 * The shipped project with `runtime.scale_out` on. Each process names itself by the variable
 * STREAMBERG_MEMBER (the fleet sets it), so the owner written into the table is known.
 */
export function scaleOutProject(options: { protocol: GroupProtocol; sessionTimeout?: string; rebalanceTimeout?: string }): RuntimeProject {
  const lines = [
    '  scale_out:',
    '    enabled: true',
    `    protocol: "${options.protocol}"`,
    ...(options.sessionTimeout ? [`    session_timeout: "${options.sessionTimeout}"`] : []),
    ...(options.rebalanceTimeout ? [`    rebalance_timeout: "${options.rebalanceTimeout}"`] : []),
    // The producer and the helpers read this configuration too, without a member of their own.
    '    member: "${STREAMBERG_MEMBER:-unnamed}"',
  ];
  return runtimeProject({ runtimeExtra: lines.join('\n') });
}

export interface Load {
  /** Records written so far (whole chunks only). */
  produced(): number;
  /** Asks the producer to stop after its current chunk; resolves with the records written. */
  stop(): Promise<number>;
  /** Resolves with the records written once the count or the time is reached (or stop). */
  done: Promise<number>;
}

/**
 * Writes the sample stream of `topic` from index 0 in chunks of `chunk` records, one produce
 * run (the project's idempotent producer) per chunk, until `total` records or `maxMs` have
 * passed, whichever first. The topic is made with `partitions` partitions by the first chunk.
 * Records 0..produced()-1 are what the tables must hold.
 */
export function startLoad(
  project: RuntimeProject,
  topic: string,
  options: { total: number; maxMs: number; chunk: number; partitions: number; seed: number; malformedRatio: number; pauseMs?: number },
): Load {
  let produced = 0;
  let stopping = false;
  const started = Date.now();
  const runChunk = (from: number, count: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          path.join(ROOT, 'dist/src/tools/produce.js'),
          ...['--config', project.configDir, '--topic', topic, '--count', String(count), '--start-index', String(from)],
          ...['--partitions', String(options.partitions), '--seed', String(options.seed), '--malformed-ratio', String(options.malformedRatio)],
        ],
        { env: { ...process.env, KAFKA_BOOTSTRAP_SERVERS: BOOTSTRAP }, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      // The tool puts a deadline on every send; this bounds the whole chunk.
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new Error(`producing records ${from}..${from + count - 1} of ${topic} failed (${code ?? signal}): ${err.slice(-2000)}`));
      });
    });
  const done = (async () => {
    while (!stopping && produced < options.total && Date.now() - started < options.maxMs) {
      const count = Math.min(options.chunk, options.total - produced);
      await runChunk(produced, count);
      produced += count;
      if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
    }
    return produced;
  })();
  return {
    produced: () => produced,
    stop: () => {
      stopping = true;
      return done;
    },
    done,
  };
}

/**
 * The position `table` holds now for the pipeline of `topic`, partition → entry, read through
 * the runtime's own catalog: cheap enough to poll while waiting. What the tests assert is read
 * by pyiceberg (tableOwnership, readTable).
 */
export async function positionNow(project: RuntimeProject, table: string, topic: string): Promise<Map<number, OwnedEntry>> {
  const catalog = await createCatalog(project.config.catalog);
  try {
    const t = await catalog.loadTable({ namespace: project.config.catalog.namespace, name: table });
    const position = committedPosition(t.metadata, offsetsKey(project.pipeline(topic).groupId));
    const out = new Map<number, OwnedEntry>();
    if (!position) return out;
    for (const [p, e] of decodePositions(topic, position.offsets)) out.set(p, { next: Number(e.next), epoch: e.epoch, owner: e.owner });
    return out;
  } finally {
    await catalog.close();
  }
}

/**
 * Waits until `table` has committed `total` records of `topic` in all (the sum of every
 * partition's next offset: the producer is idempotent and writes no transaction markers, so
 * offsets count records).
 */
export async function waitForCommitted(project: RuntimeProject, table: string, topic: string, total: number, timeoutMs: number): Promise<void> {
  let seen = 0;
  await waitUntil(
    `${table} committing ${total} records of ${topic}`,
    async () => {
      seen = [...(await positionNow(project, table, topic)).values()].reduce((a, e) => a + e.next, 0);
      return seen === total ? true : undefined;
    },
    timeoutMs,
    1000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; ${seen} committed`);
  });
}

/**
 * The dead-letter table's position once the table holds every record: it moves only with an
 * epoch that has dead letters (and commits before the table), so it may stop short of the
 * table's, but it must cover every dead letter it holds and never be ahead of the table.
 */
export async function expectDeadLetterPositionCovers(project: RuntimeProject, table: string, topic: string): Promise<void> {
  const tablePosition = await positionNow(project, table, topic);
  const dlqPosition = await positionNow(project, `${table}_dlq`, topic);
  const { rows } = await readTable(project, `${table}_dlq`, ['source_partition', 'source_offset']);
  const lastDeadLetter = new Map<number, number>();
  for (const r of rows) {
    const q = r.source_partition as number;
    lastDeadLetter.set(q, Math.max(lastDeadLetter.get(q) ?? -1, r.source_offset as number));
  }
  const wrong: string[] = [];
  for (const [q, last] of lastDeadLetter) {
    const next = dlqPosition.get(q)?.next;
    if (next === undefined || next <= last) wrong.push(`partition ${q}: dead letter at ${last}, dead-letter table's next ${next}`);
  }
  for (const [q, e] of dlqPosition) {
    const t = tablePosition.get(q)?.next;
    if (t === undefined || e.next > t) wrong.push(`partition ${q}: dead-letter table's next ${e.next} ahead of the table's ${t}`);
  }
  expect(wrong).toEqual([]);
}

/** A partition's entry in a claimed position. */
export interface OwnedEntry {
  next: number;
  epoch: number;
  owner: string | undefined;
}

export interface PositionSnapshot {
  id: string;
  timestampMs: number;
  /** `streamberg.owner` of the snapshot: the process that made it. */
  owner: string | undefined;
  operation: string;
  /** Data files it added (its summary's `added-data-files`; 0 for a claim). */
  addedFiles: number;
  /** Its position for the topic, partition → entry (bare offsets read as epoch 0, no owner). */
  position: Map<number, OwnedEntry> | undefined;
}

export interface TableOwnership {
  /** The position property's entries for the topic. */
  current: Map<number, OwnedEntry>;
  /** The snapshots on main, oldest first (the ancestry of the current snapshot). */
  history: PositionSnapshot[];
}

function entries(text: string | undefined, topic: string): Map<number, OwnedEntry> | undefined {
  if (text === undefined) return undefined;
  const forTopic = (JSON.parse(text) as Record<string, Record<string, unknown>>)[topic] ?? {};
  const out = new Map<number, OwnedEntry>();
  for (const [p, e] of Object.entries(forTopic)) {
    if (typeof e === 'number') out.set(Number(p), { next: e, epoch: 0, owner: undefined });
    else {
      const o = e as { next: number; epoch: number; owner?: string };
      out.set(Number(p), { next: o.next, epoch: o.epoch, owner: o.owner });
    }
  }
  return out;
}

/** Who owns each partition of `topic` in `table`, and the history of it on main, by pyiceberg. */
export async function tableOwnership(project: RuntimeProject, table: string, topic: string): Promise<TableOwnership> {
  const key = offsetsKey(project.pipeline(topic).groupId);
  const read = await runPython<{ property: string | null; history: Array<{ id: string; ts: number; summary: Record<string, string> }> }>(
    `
from pyiceberg.catalog.sql import SqlCatalog
cat = SqlCatalog("local", uri="sqlite:///" + ARGS["warehouse"] + "/catalog.db", warehouse="file://" + ARGS["warehouse"])
t = cat.load_table((ARGS["namespace"], ARGS["table"]))
prop = t.properties.get("streamberg." + ARGS["key"])
chain = []
s = t.current_snapshot()
while s is not None:
    chain.append({"id": str(s.snapshot_id), "ts": s.timestamp_ms, "summary": dict(s.summary.additional_properties) | {"operation": s.summary.operation.value}})
    s = t.snapshot_by_id(s.parent_snapshot_id) if s.parent_snapshot_id is not None else None
chain.reverse()
print(json.dumps({"property": prop, "history": chain}))
`,
    { warehouse: project.warehouse, namespace: project.config.catalog.namespace, table, key },
  );
  if (read.property === null) throw new Error(`${table} has no position property streamberg.${key}`);
  const property = JSON.parse(read.property) as { offsets: Record<string, unknown> };
  return {
    current: entries(JSON.stringify(property.offsets), topic)!,
    history: read.history.map((s) => ({
      id: s.id,
      timestampMs: s.ts,
      owner: s.summary['streamberg.owner'],
      operation: s.summary.operation!,
      addedFiles: Number(s.summary['added-data-files'] ?? 0),
      position: entries(s.summary[key], topic),
    })),
  };
}

/**
 * What must hold of every table several processes shared: along main, no partition's epoch or
 * next offset ever goes back, and an epoch names one owner only — a zombie's commit landing
 * after a rival's claim would write its older epoch back. Returns the broken rules (empty: none).
 */
export function ownershipViolations(history: PositionSnapshot[]): string[] {
  const out: string[] = [];
  const last = new Map<number, OwnedEntry>();
  const ownerOfEpoch = new Map<string, string | undefined>();
  for (const s of history) {
    for (const [p, e] of s.position ?? []) {
      const before = last.get(p);
      if (before && e.epoch < before.epoch) out.push(`snapshot ${s.id} by ${s.owner}: partition ${p} epoch ${before.epoch} → ${e.epoch}`);
      if (before && e.next < before.next) out.push(`snapshot ${s.id} by ${s.owner}: partition ${p} next ${before.next} → ${e.next}`);
      const k = `${p}@${e.epoch}`;
      if (e.epoch > 0 && ownerOfEpoch.has(k) && ownerOfEpoch.get(k) !== e.owner) out.push(`snapshot ${s.id}: partition ${p} epoch ${e.epoch} owned by ${ownerOfEpoch.get(k)} and ${e.owner}`);
      ownerOfEpoch.set(k, e.owner);
      last.set(p, e);
    }
  }
  return out;
}

/**
 * The checks every multi-process test ends with, for one table: each of the topic's partitions
 * owned in the table by a live member, each live member owning as many as its
 * streamberg_source_partitions says it reads, and an ownership history that never went back.
 */
export async function expectOwnedByLiveMembers(fleet: Fleet, project: RuntimeProject, table: string, topic: string, partitions: number, counts: Map<string, number>): Promise<TableOwnership> {
  const ownership = await tableOwnership(project, table, topic);
  const live = new Set(fleet.live().map((m) => m.name));
  expect([...ownership.current.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: partitions }, (_, i) => i));
  const owners = [...ownership.current].map(([p, e]) => `${p}:${e.owner}`);
  expect(owners.filter((o) => !live.has(o.split(':')[1]!)), `owners ${owners.join(' ')}; live ${[...live].join(', ')}`).toEqual([]);
  const owned = new Map<string, number>();
  for (const e of ownership.current.values()) owned.set(e.owner!, (owned.get(e.owner!) ?? 0) + 1);
  for (const [name, n] of counts) expect(owned.get(name) ?? 0, `${table}: partitions owned by ${name} in the table vs. its metric`).toBe(n);
  expect(ownershipViolations(ownership.history)).toEqual([]);
  return ownership;
}

/**
 * Snapshots on main that wrote a partition back to an epoch `zombie` held before it was
 * superseded: after the first snapshot showing partition p at an epoch above `heldEpochs[p]`,
 * none may show p at `heldEpochs[p]` again (what a fenced commit landing would write).
 */
export function zombieWrites(history: PositionSnapshot[], zombie: string, heldEpochs: Map<number, number>): string[] {
  const out: string[] = [];
  const superseded = new Set<number>();
  for (const s of history) {
    for (const [p, held] of heldEpochs) {
      const e = s.position?.get(p);
      if (!e) continue;
      if (e.epoch > held) superseded.add(p);
      else if (superseded.has(p)) out.push(`snapshot ${s.id} (${s.operation}, by ${s.owner}) holds partition ${p} at epoch ${e.epoch} (owner ${e.owner}), after ${zombie}'s epoch ${held} was superseded`);
    }
  }
  return out;
}
