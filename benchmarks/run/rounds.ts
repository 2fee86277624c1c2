// The rounds: the benchmarked topics made (or found) once, then each round runs every system on
// every topic, the stages alone, and after the rounds the freshness runs. Each run's figures are
// printed as a progress line as it ends.

import { ensureW1, type W1Topic } from '../kafka-source/w1.js';
import { candidate as kcatCandidate } from '../kafka-source/candidates/kcat.js';
import { candidate as javaCandidate } from '../kafka-source/candidates/kafka-java.js';
import type { FreshnessFigures, RunFigures } from '../harness/summary.js';
import type { RoleCpu } from '../harness/thread-cpu.js';
import { BenchUsageError, WORKLOADS } from './args.js';
import { runFreshness } from './freshness.js';
import { configFor, ensureFlink, krs, perM, type Bench } from './setup.js';
import { runConsumer, runFlink, runStages, runStreamberg } from './systems.js';

export interface BenchTopic {
  workload: string;
  topic: W1Topic;
  configDir: string;
}

export interface RoundsOutcome {
  topics: BenchTopic[];
  runs: RunFigures[];
  freshness: FreshnessFigures[];
  /** Whether the PyFlink job ran (asked for, and a workload it can run). */
  withFlink: boolean;
}

export async function runRounds(bench: Bench): Promise<RoundsOutcome> {
  const o = bench.options;
  const progress = (text: string) => bench.progress.line(text);
  const withFlink = o.withFlink && o.workloads.some((w) => WORKLOADS[w]!.flink);
  if (withFlink) ensureFlink();
  for (const r of o.references) {
    const c = r === 'kcat' ? kcatCandidate : javaCandidate;
    const why = c.unavailable();
    if (why !== null) throw new BenchUsageError(`--references ${r}: ${why}`);
  }

  const topics: BenchTopic[] = [];
  for (const workload of o.workloads) {
    for (const codec of o.codecs) {
      const t = await ensureW1({ bootstrap: o.bootstrap, records: o.records, partitions: o.partitions, source: WORKLOADS[workload]!.source, topic: `bench-${workload}-${codec}-${o.records}-${o.partitions}` }, codec);
      topics.push({ workload, topic: t, configDir: configFor(bench, workload, t.topic) });
    }
  }
  const flinkTopics = topics.filter((t) => WORKLOADS[t.workload]!.flink).length;
  bench.progress.total =
    o.runs * (topics.length * (o.parallelisms.length + o.references.length) + (withFlink ? flinkTopics * o.parallelisms.length : 0)) +
    (o.stages ? o.runs * o.workloads.length : 0) +
    (o.freshnessSeconds > 0 ? o.workloads.length * o.parallelisms.length : 0);
  progress(`${topics.length} topic(s), ${bench.progress.total} runs`);

  const all: RunFigures[] = [];
  const record = (r: RunFigures) => {
    all.push(r);
    bench.progress.done++;
    const tag = `${r.system}${r.parallelism !== null && !r.system.startsWith('stage:') ? ` p=${r.parallelism}` : ''} ${r.workload}/${r.codec} round ${r.round}`;
    if (!r.ok) progress(`${tag}: FAILED ${r.error?.split('\n')[0] ?? ''}`);
    else if (r.system.startsWith('stage:')) progress(`${tag}: ${r.processingSeconds ? krs(r.records, r.processingSeconds) : '—'} on one thread`);
    else {
      const extra = r.system === 'pyflink' ? `, start-up ${r.startupSeconds!.toFixed(1)} s, job alone ${krs(r.records, r.processingSeconds!)}` : r.processingSeconds ? `, ${krs(r.records, r.processingSeconds)} from 1st` : '';
      const roles = (r.details?.threads as RoleCpu[] | undefined)?.map((t) => `${t.role} ${t.cpuSecondsPerMillion.toFixed(2)}`).join(', ');
      progress(`${tag}: ${krs(r.records, r.wallSeconds!)}${extra}, ${perM(r.cpuSeconds!, r.records)} CPU-s/M${roles ? ` (by thread: ${roles})` : ''}, ${Math.round(r.peakRssMb!)} MB${r.rowsVerified != null ? `, ${r.rowsVerified} rows verified` : ''}`);
    }
  };

  for (let round = 1; round <= o.runs; round++) {
    for (const { workload, topic, configDir } of topics) {
      // Rotated each round, so no system always runs right after the same neighbour.
      const jobs: Array<() => Promise<void>> = [];
      for (const p of o.parallelisms) jobs.push(async () => record(await runStreamberg(bench, workload, topic, configDir, p, round)));
      if (withFlink && WORKLOADS[workload]!.flink) for (const p of o.parallelisms) jobs.push(async () => record(await runFlink(bench, workload, topic, p, round)));
      for (const r of o.references) jobs.push(async () => record(await runConsumer(bench, r, workload, topic, round)));
      for (let i = 0; i < jobs.length; i++) await jobs[(i + round - 1) % jobs.length]!();
    }
    if (o.stages) {
      for (const workload of o.workloads) {
        const first = topics.find((t) => t.workload === workload)!;
        const source = await runConsumer(bench, 'stage:source', workload, first.topic, round);
        all.push(source);
        const stages = await runStages(bench, workload, first.topic, round);
        all.push(...stages);
        bench.progress.done++;
        progress(`stages ${workload}/${first.topic.codec} round ${round}: ` + [source, ...stages].map((s) => `${s.system.slice(6)} ${s.ok && s.processingSeconds ? `${(s.processingSeconds / (s.records / 1e6)).toFixed(2)} s/M` : 'FAILED'}`).join(', '));
      }
    }
  }

  const freshness: FreshnessFigures[] = [];
  if (o.freshnessSeconds > 0) {
    for (const workload of o.workloads) {
      for (const p of o.parallelisms) {
        const f = await runFreshness(bench, workload, p);
        bench.progress.done++;
        if ('error' in f) progress(`freshness ${workload} p=${p}: FAILED ${f.error.split('\n')[0]}`);
        else {
          freshness.push(f);
          progress(`freshness ${workload} p=${p}: p50 ${(f.p50Ms / 1000).toFixed(1)} s, p99 ${(f.p99Ms / 1000).toFixed(1)} s over ${f.committedRows} rows (${f.producedRecords} produced) in ${f.commits} commits`);
        }
      }
    }
  }
  return { topics, runs: all, freshness, withFlink };
}
