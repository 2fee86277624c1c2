// The options of `npm run bench`: the usage text, the workloads it knows, and the parse of the
// command line into checked values. Nothing here touches the broker or the disk, so the parse
// can be tested on its own.

import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../../src/project-root.js';
import { CODECS, type Codec } from '../kafka-source/candidate.js';

export const USAGE = `Usage: npm run bench -- [options]
  --workloads LIST          w1 (bid-events, bid_events_raw), w2 (user-events, user_events_enriched) (default w1)
  --records N               records per workload topic (default 2000000)
  --partitions N            partitions per topic (default 8)
  --codecs LIST             Kafka compression of the topics, of ${CODECS.join(',')} (default none,snappy)
  --parallelism LIST        streamberg --parallelism values (and Flink's) (default 1,2)
  --runs N                  rounds (default 3)
  --references LIST         kcat,kafka-java, or none (default kcat,kafka-java)
  --with-flink              also run the PyFlink 1.19 job (W1 only); installs it on first use
  --stages                  also run each stage alone (fetch, transform, Parquet, commit)
  --stage-records N         records for the transform and Parquet stages (default 500000)
  --freshness-seconds S     seconds of the running producer per parallelism, 0 for none (default 30)
  --freshness-rate N        records per second the producer writes (default 20000)
  --checkpoint-interval D   the runtime's and Flink's checkpoint interval (default 10s)
  --set KEY=VALUE           a configuration setting for the runtime's runs, repeatable: runtime.<key>
                            (batch_size, memory_budget, ...) or sink.properties.<table property>
  --charts-dir DIR          where the PNG charts go (default benchmarks/results)
  --no-charts               write no charts
  --bootstrap H:P           broker (default 127.0.0.1:$KAFKA_PORT)
  --metrics-port P          port the runtime's /metrics is polled on (default 59150)
  --deadline S              seconds after which a run is killed and counted as failed (default 900)
  --pipelines LIST          instead: N caught-up pipelines in one process at rest, per N (e.g. 1,10,50):
                            RSS, threads, idle CPU per thread (benchmarks/pipelines.ts; --records 300,
                            --idle-seconds 20, --checkpoint-interval 5s, --parallelism 2, --set)
`;

export const WORKLOADS: Record<string, { source: string; table: string; flink: boolean }> = {
  w1: { source: 'bid-events', table: 'parsed_events', flink: true },
  w2: { source: 'user-events', table: 'user_events_enriched', flink: false },
};

export type Reference = 'kcat' | 'kafka-java';

/** A setting `--set` puts into the runtime's configuration: a dotted key and its value. */
export interface Setting {
  key: string;
  value: string | number;
}

export interface BenchOptions {
  workloads: string[];
  records: number;
  partitions: number;
  codecs: Codec[];
  parallelisms: number[];
  runs: number;
  references: Reference[];
  withFlink: boolean;
  stages: boolean;
  stageRecords: number;
  freshnessSeconds: number;
  freshnessRate: number;
  /** The interval as written (handed to the runtime and to Flink), and in seconds. */
  checkpointInterval: string;
  checkpointSeconds: number;
  settings: Setting[];
  chartsDir: string;
  noCharts: boolean;
  bootstrap: string;
  metricsPort: number;
  deadlineMs: number;
}

/** A value the options refuse; the entry prints it above the usage and exits 2. */
export class BenchUsageError extends Error {}

function fail(message: string): never {
  throw new BenchUsageError(message);
}

/**
 * The command line as checked options, or 'help' for --help. An option parseArgs itself does not
 * know (or one missing its value) throws parseArgs' own error, as it always has.
 */
export function parseBenchArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): BenchOptions | 'help' {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      workloads: { type: 'string', default: 'w1' },
      records: { type: 'string', default: '2000000' },
      partitions: { type: 'string', default: '8' },
      codecs: { type: 'string', default: 'none,snappy' },
      parallelism: { type: 'string', default: '1,2' },
      runs: { type: 'string', default: '3' },
      references: { type: 'string', default: 'kcat,kafka-java' },
      'with-flink': { type: 'boolean', default: false },
      stages: { type: 'boolean', default: false },
      'stage-records': { type: 'string', default: '500000' },
      'freshness-seconds': { type: 'string', default: '30' },
      'freshness-rate': { type: 'string', default: '20000' },
      'checkpoint-interval': { type: 'string', default: '10s' },
      set: { type: 'string', multiple: true, default: [] },
      'charts-dir': { type: 'string', default: path.join(PROJECT_ROOT, 'benchmarks/results') },
      'no-charts': { type: 'boolean', default: false },
      bootstrap: { type: 'string', default: `127.0.0.1:${env.KAFKA_PORT ?? '9092'}` },
      'metrics-port': { type: 'string', default: '59150' },
      deadline: { type: 'string', default: '900' },
      help: { type: 'boolean', default: false },
    },
  });
  if (v.help) return 'help';
  const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
  const whole = (name: string, s: string, min = 1) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < min) fail(`--${name}: found "${s}"; expected a whole number ≥ ${min}`);
    return n;
  };
  // Checked in the order they always were, so the first complaint is the same.
  const workloads = list(v.workloads);
  for (const w of workloads) if (!WORKLOADS[w]) fail(`--workloads: found "${w}"; expected some of ${Object.keys(WORKLOADS).join(',')}`);
  const codecs = list(v.codecs) as Codec[];
  for (const c of codecs) if (!CODECS.includes(c)) fail(`--codecs: found "${c}"; expected some of ${CODECS.join(',')}`);
  const records = whole('records', v.records);
  const partitions = whole('partitions', v.partitions);
  const parallelisms = list(v.parallelism).map((p) => whole('parallelism', p));
  const runs = whole('runs', v.runs);
  const references = (v.references === 'none' ? [] : list(v.references)) as Reference[];
  for (const r of references) if (r !== 'kcat' && r !== 'kafka-java') fail(`--references: found "${r}"; expected kcat, kafka-java or none`);
  const stageRecords = whole('stage-records', v['stage-records']);
  const freshnessSeconds = whole('freshness-seconds', v['freshness-seconds'], 0);
  const freshnessRate = whole('freshness-rate', v['freshness-rate']);
  const ciText = v['checkpoint-interval'];
  const ciMatch = /^(\d+)(ms|s|min)$/.exec(ciText);
  if (!ciMatch) fail(`--checkpoint-interval: found "${ciText}"; expected e.g. 500ms, 10s, 1min`);
  const checkpointSeconds = Number(ciMatch[1]) / (ciMatch[2] === 'ms' ? 1000 : ciMatch[2] === 'min' ? 1 / 60 : 1);
  const metricsPort = whole('metrics-port', v['metrics-port']);
  const deadlineMs = whole('deadline', v.deadline) * 1000;
  const settings = v.set.map((kv): Setting => {
    const at = kv.indexOf('=');
    const key = at > 0 ? kv.slice(0, at) : '';
    if (!/^(runtime\.[a-z_.]+|sink\.properties\.[\w.-]+)$/.test(key)) fail(`--set: found "${kv}"; expected runtime.<key>=VALUE or sink.properties.<property>=VALUE`);
    const raw = kv.slice(at + 1);
    return { key, value: /^\d+$/.test(raw) ? Number(raw) : raw };
  });
  return {
    workloads,
    records,
    partitions,
    codecs,
    parallelisms,
    runs,
    references,
    withFlink: v['with-flink'],
    stages: v.stages,
    stageRecords,
    freshnessSeconds,
    freshnessRate,
    checkpointInterval: ciText,
    checkpointSeconds,
    settings,
    chartsDir: v['charts-dir'],
    noCharts: v['no-charts'],
    bootstrap: v.bootstrap,
    metricsPort,
    deadlineMs,
  };
}
