// The whole runtime against the real broker, read back by pyiceberg: exactly once through normal
// runs, kill -9, injected actor crashes and SIGTERM; metrics checked by promtool.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureBuilt } from '../helpers/build.js';
import { expectExactlyOnce, expectTableRows } from '../helpers/expectations.js';
import { createKafka } from '../../src/kafka/client.js';
import { ensureTopic } from '../../src/kafka/topics.js';
import { BOOTSTRAP, ensureKafka, uniqueTopic } from '../helpers/kafka.js';
import { ensurePythonEnv } from '../helpers/python.js';
import { seeded, seedFrom } from '../helpers/seed.js';
import { expectedRecords, produce, readTable, runToExit, runtimeProject, startRuntime } from '../helpers/runtime.js';

beforeAll(() => {
  ensureBuilt();
  ensureKafka();
  ensurePythonEnv();
}, 900_000);

describe('the runtime, end to end', () => {
  it('writes every record of both example pipelines exactly once, with the right values', async () => {
    const p = runtimeProject();
    produce(p, p.bid, ['--count', '3000', '--partitions', '3', '--malformed-ratio', '0.05', '--seed', '3']);
    produce(p, p.user, ['--count', '2000', '--partitions', '2', '--malformed-ratio', '0.02', '--seed', '4']);
    const run = await runToExit(p, ['--bounded', '--parallelism', '2', '--checkpoint-interval', '500ms', '--metrics-port', '0']);
    expect(run.code, run.output).toBe(0);
    const bidRecords = expectedRecords(p, p.bid, 3000, 3, 0.05);
    const userRecords = expectedRecords(p, p.user, 2000, 4, 0.02);
    const bid = await expectExactlyOnce(p, p.bid, 'parsed_events', bidRecords);
    const user = await expectExactlyOnce(p, p.user, 'user_events_enriched', userRecords);
    expect(bid.rows + bid.deadLetters).toBe(3000);
    expect(user.rows + user.deadLetters).toBe(2000);

    // Every snapshot the runtime committed carries the offsets and epoch; the last one the ends.
    const { snapshots } = await readTable(p, 'parsed_events', ['user_id']);
    expect(snapshots.length).toBeGreaterThan(0);
    const last = snapshots.at(-1)!;
    const offsets = JSON.parse(last[`kafka.offsets.g-${p.bid}`]!) as Record<string, Record<string, number>>;
    expect(Object.values(offsets[p.bid]!).reduce((a, b) => a + b, 0)).toBe(3000);
    expect(Number(last['streamberg.epoch'])).toBeGreaterThan(0);

    // A second bounded run finds nothing new and changes nothing: the same records, each once,
    // in both tables and both dead-letter tables.
    const again = await runToExit(p, ['--bounded', '--metrics-port', '0']);
    expect(again.code, again.output).toBe(0);
    expect(await expectExactlyOnce(p, p.bid, 'parsed_events', bidRecords)).toEqual(bid);
    expect(await expectExactlyOnce(p, p.user, 'user_events_enriched', userRecords)).toEqual(user);
  }, 300_000);

  it('survives kill -9 at five random moments: every record lands exactly once', async () => {
    const p = runtimeProject();
    const count = 60_000;
    produce(p, p.bid, ['--count', String(count), '--partitions', '3', '--malformed-ratio', '0.01', '--seed', '5']);
    produce(p, p.user, ['--count', '20000', '--partitions', '2', '--seed', '6']);
    // The moments come from a seeded generator; the seed is printed, and the variable replays it.
    const seed = seedFrom('STREAMBERG_KILL_SEED', 20_261_204);
    console.log(`kill -9 loop seed ${seed} (STREAMBERG_KILL_SEED=${seed} replays it)`);
    const random = seeded(seed);
    let kills = 0;
    for (let i = 0; i < 5; i++) {
      const run = startRuntime(p, ['--parallelism', '1', '--checkpoint-interval', '300ms', '--metrics-port', '0']);
      await run.waitFor(/pipeline running/, 60_000);
      await new Promise((r) => setTimeout(r, 200 + random() * 1500));
      if (run.child.exitCode === null) {
        run.child.kill('SIGKILL');
        kills++;
      }
      await run.exited;
    }
    expect(kills).toBe(5);
    const finish = await runToExit(p, ['--bounded', '--parallelism', '2', '--metrics-port', '0']);
    expect(finish.code, finish.output).toBe(0);
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, count, 5, 0.01));
    await expectExactlyOnce(p, p.user, 'user_events_enriched', expectedRecords(p, p.user, 20000, 6, 0));
  }, 600_000);

  it('restarts a crashed transform worker and a crashed sink; exactly once; the other pipeline never stops', async () => {
    const p = runtimeProject({ batchSize: 500 });
    produce(p, p.bid, ['--count', '20000', '--partitions', '3', '--malformed-ratio', '0.02', '--seed', '7']);
    produce(p, p.user, ['--count', '20000', '--partitions', '3', '--seed', '8']);
    const faults = `transform-exit:${p.bid}:5,sink-exit:${p.bid}:12`;
    const run = await runToExit(p, ['--bounded', '--parallelism', '2', '--checkpoint-interval', '300ms', '--metrics-port', '0'], {
      STREAMBERG_FAULTS: faults,
      STREAMBERG_FAULT_DIR: mkdtempSync(path.join(os.tmpdir(), 'faults-')),
    });
    expect(run.code, run.output).toBe(0);
    // The transform crash was retried on a fresh worker; the sink crash restarted the bid pipeline.
    expect(run.output).toMatch(new RegExp(`"transform task failed; retrying it","pipeline":"${p.bid}"`));
    expect(run.output).toMatch(new RegExp(`"pipeline failed; restarting from its last checkpoint.*"pipeline":"${p.bid}"`));
    expect(run.output).not.toMatch(new RegExp(`"pipeline failed[^"]*","pipeline":"${p.user}"`));
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 20000, 7, 0.02));
    await expectExactlyOnce(p, p.user, 'user_events_enriched', expectedRecords(p, p.user, 20000, 8, 0));
  }, 300_000);

  it('on SIGTERM commits what it consumed, exits 0, and the next start resumes there', async () => {
    const p = runtimeProject();
    produce(p, p.bid, ['--count', '40000', '--partitions', '3', '--seed', '9']);
    produce(p, p.user, ['--count', '10', '--partitions', '1', '--seed', '10']);
    // A long interval: only the final checkpoint commits anything.
    const run = startRuntime(p, ['--parallelism', '1', '--checkpoint-interval', '10min', '--metrics-port', '0']);
    await run.waitFor(/pipeline running/, 60_000);
    await new Promise((r) => setTimeout(r, 1500));
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.output()).toMatch(/pipeline stopped after its final checkpoint/);
    const first = await readTable(p, 'parsed_events', ['user_id']);
    expect(first.rows.length).toBeGreaterThan(0);
    const committed = JSON.parse(first.snapshots.at(-1)![`kafka.offsets.g-${p.bid}`]!) as Record<string, Record<string, number>>;
    expect(Object.values(committed[p.bid]!).reduce((a, b) => a + b, 0)).toBe(first.rows.length);

    const rest = await runToExit(p, ['--bounded', '--metrics-port', '0']);
    expect(rest.code, rest.output).toBe(0);
    expect(rest.output).toMatch(new RegExp(`resuming from the last committed checkpoint","pipeline":"${p.bid}"`));
    await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 40000, 9, 0));
  }, 300_000);

  it('sends dead letters to a Kafka topic when configured so, with the original bytes and the reason', async () => {
    const dlqTopic = uniqueTopic('dlq');
    const p = runtimeProject({ bidDeadLetterTopic: dlqTopic });
    produce(p, p.bid, ['--count', '1500', '--partitions', '2', '--malformed-ratio', '0.1', '--seed', '13']);
    produce(p, p.user, ['--count', '10', '--partitions', '1', '--seed', '14']);
    const admin = createKafka(p.config.kafka).admin();
    await admin.connect();
    await ensureTopic(admin, dlqTopic, 1);
    await admin.disconnect();
    const run = await runToExit(p, ['--bounded', '--metrics-port', '0']);
    expect(run.code, run.output).toBe(0);
    const records = expectedRecords(p, p.bid, 1500, 13, 0.1);
    const bad = records.filter((r) => r.kind === 'bad-json' || r.kind === 'wrong-type');
    const out = execFileSync('kcat', ['-b', BOOTSTRAP, '-C', '-t', dlqTopic, '-o', 'beginning', '-e', '-q', '-f', '%h\x1f%s\x1e'], { encoding: 'utf8', timeout: 60_000 });
    const letters = out.split('\x1e').filter((x) => x !== '').map((x) => x.split('\x1f') as [string, string]);
    expect(letters.map(([, v]) => v).sort()).toEqual(bad.map((r) => r.value).sort());
    expect(letters.every(([h]) => h.includes('dlq-error-code=RECORD_DECODE_FAILED') && h.includes(`dlq-source-topic=${p.bid}`))).toBe(true);
    // The good records are in the table, each once with its values; the bad ones went to the
    // topic and nowhere else.
    expect(await expectTableRows(p, 'parsed_events', records)).toBe(1500 - bad.length);
    expect((await readTable(p, 'parsed_events_dlq', ['source_offset'])).rows).toEqual([]);
  }, 300_000);

  it('serves /metrics that promtool accepts, with counters that match what was produced', async () => {
    const startedAt = Date.now();
    const p = runtimeProject();
    produce(p, p.bid, ['--count', '2000', '--partitions', '2', '--malformed-ratio', '0.05', '--seed', '11']);
    produce(p, p.user, ['--count', '500', '--partitions', '1', '--seed', '12']);
    const records = expectedRecords(p, p.bid, 2000, 11, 0.05);
    const good = records.filter((r) => r.kind === 'valid' || r.kind === 'missing-field').length;
    const run = startRuntime(p, ['--checkpoint-interval', '300ms'], { STREAMBERG_METRICS_EPHEMERAL: '1' });
    const line = await run.waitFor(/metrics on http:\/\/127\.0\.0\.1:\d+\/metrics/);
    const url = /http:\/\/\S+\/metrics/.exec(line)![0];
    let body = '';
    const value = (name: string, labels: string) => {
      const m = new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(body);
      return m ? Number(m[1]) : undefined;
    };
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      body = await (await fetch(url)).text();
      if (value('streamberg_records_out_total', `pipeline="${p.bid}",table="parsed_events"`) === good && value('streamberg_records_out_total', `pipeline="${p.bid}",table="parsed_events_dlq"`) === 2000 - good) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    // Every record committed: at rest, the pipeline takes no checkpoint rounds (its epoch stays)
    // and still counts as checkpointed (the completed timestamp moves on, as alerts expect).
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await sleep(1000);
    const atRest = async () => {
      const b = await (await fetch(url)).text();
      const v = (name: string) => Number(new RegExp(`^${name}\\{pipeline="${p.bid}"\\} (\\S+)$`, 'm').exec(b)![1]);
      return { epoch: v('streamberg_checkpoint_last_completed_epoch'), completedAt: v('streamberg_checkpoint_last_completed_timestamp_seconds') };
    };
    const before = await atRest();
    await sleep(1500);
    const after = await atRest();
    expect(after.epoch, 'epochs taken at rest over 5 checkpoint intervals').toBe(before.epoch);
    expect(after.completedAt).toBeGreaterThan(before.completedAt);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);

    const promtool = execFileSync('bash', ['-c', 'promtool check metrics 2>&1; echo "exit=$?"'], { input: body, encoding: 'utf8' });
    expect(promtool.trim()).toBe('exit=0');
    let recordsIn = 0;
    for (const m of body.matchAll(new RegExp(`^streamberg_records_in_total\\{pipeline="${p.bid}",partition="\\d+"\\} (\\S+)$`, 'gm'))) recordsIn += Number(m[1]);
    expect(recordsIn).toBe(2000);
    expect(value('streamberg_records_out_total', `pipeline="${p.bid}",table="parsed_events"`)).toBe(good);
    expect(value('streamberg_records_out_total', `pipeline="${p.bid}",table="parsed_events_dlq"`)).toBe(2000 - good);
    expect(value('streamberg_dead_letters_total', `pipeline="${p.bid}",reason="RECORD_DECODE_FAILED"`)).toBe(2000 - good);
    expect(value('streamberg_pipeline_state', `pipeline="${p.user}",state="running"`)).toBe(1);
    expect(value('streamberg_checkpoint_last_completed_epoch', `pipeline="${p.bid}"`)).toBeGreaterThan(0);
    // Freshness: every record was produced during this test, so the newest committed record's
    // Kafka timestamp lies between the test's start and the scrape; commits were counted per table.
    const newest = value('streamberg_committed_event_timestamp_seconds', `pipeline="${p.bid}"`)!;
    expect(newest).toBeGreaterThanOrEqual(startedAt / 1000 - 1);
    expect(newest).toBeLessThanOrEqual(Date.now() / 1000);
    expect(value('streamberg_commits_total', `pipeline="${p.bid}",table="parsed_events"`)).toBeGreaterThan(0);
    expect(value('streamberg_committed_bytes_total', `pipeline="${p.bid}",table="parsed_events"`)).toBeGreaterThan(0);
    expect(body).toMatch(/^streamberg_checkpoint_interval_seconds 0\.3$/m);
    expect(body).toMatch(/^streamberg_process_resident_memory_bytes \d+/m);
    expect(body).toMatch(/^streamberg_nodejs_eventloop_lag_seconds \S+/m);
  }, 300_000);

  it('is scraped by a real Prometheus, whose queries see the records produced', async () => {
    const p = runtimeProject();
    produce(p, p.bid, ['--count', '1200', '--partitions', '2', '--seed', '15']);
    produce(p, p.user, ['--count', '300', '--partitions', '1', '--seed', '16']);
    const run = startRuntime(p, ['--checkpoint-interval', '300ms'], { STREAMBERG_METRICS_EPHEMERAL: '1' });
    const line = await run.waitFor(/metrics on http:\/\/127\.0\.0\.1:\d+\/metrics/);
    const target = /127\.0\.0\.1:\d+/.exec(line)![0];
    const dir = mkdtempSync(path.join(os.tmpdir(), 'prometheus-'));
    writeFileSync(path.join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: streamberg\n    static_configs:\n      - targets: ["${target}"]\n`);
    const port = await freePort();
    const prometheus = spawn('prometheus', [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
    try {
      const query = async (q: string): Promise<number | undefined> => {
        const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`).catch(() => undefined);
        if (!r?.ok) return undefined;
        const body = (await r.json()) as { data: { result: Array<{ value: [number, string] }> } };
        return body.data.result[0] ? Number(body.data.result[0].value[1]) : undefined;
      };
      // The probes an orchestrator asks: live at once, ready once both pipelines run.
      expect((await fetch(`http://${target}/healthz`)).status).toBe(200);
      let ready: { status: number; body: unknown } | undefined;
      for (const until = Date.now() + 90_000; Date.now() < until; await new Promise((r) => setTimeout(r, 250))) {
        const res = await fetch(`http://${target}/readyz`);
        ready = { status: res.status, body: await res.json() };
        if (res.status === 200) break;
      }
      expect(ready).toEqual({ status: 200, body: { ready: true, pipelines: { [p.bid]: 'running', [p.user]: 'running' }, notReady: [] } });
      // Both pipelines run at their own pace, and a table's rows count once committed: wait for
      // each figure, not for one and then read the other.
      let seen: number | undefined;
      let out: number | undefined;
      const deadline = Date.now() + 90_000;
      while (Date.now() < deadline) {
        seen = await query(`sum(streamberg_records_in_total{pipeline="${p.bid}"})`);
        out = await query(`sum(streamberg_records_out_total{pipeline="${p.user}"})`);
        if (seen === 1200 && out === 300) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(seen).toBe(1200);
      expect(out).toBe(300);
      expect(await query('up{job="streamberg"}')).toBe(1);

      // Every query of the shipped Grafana dashboard parses and returns series from this scrape
      // (Grafana's variables as it would fill them: every pipeline, a rate window of a few scrapes).
      await new Promise((r) => setTimeout(r, 5000));
      const dashboard = JSON.parse(readFileSync(path.join(ROOT, 'deploy/grafana/streamberg.json'), 'utf8')) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
      const queries = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((t) => ({ panel: panel.title, expr: t.expr.replaceAll('$__rate_interval', '30s').replaceAll('$pipeline', '.*') })));
      expect(queries.length).toBeGreaterThan(20);
      const empty: string[] = [];
      for (const q of queries) {
        const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q.expr)}`);
        const body = (await r.json()) as { status: string; error?: string; data?: { result: unknown[] } };
        if (body.status !== 'success' || (body.data?.result.length ?? 0) === 0) empty.push(`${q.panel}: ${q.expr} → ${body.status} ${body.error ?? 'no series'}`);
      }
      expect(empty).toEqual([]);
    } finally {
      prometheus.kill('SIGTERM');
      run.child.kill('SIGTERM');
      await run.exited;
    }
  }, 300_000);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}
