// Soak: what a table looks like after thousands of checkpoints, and what each commit costs as
// they pile up. The runtime's commits are driven straight against a local SQL catalog and file
// warehouse (one small data file per checkpoint, every fifth checkpoint offsets-only, as a quiet
// partition makes them), in three modes run one after the other on fresh tables:
//
// - `none`: no manifest merging, no metadata-file deletion, no maintenance (how tables grew
//   before: one manifest and one metadata file per commit, kept for ever);
// - `commit`: Iceberg's commit-time bounds only (manifest merging, old metadata files deleted);
// - `full`: those, and the runtime's maintenance every `--maintain-every` commits (snapshot
//   expiry with a short max age standing in for days, compaction of small files).
//
//   npm run build && node dist/benchmarks/soak.js [--commits 10000] [--modes none,commit,full]
//     [--maintain-every 100] [--max-snapshot-age 20s]
//
// Prints, every tenth of the run, the commit latency (p50/p99 of that stretch), `metadata.json`'s
// size, the manifests the current snapshot lists, its data files, the snapshots kept and the files
// under `metadata/`; then p50/p99 of the first and the last 1,000 commits. JSON goes to
// benchmarks/results/.

import * as arrow from 'apache-arrow';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { FieldConfig } from '../src/config/types.js';
import { parseDuration } from '../src/config/units.js';
import { SqlCatalog } from '../src/iceberg/catalog-sql.js';
import { commitAppend } from '../src/iceberg/commit.js';
import { maintainTable } from '../src/iceberg/maintenance.js';
import { openTable } from '../src/iceberg/table.js';
import { newDataFileWriter } from '../src/iceberg/data-file-writer.js';
import { PROJECT_ROOT } from '../src/project-root.js';
import { parseSqlType } from '../src/schema/sql-types.js';
import { arrowSchemaOf } from '../src/schema/type-mapping.js';

const { values } = parseArgs({
  options: {
    commits: { type: 'string', default: '10000' },
    modes: { type: 'string', default: 'none,commit,full' },
    'maintain-every': { type: 'string', default: '100' },
    'max-snapshot-age': { type: 'string', default: '20s' },
  },
});
const COMMITS = Number(values.commits);
const MODES = values.modes!.split(',') as Mode[];
const MAINTAIN_EVERY = Number(values['maintain-every']);
const MAX_AGE_MS = parseDuration(values['max-snapshot-age']!);
type Mode = 'none' | 'commit' | 'full';

const FIELDS: FieldConfig[] = [
  { name: 'id', type: parseSqlType('BIGINT'), typeText: 'BIGINT' },
  { name: 'payload', type: parseSqlType('STRING'), typeText: 'STRING' },
];
const SCHEMA = arrowSchemaOf(FIELDS);

function batchOf(i: number): arrow.RecordBatch {
  const ids = arrow.makeData({ type: new arrow.Int64(), length: 1, nullCount: 0, data: BigInt64Array.of(BigInt(i)) });
  const text = Buffer.from(`event ${i}`);
  const payload = arrow.makeData({ type: new arrow.Utf8(), length: 1, nullCount: 0, valueOffsets: Int32Array.of(0, text.length), data: new Uint8Array(text) });
  return new arrow.RecordBatch(SCHEMA, arrow.makeData({ type: new arrow.Struct(SCHEMA.fields), length: 1, nullCount: 0, children: [ids, payload] }));
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

interface Sample {
  commits: number;
  p50Ms: number;
  p99Ms: number;
  metadataJsonBytes: number;
  manifests: number;
  dataFiles: number;
  snapshots: number;
  metadataDirFiles: number;
}

async function soak(mode: Mode): Promise<{ mode: Mode; samples: Sample[]; first: { p50Ms: number; p99Ms: number }; last: { p50Ms: number; p99Ms: number }; seconds: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `soak-${mode}-`));
  const catalog = new SqlCatalog({ type: 'sql', name: 'soak', uri: `sqlite:///${path.join(dir, 'catalog.db')}`, sqlitePath: path.join(dir, 'catalog.db'), warehouse: pathToFileURL(path.join(dir, 'warehouse')).href, namespace: 'analytics' });
  const properties: Record<string, string> =
    mode === 'none'
      ? { 'commit.manifest-merge.enabled': 'false', 'write.metadata.delete-after-commit.enabled': 'false' }
      : { 'history.expire.max-snapshot-age-ms': String(MAX_AGE_MS) };
  let table = await openTable(catalog, 'analytics', { tableNameRaw: 'events', tableName: 'events', schema: FIELDS, partitionBy: [], properties });
  const ident = table.ident;
  const metadataDir = path.join(fileURLToPath(table.metadata.location), 'metadata');
  const latencies: number[] = [];
  const samples: Sample[] = [];
  let manifests = 0;
  const started = performance.now();
  for (let i = 1; i <= COMMITS; i++) {
    // Every fifth checkpoint saw no record: it moves the offsets and adds no file.
    const files = [];
    if (i % 5 !== 0) {
      const writer = newDataFileWriter(table, catalog.io, SCHEMA, { writerId: `soak-${i}` });
      await writer.write(batchOf(i));
      files.push(...(await writer.close()));
    }
    const t0 = performance.now();
    const r = await commitAppend(catalog, ident, files, { 'kafka.offsets.soak': `{"events":{"0":${i}}}`, 'streamberg.epoch': String(i) });
    latencies.push(performance.now() - t0);
    table = r.table;
    if (r.manifests !== undefined) manifests = r.manifests;
    if (mode === 'full' && i % MAINTAIN_EVERY === 0) {
      await maintainTable(catalog, ident, { dryRun: false, expire: true, compactMinFiles: 50, orphanMinAgeMs: undefined });
      table = await catalog.loadTable(ident);
    }
    if (i % Math.max(1, Math.floor(COMMITS / 10)) === 0) {
      const stretch = latencies.slice(-Math.floor(COMMITS / 10));
      const current = await catalog.loadTable(ident);
      const summary: Record<string, string> = current.metadata.snapshots.find((s) => s['snapshot-id'] === current.metadata['current-snapshot-id'])?.summary ?? {};
      const sample: Sample = {
        commits: i,
        p50Ms: quantile(stretch, 0.5),
        p99Ms: quantile(stretch, 0.99),
        metadataJsonBytes: statSync(fileURLToPath(current.metadataLocation)).size,
        manifests,
        dataFiles: Number(summary['total-data-files'] ?? NaN),
        snapshots: current.metadata.snapshots.length,
        metadataDirFiles: readdirSync(metadataDir).length,
      };
      samples.push(sample);
      console.log(
        `  ${mode.padEnd(6)} ${String(i).padStart(6)} commits: p50 ${sample.p50Ms.toFixed(1)} ms, p99 ${sample.p99Ms.toFixed(1)} ms, metadata.json ${(sample.metadataJsonBytes / 1024).toFixed(0)} KB, ` +
          `${sample.manifests} manifests, ${sample.dataFiles} data files, ${sample.snapshots} snapshots, ${sample.metadataDirFiles} files in metadata/`,
      );
    }
  }
  const seconds = (performance.now() - started) / 1000;
  await catalog.close();
  rmSync(dir, { recursive: true, force: true });
  const window = Math.min(1000, Math.floor(COMMITS / 2));
  const first = latencies.slice(0, window);
  const last = latencies.slice(-window);
  return { mode, samples, first: { p50Ms: quantile(first, 0.5), p99Ms: quantile(first, 0.99) }, last: { p50Ms: quantile(last, 0.5), p99Ms: quantile(last, 0.99) }, seconds };
}

const load = os.loadavg()[0]!.toFixed(2);
console.log(`soak: ${COMMITS} commits per mode (${MODES.join(', ')}), maintenance every ${MAINTAIN_EVERY} in full mode, load average ${load}`);
const results = [];
for (const mode of MODES) results.push(await soak(mode));
console.log('\ncommit latency, first vs last commits (p50 / p99, ms):');
for (const r of results) {
  const ratio = r.last.p99Ms / r.first.p99Ms;
  console.log(`  ${r.mode.padEnd(6)} first ${r.first.p50Ms.toFixed(1)} / ${r.first.p99Ms.toFixed(1)}, last ${r.last.p50Ms.toFixed(1)} / ${r.last.p99Ms.toFixed(1)} (p99 ×${ratio.toFixed(2)}), ${r.seconds.toFixed(0)} s`);
}
const out = path.join(PROJECT_ROOT, 'benchmarks/results');
mkdirSync(out, { recursive: true });
const file = path.join(out, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify({ commits: COMMITS, maintainEvery: MAINTAIN_EVERY, maxSnapshotAgeMs: MAX_AGE_MS, loadAverage: Number(load), results }, null, 2));
console.log(`\nwritten to ${path.relative(process.cwd(), file)}`);
