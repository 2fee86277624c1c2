// `npm run bench`: the runtime end to end beside what users run today, on the same data and
// broker in the same run. For each workload × codec:
//
//   - streamberg: the pipeline `--bounded` at each parallelism, several rounds (process start to
//     exit, from the first record, to the first commit, CPU, peak RSS; the table's rows read back);
//   - references: kcat and Kafka's Java consumer (ConsumerPerformance) reading the same topic,
//     the consume limit of the machine; with --with-flink, the PyFlink job the runtime replaces;
//   - with --stages, each stage alone on one thread: fetch + record-batch decode, JSON decode +
//     transform, Parquet encoding and file writes, the Iceberg commit;
//   - freshness with a running producer (record timestamp → the commit of its epoch).
//
// Rounds interleave the systems, so a noisy neighbour spreads over all of them. Writes
// benchmarks/results/bench-<timestamp>.json and PNG charts; see benchmarks/README.md.

//
// The parts, one job each, under benchmarks/run/: args.ts (the options), setup.ts (paths,
// scratch folder, configs, metrics, tables read back), systems.ts and freshness.ts (the measured
// processes), rounds.ts (the order they run in), report.ts (results file, tables, charts).

import { rmSync } from 'node:fs';
import { BenchUsageError, USAGE, parseBenchArgs } from './run/args.js';
import { resultsOf, writeReport } from './run/report.js';
import { runRounds } from './run/rounds.js';
import { missingPrerequisite, openBench } from './run/setup.js';
import { parsePipelinesArgs, runPipelinesBench } from './pipelines.js';

/** A usage error: the message above the usage text, exit 2. */
function usageExit(message: string): void {
  process.stderr.write(`${message}\n\n${USAGE}`);
  process.exitCode = 2;
}

async function main(): Promise<void> {
  // Many pipelines at rest is a scenario of its own (benchmarks/pipelines.ts), with its own options.
  if (process.argv.slice(2).some((a) => a === '--pipelines' || a.startsWith('--pipelines='))) {
    await runPipelinesBench(parsePipelinesArgs(process.argv.slice(2)));
    return;
  }
  let options;
  try {
    options = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof BenchUsageError) return usageExit(err.message);
    throw err;
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  const missing = missingPrerequisite();
  if (missing !== null) return usageExit(missing);

  const bench = openBench(options);
  try {
    const outcome = await runRounds(bench);
    await writeReport(bench, resultsOf(bench, outcome));
    if (outcome.runs.some((r) => !r.ok)) process.exitCode = 1;
  } catch (err) {
    if (err instanceof BenchUsageError) return usageExit(err.message);
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  } finally {
    rmSync(bench.work, { recursive: true, force: true });
  }
}

await main();
