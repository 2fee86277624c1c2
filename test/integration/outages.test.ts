// Outages of the runtime's peers, ridden out: the broker down for 5 minutes under a bounded run,
// and the warehouse unwritable for 5 minutes (chattr +i on the table's folders) under a running
// pipeline. Each time the pipeline is degraded (the metric reads 1 while it lasts, 0 after), logs
// one line when the outage begins and one when it is over, never fails for good whatever
// max_failures says, and every record lands exactly once (read back by pyiceberg).
//
// STREAMBERG_TEST_OUTAGE_SECONDS shortens the outages (default 300) when working on this file.

import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../helpers/build.js';
import { expectExactlyOnce } from '../helpers/expectations.js';
import { immutableUnavailable, kafkaSh, logLines, metricsUrl, scrape, setImmutable, sleep, tableDirs, watchMetric } from '../helpers/faults.js';
import { ensureKafka } from '../helpers/kafka.js';
import { ensurePythonEnv } from '../helpers/python.js';
import { expectedRecords, produce, runToExit, runtimeProject, startRuntime } from '../helpers/runtime.js';

const OUTAGE_MS = Number(process.env.STREAMBERG_TEST_OUTAGE_SECONDS ?? 300) * 1000;
// Fast retries, and a max_failures that an outage counted as failures would exhaust at once.
const RESTART = '  restart: { max_failures: 2, window: "30min", initial_backoff: "500ms", max_backoff: "5s" }';

beforeAll(() => {
  ensureBuilt();
  ensureKafka();
  ensurePythonEnv();
}, 900_000);

// Whatever happens, the broker is left running for the other test files.
afterAll(() => ensureKafka(), 300_000);

describe('outages', () => {
  it('rides out the broker down for 5 minutes under a bounded run: degraded, recovered, exactly once, exit 0', async () => {
    const p = runtimeProject({ runtimeExtra: RESTART });
    produce(p, p.bid, ['--count', '60000', '--partitions', '3', '--malformed-ratio', '0.01', '--seed', '61']);
    produce(p, p.user, ['--count', '1000', '--partitions', '1', '--seed', '62']);
    const run = startRuntime(p, ['--bounded', '--parallelism', '1', '--checkpoint-interval', '500ms'], { STREAMBERG_METRICS_EPHEMERAL: '1' });
    const url = await metricsUrl(run);
    const degraded = `pipeline="${p.bid}"`;
    await run.waitFor(new RegExp(`"pipeline running","pipeline":"${p.bid}"`));
    // Frozen the moment it runs, so that the broker goes away under a run still reading its
    // backlog (a stop takes seconds, the backlog less than that).
    run.child.kill('SIGSTOP');
    try {
      kafkaSh('stop');
    } finally {
      run.child.kill('SIGCONT');
    }
    const downAt = Date.now();
    const during = await watchMetric(url, 'streamberg_pipeline_degraded', degraded, sleep(OUTAGE_MS), 1000);
    // Still running, degraded, at the end of the outage; never failed for good.
    expect(run.child.exitCode).toBeNull();
    expect(during).toContain(1);
    expect(during.at(-1)).toBe(1);
    kafkaSh('start');
    const upAt = Date.now();
    await run.waitFor(new RegExp(`"pipeline recovered[^"]*","pipeline":"${p.bid}"`), 180_000);
    const after = await scrape(url, 'streamberg_pipeline_degraded', degraded);
    expect(await run.exited, run.output()).toBe(0);
    const out = run.output();
    // undefined only if the run had already ended: then its last state was not degraded either.
    expect(after === 0 || after === undefined).toBe(true);
    const down = logLines(out, /^pipeline degraded/, p.bid);
    const up = logLines(out, /^pipeline recovered/, p.bid);
    expect(down.length, out.slice(-3000)).toBe(1);
    expect(up.length).toBe(1);
    expect(down[0]!.code).toBe('KAFKA_UNAVAILABLE');
    // Over only once the broker was back: the outage began within a minute of the stop (kafkajs'
    // own retries come first) and lasted until the restart.
    expect(up[0]!.outageSeconds as number).toBeGreaterThanOrEqual((upAt - downAt) / 1000 - 60);
    expect(logLines(out, /^pipeline failed/, p.bid)).toEqual([]);
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 60_000, 61, 0.01));
    await expectExactlyOnce(p, p.user, 'user_events_enriched', expectedRecords(p, p.user, 1000, 62, 0));
  }, OUTAGE_MS + 420_000);

  it('rides out a warehouse unwritable for 5 minutes (chattr +i): degraded, recovered, exactly once', async (ctx) => {
    const why = immutableUnavailable(mkdtempSync(path.join(os.tmpdir(), 'chattr-probe-')));
    if (why) {
      console.warn(`skipped: ${why}`);
      ctx.skip();
    }
    const p = runtimeProject({ runtimeExtra: RESTART });
    produce(p, p.bid, ['--count', '5000', '--partitions', '3', '--malformed-ratio', '0.01', '--seed', '63']);
    produce(p, p.user, ['--count', '500', '--partitions', '1', '--seed', '64']);
    // A first run creates the tables and commits the first records.
    const first = await runToExit(p, ['--bounded', '--metrics-port', '0']);
    expect(first.code, first.output).toBe(0);
    produce(p, p.bid, ['--count', '20000', '--start-index', '5000', '--malformed-ratio', '0.01', '--seed', '63']);
    const dirs = [...tableDirs(p.warehouse, 'analytics', 'parsed_events'), ...tableDirs(p.warehouse, 'analytics', 'parsed_events_dlq')];
    setImmutable(dirs, true);
    let restored = false;
    const restore = () => {
      if (!restored) setImmutable(dirs, false);
      restored = true;
    };
    const run = startRuntime(p, ['--parallelism', '1', '--checkpoint-interval', '500ms'], { STREAMBERG_METRICS_EPHEMERAL: '1' });
    try {
      const url = await metricsUrl(run);
      const degraded = `pipeline="${p.bid}"`;
      await run.waitFor(new RegExp(`"pipeline degraded[^"]*","pipeline":"${p.bid}"`), 120_000);
      const during = await watchMetric(url, 'streamberg_pipeline_degraded', degraded, sleep(OUTAGE_MS), 1000);
      expect(run.child.exitCode).toBeNull();
      expect(during).toContain(1);
      expect(during.at(-1)).toBe(1);
      restore();
      await run.waitFor(new RegExp(`"pipeline recovered[^"]*","pipeline":"${p.bid}"`), 120_000);
      expect(await scrape(url, 'streamberg_pipeline_degraded', degraded)).toBe(0);
      expect(await scrape(url, 'streamberg_pipeline_state', `pipeline="${p.bid}",state="running"`)).toBe(1);
      run.child.kill('SIGTERM');
      expect(await run.exited, run.output()).toBe(0);
    } finally {
      restore();
      run.child.kill('SIGKILL');
    }
    const out = run.output();
    const down = logLines(out, /^pipeline degraded/, p.bid);
    const up = logLines(out, /^pipeline recovered/, p.bid);
    expect(down.length, out.slice(-3000)).toBe(1);
    expect(up.length).toBe(1);
    expect(down[0]!.code).toBe('STORAGE_FAILED');
    expect(JSON.stringify(down[0]!.causes ?? down[0]!.foreignCode)).toMatch(/EPERM|EACCES/);
    // Restarted many times during the outage, each at debug level only, never failed for good
    // (max_failures is 2).
    expect(logLines(out, /^still degraded/, p.bid).length).toBeGreaterThan(2);
    expect(logLines(out, /^pipeline failed/, p.bid)).toEqual([]);
    // Whatever the SIGTERM left, a bounded run finishes; then every record is there once.
    const rest = await runToExit(p, ['--bounded', '--metrics-port', '0']);
    expect(rest.code, rest.output).toBe(0);
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 25_000, 63, 0.01));
  }, OUTAGE_MS + 420_000);
});
