// The report of a benchmark run: the results file (benchmarks/results/bench-<stamp>.json, checked
// against its shape before it is written), the summary tables on stdout, and the PNG charts.

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeCharts } from '../harness/charts.js';
import { formatSpread, spread } from '../harness/stats.js';
import { THREAD_ROLES, type RoleCpu } from '../harness/thread-cpu.js';
import { checkResults, ratios, summarize, type Results, type SummaryRow } from '../harness/summary.js';
import { WORKLOADS } from './args.js';
import type { RoundsOutcome } from './rounds.js';
import { RESULTS_DIR, ROOT, flinkVersions, versions, type Bench } from './setup.js';

/** The results of the rounds, with the machine, the versions and the configuration they ran on. */
export function resultsOf(bench: Bench, outcome: RoundsOutcome): Results {
  const o = bench.options;
  const { topics, runs: all, freshness, withFlink } = outcome;
  const summary = summarize(all);
  return {
    benchmark: 'streamberg',
    version: 1,
    startedAt: bench.startedAt,
    finishedAt: new Date().toISOString(),
    machine: { cores: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryMb: Math.round(os.totalmem() / 2 ** 20), os: `${os.type()} ${os.release()}`, loadAverageAtStart: bench.loadAtStart, loadAverageAtEnd: os.loadavg() },
    versions: { ...versions(), ...(withFlink ? flinkVersions() : {}) },
    configuration: {
      workloads: o.workloads,
      records: o.records,
      partitions: o.partitions,
      codecs: o.codecs,
      parallelisms: o.parallelisms,
      runs: o.runs,
      references: o.references,
      withFlink,
      stages: o.stages,
      stageRecords: o.stageRecords,
      freshnessSeconds: o.freshnessSeconds,
      freshnessRate: o.freshnessRate,
      checkpointInterval: o.checkpointInterval,
      settings: Object.fromEntries(o.settings.map((x) => [x.key, x.value])),
      bootstrap: o.bootstrap,
    },
    workloads: topics.map(({ workload, topic }) => ({ name: workload, source: WORKLOADS[workload]!.source, codec: topic.codec, topic: topic.topic, records: topic.records, partitions: o.partitions, payloadBytes: topic.valueBytes, producedSeconds: topic.producedSeconds })),
    runs: all,
    freshness,
    summary,
    ratios: ratios(summary),
  };
}

/** Writes the results file and the charts, and prints the summary. */
export async function writeReport(bench: Bench, results: Results): Promise<void> {
  const problems = checkResults(results);
  if (problems.length) throw new Error(`the results are malformed: ${problems.join('; ')}`);
  const outDir = RESULTS_DIR;
  mkdirSync(outDir, { recursive: true });
  const outFile = path.join(outDir, `bench-${bench.stamp}.json`);
  writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
  printSummary(results);
  process.stdout.write(`\nwrote ${path.relative(ROOT, outFile)}\n`);
  const { chartsDir, noCharts } = bench.options;
  if (!noCharts) {
    mkdirSync(chartsDir, { recursive: true });
    const prefix = path.resolve(chartsDir) === outDir ? `bench-${bench.stamp}-` : '';
    for (const f of await writeCharts(results, chartsDir, prefix)) process.stdout.write(`wrote ${path.relative(ROOT, f)}\n`);
  }
}

function printSummary(r: Results): void {
  const rows = r.summary.filter((s) => !s.system.startsWith('stage:'));
  const header = ['system', 'workload', 'codec', 'p', 'k records/s', 'k rec/s processing', 'MB/s', 'CPU-s / M', 'peak RSS MB', 'start-up s', '1st commit s'];
  const cells = rows.map((s: SummaryRow) => [
    s.system,
    s.workload,
    s.codec,
    s.parallelism === null ? '—' : String(s.parallelism),
    formatSpread(s.recordsPerSecond, 0, 1000),
    formatSpread(s.recordsPerSecondProcessing, 0, 1000),
    formatSpread(s.payloadMBPerSecond, 1),
    formatSpread(s.cpuSecondsPerMillion, 1),
    formatSpread(s.peakRssMb, 0),
    formatSpread(s.startupSeconds, 1),
    formatSpread(s.firstCommitSeconds, 1),
  ]);
  const table = (h: string[], body: string[][]) => {
    const widths = h.map((x, i) => Math.max(x.length, ...body.map((b) => b[i]!.length)));
    for (const line of [h, ...body]) process.stdout.write(`${line.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
  };
  process.stdout.write(
    `\n${r.configuration.records} records per topic in ${r.configuration.partitions} partitions; median (min–max) of ${r.configuration.runs} rounds; ` +
      `load average ${r.machine.loadAverageAtStart[0]!.toFixed(1)} at start, ${r.machine.loadAverageAtEnd[0]!.toFixed(1)} at end, ${r.machine.cores} cores\n`,
  );
  table(header, cells);
  const threadRows = threadTable(r);
  if (threadRows.length) {
    process.stdout.write('\nstreamberg by thread role (/proc/<pid>/task, polled every 200 ms): CPU-s per M records, median (min–max); share of the threads\' CPU; busiest thread of the role:\n');
    table(['workload', 'codec', 'p', 'role', 'threads', 'CPU-s / M', 'share', 'busiest thread CPU-s / M'], threadRows);
  }
  const stages = r.summary.filter((s) => s.system.startsWith('stage:') && s.recordsPerSecondProcessing);
  if (stages.length) {
    process.stdout.write('\nStages alone, one thread:\n');
    table(
      ['stage', 'workload', 'k records/s', 's per M records', 'CPU-s / M (process)'],
      stages.map((s) =>
        s.system === 'stage:commit'
          ? // A commit costs the same whatever it holds: its time, not a rate.
            [s.system.slice(6), s.workload, `${formatSpread(s.recordsPerSecondProcessing && { ...s.recordsPerSecondProcessing, median: r.configuration.stageRecords as number / s.recordsPerSecondProcessing.median * 1000, min: r.configuration.stageRecords as number / s.recordsPerSecondProcessing.max * 1000, max: r.configuration.stageRecords as number / s.recordsPerSecondProcessing.min * 1000 }, 0)} ms per commit`, (1e6 / s.recordsPerSecondProcessing!.median).toFixed(2), '—']
          : [s.system.slice(6), s.workload, formatSpread(s.recordsPerSecondProcessing, 0, 1000), (1e6 / s.recordsPerSecondProcessing!.median).toFixed(2), formatSpread(s.cpuSecondsPerMillion, 1)],
      ),
    );
  }
  if (r.ratios.length) {
    process.stdout.write('\nstreamberg ÷ reference (medians; records/s > 1 is faster, RSS and CPU < 1 is less):\n');
    table(
      ['workload', 'codec', 'p', 'vs', 'records/s', 'vs Flink job alone', 'peak RSS', 'CPU-s / M'],
      r.ratios.map((x) => [x.workload, x.codec, String(x.parallelism), `${x.theirs}${x.theirParallelism !== null ? ` p=${x.theirParallelism}` : ''}`, x.recordsPerSecond?.toFixed(2) ?? '—', x.recordsPerSecondVsProcessing?.toFixed(2) ?? '—', x.peakRss?.toFixed(2) ?? '—', x.cpuSecondsPerMillion?.toFixed(2) ?? '—']),
    );
  }
  if (r.freshness.length) {
    process.stdout.write('\nFreshness (record timestamp → commit of its epoch):\n');
    table(
      ['workload', 'p', 'checkpoint s', 'rate/s', 'rows', 'p50 s', 'p99 s', 'max s', 'commits'],
      r.freshness.map((f) => [f.workload, String(f.parallelism), String(f.checkpointIntervalSeconds), String(f.ratePerSecond), String(f.committedRows), (f.p50Ms / 1000).toFixed(2), (f.p99Ms / 1000).toFixed(2), (f.maxMs / 1000).toFixed(2), String(f.commits)]),
    );
  }
}

/** Rows of the per-role table: each streamberg workload × codec × parallelism, each role its threads had. */
function threadTable(r: Results): string[][] {
  const out: string[][] = [];
  const runs = r.runs.filter((x) => x.system === 'streamberg' && x.ok && Array.isArray(x.details?.threads));
  const keys = [...new Set(runs.map((x) => `${x.workload}\u0000${x.codec}\u0000${x.parallelism}`))];
  for (const key of keys) {
    const [workload, codec, p] = key.split('\u0000') as [string, string, string];
    const mine = runs.filter((x) => x.workload === workload && x.codec === codec && String(x.parallelism) === p).map((x) => x.details!.threads as RoleCpu[]);
    for (const role of THREAD_ROLES) {
      const of = mine.map((roles) => roles.find((t) => t.role === role)).filter((t): t is RoleCpu => t !== undefined);
      if (of.length === 0) continue;
      out.push([
        workload,
        codec,
        p,
        role,
        String(Math.max(...of.map((t) => t.threads))),
        formatSpread(spread(of.map((t) => t.cpuSecondsPerMillion), false), 2),
        `${(spread(of.map((t) => t.share), false)!.median * 100).toFixed(1)} %`,
        formatSpread(spread(of.map((t) => t.busiestPerMillion), false), 2),
      ]);
    }
  }
  return out;
}
