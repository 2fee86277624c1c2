// A pipeline's position survives maintenance by others: another writer commits after the
// pipeline's last snapshot and snapshot expiry (pyiceberg's) removes every snapshot that carried
// the pipeline's offsets — the restart still resumes at the exact next offsets. A table that
// shows the group's history but holds no position for its topic fails loudly, and the documented
// reset property lets it proceed.

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../helpers/build.js';
import { expectExactlyOnce } from '../helpers/expectations.js';
import { ensureKafka } from '../helpers/kafka.js';
import { ensurePythonEnv, runPython } from '../helpers/python.js';
import { expectedRecords, produce, readTable, runToExit, runtimeProject, type RuntimeProject } from '../helpers/runtime.js';

beforeAll(() => {
  ensureBuilt();
  ensureKafka();
  ensurePythonEnv();
}, 900_000);

const PY_TABLE = `
from pyiceberg.catalog.sql import SqlCatalog
cat = SqlCatalog("local", uri="sqlite:///" + ARGS["warehouse"] + "/catalog.db", warehouse="file://" + ARGS["warehouse"])
t = cat.load_table((ARGS["namespace"], ARGS["table"]))
`;

/** pyiceberg as the other writer: appends a copy of one row marked `other-writer`, then expires every older snapshot. */
function appendAndExpire(p: RuntimeProject, table: string): Promise<{ before: number; after: number; offsetsLeft: number; property: string | null }> {
  return runPython(
    PY_TABLE +
      `
import pyarrow as pa
before = len(t.metadata.snapshots)
row = t.scan(limit=1).to_arrow()
i = row.schema.get_field_index("session_id")
row = row.set_column(i, row.schema.field(i), pa.array(["other-writer"], row.schema.field(i).type))
t.append(row)
t = cat.load_table((ARGS["namespace"], ARGS["table"]))
current = t.current_snapshot().snapshot_id
t.maintenance.expire_snapshots().by_ids([s.snapshot_id for s in t.metadata.snapshots if s.snapshot_id != current]).commit()
t = cat.load_table((ARGS["namespace"], ARGS["table"]))
key = "kafka.offsets." + ARGS["group"]
print(json.dumps({"before": before, "after": len(t.metadata.snapshots),
  "offsetsLeft": sum(1 for s in t.metadata.snapshots if key in s.summary.additional_properties),
  "property": t.properties.get("streamberg." + key)}))
`,
    { warehouse: p.warehouse, namespace: p.config.catalog.namespace, table, group: p.pipeline(p.bid).groupId },
  );
}

function setProperty(p: RuntimeProject, table: string, key: string, value: string): Promise<unknown> {
  return runPython(PY_TABLE + `\nwith t.transaction() as tx:\n    tx.set_properties({ARGS["key"]: ARGS["value"]})\nprint(json.dumps(True))\n`, {
    warehouse: p.warehouse,
    namespace: p.config.catalog.namespace,
    table,
    key,
    value,
  });
}

function properties(p: RuntimeProject, table: string): Promise<Record<string, string>> {
  return runPython(PY_TABLE + `\nprint(json.dumps(dict(t.properties)))\n`, { warehouse: p.warehouse, namespace: p.config.catalog.namespace, table });
}

const otherWriter = (r: Record<string, unknown>): boolean => r['session_id'] === 'other-writer';

describe('position after maintenance', () => {
  it('resumes exactly once after another writer committed and expiry removed every snapshot with the offsets', async () => {
    const p = runtimeProject();
    produce(p, p.bid, ['--count', '300', '--partitions', '2', '--seed', '41']);
    produce(p, p.user, ['--count', '10', '--partitions', '1', '--seed', '42']);
    const first = await runToExit(p, ['--bounded', '--checkpoint-interval', '200ms', '--metrics-port', '0']);
    expect(first.code, first.output).toBe(0);

    const expired = await appendAndExpire(p, 'parsed_events');
    expect(expired.before).toBeGreaterThan(1);
    expect(expired.after).toBe(1);
    expect(expired.offsetsLeft).toBe(0);

    produce(p, p.bid, ['--count', '200', '--start-index', '300', '--seed', '41']);
    const second = await runToExit(p, ['--bounded', '--checkpoint-interval', '200ms', '--metrics-port', '0']);
    expect(second.code, second.output).toBe(0);
    expect(second.output).toMatch(new RegExp(`resuming from the last committed checkpoint","pipeline":"${p.bid}"`));
    // Every record once (by its identity, not a count), the other writer's row kept apart.
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 500, 41, 0), otherWriter);
    // What carried it: the position property, which no expiry removes.
    expect(expired.property).toContain(p.bid);
  }, 300_000);

  it('fails naming table and group when the group has history but no position for the topic, and proceeds after the reset property', async () => {
    const p = runtimeProject();
    produce(p, p.bid, ['--count', '100', '--partitions', '1', '--seed', '43']);
    produce(p, p.user, ['--count', '10', '--partitions', '1', '--seed', '44']);
    const first = await runToExit(p, ['--bounded', '--metrics-port', '0']);
    expect(first.code, first.output).toBe(0);

    // The same group and table now read another topic: the table's position is for the old one.
    const renamed = `${p.bid}-renamed`;
    const file = path.join(p.configDir, 'topics.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(`  ${p.bid}:\n`, `  ${renamed}:\n`));
    produce(p, renamed, ['--count', '50', '--partitions', '1', '--seed', '45']);
    const group = p.pipeline(p.bid).groupId;
    const lost = await runToExit(p, ['--bounded', '--metrics-port', '0']);
    expect(lost.code, lost.output).toBe(1);
    expect(lost.output).toContain('POSITION_LOST');
    expect(lost.output).toContain(`table ${p.config.catalog.namespace}.parsed_events shows the history of consumer group ${group}`);
    expect(lost.output).toContain(`streamberg.kafka.reset.${group}`);

    await setProperty(p, 'parsed_events', `streamberg.kafka.reset.${group}`, 'earliest-offset');
    const reset = await runToExit(p, ['--bounded', '--metrics-port', '0']);
    expect(reset.code, reset.output).toBe(0);
    expect(reset.output).toContain(`position reset by table property streamberg.kafka.reset.${group}: starting by earliest-offset`);
    const props = await properties(p, 'parsed_events');
    expect(props[`streamberg.kafka.reset.${group}`]).toBeUndefined();
    expect(JSON.parse(props[`streamberg.kafka.offsets.${group}`]!).offsets).toEqual({ [renamed]: { '0': 50 } });
    // The old topic's records once, the new topic's once.
    const sessions = (recs: ReturnType<typeof expectedRecords>) => recs.map((r) => r.fields!['session_id']);
    const all = [...expectedRecords(p, p.bid, 100, 43, 0), ...expectedRecords(p, p.bid, 50, 45, 0)];
    const { rows } = await readTable(p, 'parsed_events', ['session_id', 'event_time']);
    expect(rows.map((r) => r['session_id']).sort()).toEqual(sessions(all).sort());

    // Once reset, the next start resumes from the new position: nothing is read twice.
    const again = await runToExit(p, ['--bounded', '--metrics-port', '0']);
    expect(again.code, again.output).toBe(0);
    expect((await readTable(p, 'parsed_events', ['session_id'])).rows).toHaveLength(150);
  }, 300_000);
});
