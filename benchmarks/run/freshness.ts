// Freshness: how long a record waits from its timestamp to the commit of its epoch, with the
// runtime running unbounded under a producer that writes at a steady rate.

import { mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { sampleRecord } from '../../src/tools/sample-events.js';
import { measureProcess } from '../harness/proc-tree.js';
import { percentile } from '../harness/stats.js';
import type { FreshnessFigures } from '../harness/summary.js';
import { WORKLOADS } from './args.js';
import { ROOT, configFor, createTopic, deleteTopic, latestMetadata, metricSum, python, runtimeArgs, scrape, type Bench } from './setup.js';

/**
 * The runtime unbounded on a new topic, a producer writing `--freshness-rate` records/s for
 * `--freshness-seconds`, each record's timestamp_ms set from the producer's clock as it is handed to
 * kcat. After the producer ends, the run goes on until every record is committed (checkpoints at
 * the configured interval), then stops. Freshness of a row: the commit time of the snapshot that
 * added it (Iceberg's timestamp-ms) minus its event_time (= timestamp_ms).
 */
export async function runFreshness(bench: Bench, workload: string, parallelism: number): Promise<FreshnessFigures | { error: string }> {
  const o = bench.options;
  const topic = `bench-fresh-${workload}-${bench.stamp}-p${parallelism}`.toLowerCase();
  await createTopic(bench, topic);
  const configDir = configFor(bench, workload, topic);
  const warehouse = mkdtempSync(path.join(bench.work, 'fresh-wh-'));
  const schema = loadConfig({ configDir: path.join(ROOT, 'config') }).config.pipelines.find((p) => p.topic === WORKLOADS[workload]!.source)!.sourceSchema;
  let produced = 0;
  let producerError: string | null = null;
  const run = measureProcess(process.execPath, runtimeArgs(bench, configDir, parallelism, false), {
    env: { ...process.env, KAFKA_BOOTSTRAP_SERVERS: o.bootstrap, WAREHOUSE_DIR: warehouse, LOG_LEVEL: 'warn' },
    deadlineMs: o.deadlineMs + o.freshnessSeconds * 1000,
    onStart: (control) => {
      void (async () => {
        // Wait for the pipeline to run, so start-up is not counted as staleness.
        for (let i = 0; i < 600; i++) {
          const text = await scrape(bench);
          if (text !== null && metricSum(text, 'streamberg_pipeline_state', 'state="running"') > 0) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        const kcat = spawn('kcat', ['-P', '-b', o.bootstrap, '-t', topic, '-K', '\t', '-X', 'linger.ms=5', '-X', 'enable.idempotence=true'], { stdio: ['pipe', 'ignore', 'pipe'] });
        kcat.stderr.setEncoding('utf8').on('data', (c: string) => (producerError = c.slice(-500)));
        const tick = 20;
        const perTick = Math.max(1, Math.round((o.freshnessRate * tick) / 1000));
        const startAt = performance.now();
        while (performance.now() - startAt < o.freshnessSeconds * 1000) {
          const lines: string[] = [];
          const now = Date.now();
          for (let k = 0; k < perTick; k++) {
            const r = sampleRecord(schema, produced++, { seed: 42, malformedRatio: 0 });
            const value = JSON.parse(r.value) as Record<string, unknown>;
            value.timestamp_ms = now;
            lines.push(`${r.key}\t${JSON.stringify(value)}\n`);
          }
          if (!kcat.stdin.write(lines.join(''))) await once(kcat.stdin, 'drain');
          // Paced against the start, so a slow tick is made up and the rate holds on average.
          const next = startAt + ((produced / perTick) * tick);
          await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
        }
        kcat.stdin.end();
        await once(kcat, 'close');
        // Until every record is committed, or three checkpoint intervals more.
        const until = performance.now() + 3 * o.checkpointSeconds * 1000 + 10_000;
        while (performance.now() < until) {
          const text = await scrape(bench);
          if (text !== null && metricSum(text, 'streamberg_records_out_total') >= produced) break;
          await new Promise((r) => setTimeout(r, 200));
        }
        control.signal('SIGTERM');
      })().catch((err: unknown) => {
        producerError = String(err);
        control.signal('SIGTERM');
      });
    },
  });
  const m = await run;
  try {
    if (producerError && produced === 0) return { error: `producer: ${producerError}` };
    if (m.exitCode !== 0) return { error: `the runtime exited with ${m.exitCode}: ${m.stderrTail.slice(-1500)}` };
    const metadata = latestMetadata(warehouse, WORKLOADS[workload]!.table);
    if (!metadata) return { error: `no table under ${warehouse}` };
    const { lagsMs } = python(['freshness', metadata, 'event_time']) as { lagsMs: number[] };
    const { commits } = python(['commits', metadata]) as { commits: unknown[] };
    if (lagsMs.length === 0) return { error: 'no rows committed' };
    return {
      workload,
      codec: 'none',
      parallelism,
      checkpointIntervalSeconds: o.checkpointSeconds,
      producedRecords: produced,
      ratePerSecond: o.freshnessRate,
      seconds: o.freshnessSeconds,
      committedRows: lagsMs.length,
      p50Ms: percentile(lagsMs, 50),
      p99Ms: percentile(lagsMs, 99),
      maxMs: percentile(lagsMs, 100),
      commits: commits.length,
    };
  } finally {
    rmSync(warehouse, { recursive: true, force: true });
    await deleteTopic(bench, topic);
  }
}
