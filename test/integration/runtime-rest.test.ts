// The runtime end to end into Apache Iceberg's reference REST catalog server, with the real
// broker, and pyiceberg reading the tables back through the same server: both example
// pipelines exactly once; kill -9 and resume exactly once; pyiceberg appending to the same table
// while the runtime commits (409s on both sides), still exactly once.

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../helpers/build.js';
import { expectExactlyOnce } from '../helpers/expectations.js';
import { startIcebergRest, type IcebergRestServer } from '../helpers/iceberg-rest.js';
import { ensureKafka } from '../helpers/kafka.js';
import { ensurePythonEnv, runPython } from '../helpers/python.js';
import { expectedRecords, produce, readTable, runToExit, runtimeProject, startRuntime, type RuntimeProject } from '../helpers/runtime.js';

let server: IcebergRestServer;

beforeAll(async () => {
  ensureBuilt();
  ensureKafka();
  ensurePythonEnv();
  server = await startIcebergRest();
}, 900_000);
afterAll(() => server?.stop());

/** The shipped project with its catalog swapped for the REST server, in a namespace of its own. */
function restProject(batchSize?: number): RuntimeProject {
  const namespace = `rt_${randomBytes(4).toString('hex')}`;
  return runtimeProject({ ...(batchSize ? { batchSize } : {}), catalog: `  type: "rest"\n  uri: "${server.uri}"\n  namespace: "${namespace}"` });
}

describe('runtime into a REST catalog', () => {
  it('runs both example pipelines into the REST catalog exactly once; pyiceberg reads them through the server', async () => {
    const p = restProject();
    expect(p.config.catalog.type).toBe('rest');
    produce(p, p.bid, ['--count', '4000', '--partitions', '2', '--malformed-ratio', '0.02', '--seed', '61']);
    produce(p, p.user, ['--count', '2000', '--partitions', '2', '--malformed-ratio', '0.02', '--seed', '62']);
    const run = await runToExit(p, ['--bounded', '--checkpoint-interval', '300ms', '--metrics-port', '0']);
    expect(run.code, run.output).toBe(0);
    const bid = await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 4000, 61, 0.02));
    const user = await expectExactlyOnce(p, p.user, 'user_events_enriched', expectedRecords(p, p.user, 2000, 62, 0.02));
    expect(bid.deadLetters).toBeGreaterThan(0);
    expect(user.deadLetters).toBeGreaterThan(0);
    // The offsets are in the summary the server stored.
    const { snapshots } = await readTable(p, 'parsed_events', ['event_name']);
    const last = snapshots.filter((s) => s[`kafka.offsets.g-${p.bid}`] !== undefined).at(-1)!;
    expect(JSON.parse(last[`kafka.offsets.g-${p.bid}`]!)).toEqual({ [p.bid]: { '0': expect.any(Number), '1': expect.any(Number) } });
    const offsets = JSON.parse(last[`kafka.offsets.g-${p.bid}`]!)[p.bid] as Record<string, number>;
    expect(offsets['0']! + offsets['1']!).toBe(4000);
  }, 300_000);

  it('resumes exactly once after kill -9', async () => {
    const p = restProject(500);
    produce(p, p.bid, ['--count', '6000', '--partitions', '2', '--seed', '63']);
    produce(p, p.user, ['--count', '10', '--partitions', '1', '--seed', '64']);
    const run = startRuntime(p, ['--checkpoint-interval', '200ms', '--metrics-port', '0']);
    await run.waitFor(new RegExp(`checkpoint committed","pipeline":"${p.bid}"[^\\n]*"rows":[1-9]`), 120_000);
    // More records while it runs; killed as soon as they are sent, between checkpoints.
    produce(p, p.bid, ['--count', '6000', '--start-index', '6000', '--seed', '63']);
    run.child.kill('SIGKILL');
    expect(await run.exited).toBe('SIGKILL');
    const before = await readTable(p, 'parsed_events', ['event_name']);
    expect(before.rows.length).toBeGreaterThan(0);
    const rest = await runToExit(p, ['--bounded', '--checkpoint-interval', '300ms', '--metrics-port', '0']);
    expect(rest.code, rest.output).toBe(0);
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 12000, 63, 0));
  }, 300_000);

  it('stays exactly once while pyiceberg appends to the same table through the server (409s on both sides)', async () => {
    const p = restProject(500);
    produce(p, p.bid, ['--count', '500', '--partitions', '2', '--seed', '65']);
    produce(p, p.user, ['--count', '10', '--partitions', '1', '--seed', '66']);
    const run = startRuntime(p, ['--checkpoint-interval', '100ms', '--metrics-port', '0']);
    // The runtime has created the table by then.
    await run.waitFor(new RegExp(`pipeline running","pipeline":"${p.bid}"`), 120_000);
    let pythonDone = false;
    const python = runPython<{ appends: number; conflicts: number }>(
      `
import pyarrow as pa
from pyiceberg.catalog.rest import RestCatalog
from pyiceberg.exceptions import CommitFailedException
catalog = RestCatalog("rest", uri=ARGS["uri"])
appends = conflicts = 0
while appends < 12:
    t = catalog.load_table((ARGS["namespace"], "parsed_events"))
    rows = [{"event_name": "pyiceberg", "session_id": f"py-{appends}-{i}"} for i in range(2)]
    try:
        t.append(pa.Table.from_pylist(rows, schema=t.schema().as_arrow()))
        appends += 1
    except CommitFailedException:
        conflicts += 1
print(json.dumps({"appends": appends, "conflicts": conflicts}))
`,
      { uri: server.uri, namespace: p.config.catalog.namespace },
    ).finally(() => (pythonDone = true));
    // Records keep arriving while pyiceberg appends, so the runtime commits every 100 ms too.
    let produced = 500;
    while (!pythonDone && produced < 20_000) {
      produce(p, p.bid, ['--count', '500', '--start-index', String(produced), '--seed', '65']);
      produced += 500;
      await new Promise((r) => setTimeout(r, 50));
    }
    const py = await python;
    run.child.kill('SIGTERM');
    expect(await run.exited, run.output()).toBe(0);

    const ours = (run.output().match(new RegExp(`commit conflict; retrying on the new table head","pipeline":"${p.bid}"`, 'g')) ?? []).length;
    expect(ours + py.conflicts, `our retries ${ours}, pyiceberg's ${py.conflicts}`).toBeGreaterThan(0);

    const { rows } = await readTable(p, 'parsed_events', ['event_name', 'session_id', 'event_time']);
    const pyRows = rows.filter((r) => r.event_name === 'pyiceberg');
    expect(py.appends).toBe(12);
    expect(new Set(pyRows.map((r) => r.session_id)).size).toBe(24);
    expect(pyRows.length).toBe(24);
    const records = expectedRecords(p, p.bid, produced, 65, 0);
    const mine = rows.filter((r) => r.event_name !== 'pyiceberg');
    expect(mine.length).toBe(records.length);
    expect(new Set(mine.map((r) => r.event_time)).size).toBe(records.length);
    expect(mine.map((r) => String(r.session_id)).sort()).toEqual(records.map((r) => String(r.fields!.session_id ?? null)).sort());
  }, 300_000);
});
