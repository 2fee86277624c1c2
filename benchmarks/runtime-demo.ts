// The shipped demo's two pipelines end to end: records/s and peak RSS of a `--bounded` run at
// --parallelism 1 and 2, alternating, several runs each, on fresh topics of the local broker.
//
//   npm run build && node dist/benchmarks/runtime-demo.js [--records 200000] [--runs 3]
//
// Needs the broker (npm run kafka:start). Prints a table and writes
// benchmarks/results/runtime-demo.json. Each run reads the same topics into a new warehouse.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../src/project-root.js';

const { values } = parseArgs({ options: { records: { type: 'string', default: '200000' }, runs: { type: 'string', default: '3' } } });
const records = Number(values.records);
const runs = Number(values.runs);
const root = PROJECT_ROOT;
const suffix = Date.now().toString(36);
const bid = `bench-bid-${suffix}`;
const user = `bench-user-${suffix}`;

const dir = mkdtempSync(path.join(os.tmpdir(), 'streamberg-bench-'));
mkdirSync(path.join(dir, 'config'));
const topics = readFileSync(path.join(root, 'config/topics.yaml'), 'utf8').replace('  bid-events:\n', `  ${bid}:\n`).replace('  user-events:\n', `  ${user}:\n`);
writeFileSync(path.join(dir, 'config/topics.yaml'), topics);
writeFileSync(path.join(dir, 'config/transformations.yaml'), readFileSync(path.join(root, 'config/transformations.yaml')));
const configDir = path.join(dir, 'config');

for (const [topic, n] of [[bid, records], [user, Math.floor(records / 2)]] as const) {
  execFileSync(process.execPath, [path.join(root, 'dist/src/tools/produce.js'), '--config', configDir, '--topic', topic, '--count', String(n), '--partitions', '3', '--malformed-ratio', '0.01'], { stdio: 'inherit' });
}
const total = records + Math.floor(records / 2);

interface Run {
  parallelism: number;
  seconds: number;
  recordsPerSecond: number;
  peakRssMb: number;
}

function once(parallelism: number, i: number): Run {
  const warehouse = path.join(dir, `wh-${parallelism}-${i}`);
  const started = performance.now();
  // GNU time reports the child's peak RSS; the runtime's worker threads share its process.
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, path.join(root, 'dist/src/cli.js'), '--config', configDir, '--bounded', '--parallelism', String(parallelism), '--checkpoint-interval', '10s', '--metrics-port', '0'], {
    env: { ...process.env, WAREHOUSE_DIR: warehouse, LOG_LEVEL: 'warn' },
    encoding: 'utf8',
  });
  const seconds = (performance.now() - started) / 1000;
  if (r.status !== 0) throw new Error(`run failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const rssKb = Number(r.stderr.trim().split('\n').at(-1));
  return { parallelism, seconds, recordsPerSecond: total / seconds, peakRssMb: rssKb / 1024 };
}

const results: Run[] = [];
for (let i = 0; i < runs; i++) {
  for (const p of [1, 2]) {
    const run = once(p, i);
    results.push(run);
    process.stdout.write(`run ${i + 1} parallelism ${p}: ${run.seconds.toFixed(2)} s, ${Math.round(run.recordsPerSecond)} records/s, peak RSS ${run.peakRssMb.toFixed(0)} MB\n`);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const summary = [1, 2].map((p) => {
  const rs = results.filter((r) => r.parallelism === p);
  return {
    parallelism: p,
    medianRecordsPerSecond: Math.round(median(rs.map((r) => r.recordsPerSecond))),
    medianSeconds: Number(median(rs.map((r) => r.seconds)).toFixed(2)),
    medianPeakRssMb: Math.round(median(rs.map((r) => r.peakRssMb))),
  };
});
process.stdout.write(`\n${total} records (${records} bid-events + ${Math.floor(records / 2)} user-events), wall time from process start to exit, median of ${runs}:\n`);
for (const s of summary) process.stdout.write(`  parallelism ${s.parallelism}: ${s.medianRecordsPerSecond} records/s (${s.medianSeconds} s), peak RSS ${s.medianPeakRssMb} MB\n`);
const out = path.join(root, 'benchmarks/results');
mkdirSync(out, { recursive: true });
writeFileSync(path.join(out, 'runtime-demo.json'), JSON.stringify({ records: total, runs: results, summary, cpus: os.cpus().length, node: process.version }, null, 2));
