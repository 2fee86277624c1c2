// The systems a round runs, each as its own process measured from outside (proc-tree.ts): the
// runtime end to end (its table read back), the PyFlink job it replaces, the reference consumers
// (kcat, Kafka's Java consumer, and the runtime's own fetch as the source stage), and the other
// stages alone on one thread.

import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { W1Topic } from '../kafka-source/w1.js';
import { measure as measureConsumer } from '../kafka-source/measure.js';
import { candidate as kcatCandidate } from '../kafka-source/candidates/kcat.js';
import { candidate as javaCandidate } from '../kafka-source/candidates/kafka-java.js';
import { candidate as fetchCandidate } from '../kafka-source/candidates/streamberg-fetch.js';
import { measureProcess, type Measured } from '../harness/proc-tree.js';
import { cpuByRole, watchThreads, type SampledThread } from '../harness/thread-cpu.js';
import type { RunFigures } from '../harness/summary.js';
import { WORKLOADS } from './args.js';
import { FLINK_DIR, FLINK_JOB, ROOT, RESULTS_DIR, latestMetadata, loadNow, metricSum, python, runtimeArgs, scrape, type Bench } from './setup.js';

// ---------------------------------------------------------------- streamberg end to end

export async function runStreamberg(bench: Bench, workload: string, w: W1Topic, configDir: string, parallelism: number, round: number): Promise<RunFigures> {
  const o = bench.options;
  const warehouse = mkdtempSync(path.join(bench.work, 'wh-'));
  const base = { system: 'streamberg' as const, workload, codec: w.codec, parallelism, round, loadAverage1m: loadNow(), records: w.records, payloadBytes: w.valueBytes };
  let firstRecordAt: number | null = null;
  let polling = true;
  const poller = (async () => {
    // Until the first record is counted: a scrape costs the process little, and none after that.
    while (polling && firstRecordAt === null) {
      const text = await scrape(bench);
      if (text !== null && metricSum(text, 'streamberg_records_in_total') > 0) firstRecordAt = performance.now();
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  let m: Measured;
  // Each thread's CPU, polled from /proc (harness/thread-cpu.ts): which thread caps the table.
  let threads: { stop(): SampledThread[] } | undefined;
  try {
    m = await measureProcess(process.execPath, runtimeArgs(bench, configDir, parallelism, true), {
      env: { ...process.env, KAFKA_BOOTSTRAP_SERVERS: o.bootstrap, WAREHOUSE_DIR: warehouse, LOG_LEVEL: 'warn' },
      deadlineMs: o.deadlineMs,
      onStart: (control) => (threads = watchThreads(control.programPid)),
    });
  } finally {
    polling = false;
    await poller;
  }
  const byRole = cpuByRole(threads?.stop() ?? [], w.records);
  try {
    if (m.exitCode !== 0) return { ...base, ok: false, error: `exited with ${m.exitCode}${m.killed ? ' (deadline)' : ''}: ${m.stderrTail.slice(-2000)}` };
    const metadata = latestMetadata(warehouse, WORKLOADS[workload]!.table);
    if (!metadata) return { ...base, ok: false, error: `no table ${WORKLOADS[workload]!.table} under ${warehouse}` };
    const { rows } = python(['count', metadata]) as { rows: number };
    const { commits } = python(['commits', metadata]) as { commits: Array<{ committedAtMs: number; addedRecords: number }> };
    const firstData = commits.find((c) => c.addedRecords > 0);
    const fig: RunFigures = {
      ...base,
      ok: rows === w.records,
      wallSeconds: m.wallSeconds,
      processingSeconds: firstRecordAt === null ? null : (m.startedAt + m.wallSeconds * 1000 - firstRecordAt) / 1000,
      startupSeconds: firstRecordAt === null ? null : (firstRecordAt - m.startedAt) / 1000,
      firstCommitSeconds: firstData ? (firstData.committedAtMs - m.startedAtMs) / 1000 : null,
      cpuSeconds: m.cpuSeconds,
      peakRssMb: m.peakRssMb,
      rowsVerified: rows,
      details: { commits: commits.length, cpuSecondsWaited: m.cpuSecondsWaited, cpuSecondsSampled: m.cpuSecondsSampled, threads: byRole },
    };
    if (!fig.ok) fig.error = `the table holds ${rows} rows; the topic ${w.records} records`;
    return fig;
  } finally {
    rmSync(warehouse, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- the PyFlink job

export async function runFlink(bench: Bench, workload: string, w: W1Topic, parallelism: number, round: number): Promise<RunFigures> {
  const o = bench.options;
  const warehouse = mkdtempSync(path.join(bench.work, 'flink-wh-'));
  const base = { system: 'pyflink' as const, workload, codec: w.codec, parallelism, round, loadAverage1m: loadNow(), records: w.records, payloadBytes: w.valueBytes };
  const hadoop = readdirSync(path.join(FLINK_DIR, 'hadoop')).map((f) => path.join(FLINK_DIR, 'hadoop', f)).join(':');
  try {
    const m = await measureProcess(
      path.join(FLINK_DIR, 'venv/bin/python'),
      [FLINK_JOB, '--bootstrap', o.bootstrap, '--topic', w.topic, '--warehouse', warehouse, '--parallelism', String(parallelism), '--jars', path.join(FLINK_DIR, 'jars'), '--checkpoint-interval', o.checkpointInterval, '--group', `bench-flink-${bench.stamp}-${round}-${parallelism}`],
      { env: { ...process.env, HADOOP_CLASSPATH: hadoop }, cwd: warehouse, deadlineMs: o.deadlineMs },
    );
    if (m.exitCode !== 0) return { ...base, ok: false, error: `exited with ${m.exitCode}${m.killed ? ' (deadline)' : ''}: ${m.stderrTail.slice(-2000)}` };
    const marks = JSON.parse(m.stdoutTail.trim().split('\n').filter((l) => l.startsWith('{')).at(-1) ?? 'null') as { submitted: number; finished: number } | null;
    if (!marks) return { ...base, ok: false, error: `the job printed no timing line: ${m.stdoutTail.slice(-500)}` };
    const metadata = latestMetadata(warehouse, 'parsed_events');
    if (!metadata) return { ...base, ok: false, error: `no table parsed_events under ${warehouse}` };
    const { rows } = python(['count', metadata]) as { rows: number };
    const { commits } = python(['commits', metadata]) as { commits: Array<{ committedAtMs: number; addedRecords: number }> };
    const firstData = commits.find((c) => c.addedRecords > 0);
    return {
      ...base,
      ok: rows === w.records,
      ...(rows === w.records ? {} : { error: `the table holds ${rows} rows; the topic ${w.records} records` }),
      wallSeconds: m.wallSeconds,
      startupSeconds: (marks.submitted - m.startedAtMs) / 1000,
      processingSeconds: (marks.finished - marks.submitted) / 1000,
      firstCommitSeconds: firstData ? (firstData.committedAtMs - m.startedAtMs) / 1000 : null,
      cpuSeconds: m.cpuSeconds,
      peakRssMb: m.peakRssMb,
      rowsVerified: rows,
      details: { commits: commits.length, processes: m.processes, cpuSecondsWaited: m.cpuSecondsWaited, cpuSecondsSampled: m.cpuSecondsSampled },
    };
  } finally {
    rmSync(warehouse, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- consumers (references, source stage)

export async function runConsumer(bench: Bench, system: 'kcat' | 'kafka-java' | 'stage:source', workload: string, w: W1Topic, round: number): Promise<RunFigures> {
  const o = bench.options;
  const c = system === 'kcat' ? kcatCandidate : system === 'kafka-java' ? javaCandidate : fetchCandidate;
  const base = { system, workload, codec: w.codec, parallelism: null, round, loadAverage1m: loadNow(), records: w.records, payloadBytes: w.valueBytes };
  try {
    const m = await measureConsumer(c.launch({ bootstrap: o.bootstrap, topic: w.topic, codec: w.codec, starts: w.starts, ends: w.ends, records: w.records, deadlineMs: o.deadlineMs }), o.deadlineMs + 10_000);
    if (m.report.records !== w.records) return { ...base, ok: false, error: `read ${m.report.records} of ${w.records} records` };
    const fromFirst = m.report.readSeconds !== null && m.report.readSeconds <= m.wallSeconds ? m.report.readSeconds : null;
    return {
      ...base,
      ok: true,
      wallSeconds: m.wallSeconds,
      processingSeconds: fromFirst,
      startupSeconds: fromFirst === null ? null : Math.max(0, m.wallSeconds - fromFirst),
      cpuSeconds: m.cpuSeconds,
      peakRssMb: m.peakRssMb,
      rowsVerified: null,
    };
  } catch (err) {
    return { ...base, ok: false, error: (err as Error).message.slice(0, 2000) };
  }
}

// ---------------------------------------------------------------- stages alone

/** JSON decode + transform (transform.ts) and Parquet + commit (iceberg-write.ts) on one thread. */
export async function runStages(bench: Bench, workload: string, w: W1Topic, round: number): Promise<RunFigures[]> {
  const o = bench.options;
  const out: RunFigures[] = [];
    const common = { workload, codec: w.codec, parallelism: 1, round, payloadBytes: Math.round((w.valueBytes / w.records) * o.stageRecords) };
  const t = await measureProcess(process.execPath, [path.join(ROOT, 'dist/benchmarks/transform.js'), '--records', String(o.stageRecords), '--runs', '3'], { deadlineMs: o.deadlineMs });
  const pipeline = WORKLOADS[workload]!.table === 'parsed_events' ? 'bid_events_raw' : 'user_events_enriched';
  if (t.exitCode === 0) {
    const r = (JSON.parse(readFileSync(path.join(RESULTS_DIR, 'transform.json'), 'utf8')) as { results: Array<{ pipeline: string; variant: string; medianRecordsPerSec: number }> }).results.find((x) => x.pipeline === pipeline && x.variant === 'SQL (compiled)');
    out.push({ ...common, system: 'stage:transform', loadAverage1m: loadNow(), records: o.stageRecords, ok: r !== undefined, ...(r ? {} : { error: 'transform.json has no compiled SQL figure' }), wallSeconds: t.wallSeconds, processingSeconds: r ? o.stageRecords / r.medianRecordsPerSec : null, peakRssMb: t.peakRssMb, details: { processCpuSeconds: t.cpuSeconds, note: 'the process times every shipped transformation, so its CPU is not this stage\'s' } });
  } else {
    out.push({ ...common, system: 'stage:transform', loadAverage1m: loadNow(), records: o.stageRecords, ok: false, error: t.stderrTail.slice(-2000) });
  }
  if (workload === 'w1') {
    const p = await measureProcess(process.execPath, [path.join(ROOT, 'dist/benchmarks/iceberg-write.js'), String(o.stageRecords), '3', 'snappy'], { deadlineMs: o.deadlineMs });
    if (p.exitCode === 0) {
      const r = (JSON.parse(readFileSync(path.join(RESULTS_DIR, 'iceberg-write.json'), 'utf8')) as { results: Array<{ codec: string; medianEncodeMs: number; medianCommitMs: number }> }).results.find((x) => x.codec === 'snappy');
      const ok = r !== undefined;
      const err = ok ? {} : { error: 'iceberg-write.json has no snappy figure' };
      out.push({ ...common, system: 'stage:parquet', loadAverage1m: loadNow(), records: o.stageRecords, ok, ...err, wallSeconds: p.wallSeconds, processingSeconds: r ? r.medianEncodeMs / 1000 : null, peakRssMb: p.peakRssMb, details: { processCpuSeconds: p.cpuSeconds, note: 'the process also runs a warm-up pass and the commits' } });
      // One commit per checkpoint whatever its size: its time per million records at this size.
      out.push({ ...common, system: 'stage:commit', loadAverage1m: loadNow(), records: o.stageRecords, ok, ...err, wallSeconds: p.wallSeconds, processingSeconds: r ? r.medianCommitMs / 1000 : null, details: { commitMs: r?.medianCommitMs } });
    } else {
      out.push({ ...common, system: 'stage:parquet', loadAverage1m: loadNow(), records: o.stageRecords, ok: false, error: p.stderrTail.slice(-2000) });
    }
  }
  return out;
}
