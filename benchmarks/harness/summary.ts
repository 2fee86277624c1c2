// The results of `npm run bench`: every run's figures, and the summary built from them (median
// with min–max per system × workload × codec × parallelism, and the ratios ours ÷ theirs). Pure:
// the harness fills in runs, these functions only compute, so they are unit-tested.

import { spread, type Spread } from './stats.js';

/** The systems a run can be of. */
export type System = 'streamberg' | 'pyflink' | 'kcat' | 'kafka-java' | 'stage:source' | 'stage:transform' | 'stage:parquet' | 'stage:commit';

export interface RunFigures {
  system: System;
  workload: string;
  codec: string;
  /** Transform threads (ours) or task parallelism (Flink); null for the consumers. */
  parallelism: number | null;
  round: number;
  ok: boolean;
  error?: string;
  loadAverage1m: number;
  records: number;
  payloadBytes: number;
  /** Process start to exit. */
  wallSeconds?: number;
  /** First record read to exit (ours), first poll to last record (Java), the job alone (Flink). */
  processingSeconds?: number | null;
  /** Process start to ready to read: Flink's JVM, gateway, planning and job submission. */
  startupSeconds?: number | null;
  /** Process start to the first Iceberg commit. */
  firstCommitSeconds?: number | null;
  cpuSeconds?: number;
  peakRssMb?: number;
  /** Rows the table holds after the run, read back with pyiceberg (null: not a table writer). */
  rowsVerified?: number | null;
  details?: Record<string, unknown>;
}

export interface FreshnessFigures {
  workload: string;
  codec: string;
  parallelism: number;
  checkpointIntervalSeconds: number;
  producedRecords: number;
  ratePerSecond: number;
  seconds: number;
  committedRows: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  commits: number;
}

export interface SummaryRow {
  system: System;
  workload: string;
  codec: string;
  parallelism: number | null;
  runs: number;
  failed: number;
  recordsPerSecond: Spread | null;
  recordsPerSecondProcessing: Spread | null;
  payloadMBPerSecond: Spread | null;
  wallSeconds: Spread | null;
  startupSeconds: Spread | null;
  firstCommitSeconds: Spread | null;
  cpuSeconds: Spread | null;
  cpuSecondsPerMillion: Spread | null;
  peakRssMb: Spread | null;
}

export interface Ratio {
  workload: string;
  codec: string;
  parallelism: number;
  /** The system ours is compared with, and at which of its parallelisms (null: a consumer). */
  theirs: System;
  theirParallelism: number | null;
  /** ours ÷ theirs of the medians: > 1 means ours reads more records per second. */
  recordsPerSecond: number | null;
  /** Ours from process start against Flink's job time alone (start-up left out of theirs). */
  recordsPerSecondVsProcessing: number | null;
  /** ours ÷ theirs: < 1 means ours uses less. */
  peakRss: number | null;
  cpuSecondsPerMillion: number | null;
}

const key = (r: { system: string; workload: string; codec: string; parallelism: number | null }) => `${r.system}|${r.workload}|${r.codec}|${r.parallelism ?? '-'}`;

/** One summary row per system × workload × codec × parallelism, in the order first seen. */
export function summarize(runs: readonly RunFigures[]): SummaryRow[] {
  const groups = new Map<string, RunFigures[]>();
  for (const r of runs) {
    const k = key(r);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  return [...groups.values()].map((rs) => {
    const first = rs[0]!;
    const ok = rs.filter((r) => r.ok);
    const per = (f: (r: RunFigures) => number | null | undefined, higherIsBetter: boolean) => spread(ok.map(f), higherIsBetter);
    return {
      system: first.system,
      workload: first.workload,
      codec: first.codec,
      parallelism: first.parallelism,
      runs: ok.length,
      failed: rs.length - ok.length,
      recordsPerSecond: per((r) => (r.wallSeconds ? r.records / r.wallSeconds : null), true),
      recordsPerSecondProcessing: per((r) => (r.processingSeconds ? r.records / r.processingSeconds : null), true),
      payloadMBPerSecond: per((r) => (r.wallSeconds ? r.payloadBytes / 1e6 / r.wallSeconds : null), true),
      wallSeconds: per((r) => r.wallSeconds, false),
      startupSeconds: per((r) => r.startupSeconds, false),
      firstCommitSeconds: per((r) => r.firstCommitSeconds, false),
      cpuSeconds: per((r) => r.cpuSeconds, false),
      cpuSecondsPerMillion: per((r) => (r.cpuSeconds !== undefined ? r.cpuSeconds / (r.records / 1e6) : null), false),
      peakRssMb: per((r) => r.peakRssMb, false),
    };
  });
}

function div(a: number | undefined, b: number | undefined): number | null {
  return a === undefined || b === undefined || b === 0 ? null : a / b;
}

/**
 * Ours ÷ each reference on the same workload and codec: the PyFlink job at the same parallelism,
 * and the consumers (kcat, Kafka's Java consumer), which have none.
 */
export function ratios(summary: readonly SummaryRow[]): Ratio[] {
  const out: Ratio[] = [];
  for (const ours of summary.filter((s) => s.system === 'streamberg' && s.runs > 0)) {
    const peers = summary.filter(
      (s) => s.workload === ours.workload && s.codec === ours.codec && s.runs > 0 && (s.system === 'kcat' || s.system === 'kafka-java' || (s.system === 'pyflink' && s.parallelism === ours.parallelism)),
    );
    for (const theirs of peers) {
      out.push({
        workload: ours.workload,
        codec: ours.codec,
        parallelism: ours.parallelism!,
        theirs: theirs.system,
        theirParallelism: theirs.parallelism,
        recordsPerSecond: div(ours.recordsPerSecond?.median, theirs.recordsPerSecond?.median),
        recordsPerSecondVsProcessing: theirs.system === 'pyflink' ? div(ours.recordsPerSecond?.median, theirs.recordsPerSecondProcessing?.median) : null,
        peakRss: div(ours.peakRssMb?.median, theirs.peakRssMb?.median),
        cpuSecondsPerMillion: div(ours.cpuSecondsPerMillion?.median, theirs.cpuSecondsPerMillion?.median),
      });
    }
  }
  return out;
}

export interface Results {
  benchmark: 'streamberg';
  /** Bumped when the shape changes, so readers of older files can tell. */
  version: 1;
  startedAt: string;
  finishedAt: string;
  machine: { cores: number; cpuModel: string; memoryMb: number; os: string; loadAverageAtStart: number[]; loadAverageAtEnd: number[] };
  versions: Record<string, string | null>;
  configuration: Record<string, unknown>;
  workloads: Array<{ name: string; source: string; codec: string; topic: string; records: number; partitions: number; payloadBytes: number; producedSeconds: number }>;
  runs: RunFigures[];
  freshness: FreshnessFigures[];
  summary: SummaryRow[];
  ratios: Ratio[];
}

/** What a results file must hold; returns the problems found (none for a sound file). */
export function checkResults(r: unknown): string[] {
  const problems: string[] = [];
  const o = r as Partial<Results> | null;
  if (typeof o !== 'object' || o === null) return ['results: expected an object'];
  if (o.benchmark !== 'streamberg') problems.push(`benchmark: expected "streamberg", found ${JSON.stringify(o.benchmark)}`);
  if (o.version !== 1) problems.push(`version: expected 1, found ${JSON.stringify(o.version)}`);
  for (const f of ['startedAt', 'finishedAt'] as const) if (typeof o[f] !== 'string' || Number.isNaN(Date.parse(o[f]!))) problems.push(`${f}: expected an ISO date`);
  if (!o.machine || typeof o.machine.cores !== 'number') problems.push('machine.cores: expected a number');
  for (const f of ['runs', 'freshness', 'summary', 'ratios', 'workloads'] as const) if (!Array.isArray(o[f])) problems.push(`${f}: expected an array`);
  (o.runs ?? []).forEach((run, i) => {
    if (typeof run.system !== 'string') problems.push(`runs[${i}].system: expected a string`);
    if (!(run.records > 0)) problems.push(`runs[${i}].records: expected a positive number`);
    if (run.ok && !(typeof run.wallSeconds === 'number' && run.wallSeconds > 0)) problems.push(`runs[${i}].wallSeconds: a successful run needs its wall time`);
    if (!run.ok && !run.error) problems.push(`runs[${i}].error: a failed run must say why`);
  });
  const summarized = new Set((o.summary ?? []).map((s) => key(s)));
  for (const run of o.runs ?? []) if (!summarized.has(key(run))) problems.push(`summary: no row for ${key(run)}`);
  return problems;
}
