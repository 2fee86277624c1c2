// `npm start -- maintain [options]`: one round of maintenance on every enabled pipeline's tables
// (and their dead-letter tables), or on the one `--table` names: compaction of small files,
// a rewrite of the current snapshot's manifests into manifests of the target size, snapshot
// expiry by each table's `history.expire.*` properties, then removal of orphan files older than
// the safety age. Prints
// what it did; with `--dry-run`, what it would do, changing nothing.
//
// Safe beside a running pipeline: expiry commits through the catalog's compare-and-swap and
// keeps every snapshot recovery needs; orphan removal spares files younger than the safety age,
// so an epoch being written right now is never taken for an orphan.

import { parseArgs } from 'node:util';
import path from 'node:path';
import { deadLetterSink } from '../config/dead-letter-sink.js';
import { ConfigError, formatIssue } from '../config/issues.js';
import { loadConfig } from '../config/load.js';
import { ACCEPTED_DURATION, ACCEPTED_SIZE, parseDuration, parseSize } from '../config/units.js';
import { isStreamError } from '../errors.js';
import type { TableIdentifier } from '../iceberg/catalog.js';
import { createCatalog } from '../iceberg/catalogs.js';
import { formatReport, maintainTable } from '../iceberg/maintenance.js';
import { killIfDue } from '../runtime/faults.js';

export const MAINTAIN_USAGE = `Usage: npm start -- maintain [options]

Compacts small files, rewrites manifests, expires snapshots and removes orphan files of every
enabled pipeline's tables, and prints what it did.

Options:
  --config DIR           folder with topics.yaml and transformations.yaml (default: config)
  --table NS.NAME        only this table (NAME alone: in the catalog's namespace)
  --dry-run              change nothing; print what would be done
  --orphan-min-age D     remove only orphan files older than this (default: runtime.maintenance.orphan_min_age, 3d)
  --compact-min-files N  rewrite a partition's small files when it has at least N (default: runtime.maintenance.compact_min_files, 5)
  --compact-min-bytes S  ...or when they total at least S (default: runtime.maintenance.compact_min_bytes, the target file size)
  --compact-max-bytes S  rewrite at most S in this round (default: runtime.maintenance.compact_max_bytes, 512mb)
  --compact-max-files N  rewrite at most N files in this round (default: runtime.maintenance.compact_max_files, 1000)
  --skip-compact         do not compact
  --skip-manifests       do not rewrite manifests
  --skip-expire          do not expire snapshots
  --skip-orphans         do not remove orphan files
  --verbose              list every file deleted (or, dry, to be deleted)
  --help                 show this text
`;

export async function maintainCommand(argv: string[]): Promise<number> {
  let v;
  try {
    v = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', default: 'config' },
        table: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        'orphan-min-age': { type: 'string' },
        'compact-min-files': { type: 'string' },
        'compact-min-bytes': { type: 'string' },
        'compact-max-bytes': { type: 'string' },
        'compact-max-files': { type: 'string' },
        'skip-compact': { type: 'boolean', default: false },
        'skip-manifests': { type: 'boolean', default: false },
        'skip-expire': { type: 'boolean', default: false },
        'skip-orphans': { type: 'boolean', default: false },
        verbose: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${MAINTAIN_USAGE}`);
    return 2;
  }
  if (v.help) {
    process.stdout.write(MAINTAIN_USAGE);
    return 0;
  }
  let orphanAge: number | undefined;
  if (v['orphan-min-age'] !== undefined) {
    orphanAge = parseDuration(v['orphan-min-age']);
    if (orphanAge === undefined) {
      process.stderr.write(`--orphan-min-age: found "${v['orphan-min-age']}"; expected ${ACCEPTED_DURATION}\n`);
      return 2;
    }
  }
  let compactMinFiles: number | undefined;
  if (v['compact-min-files'] !== undefined) {
    compactMinFiles = Number(v['compact-min-files']);
    if (!Number.isInteger(compactMinFiles) || compactMinFiles < 2) {
      process.stderr.write(`--compact-min-files: found "${v['compact-min-files']}"; expected a whole number of at least 2\n`);
      return 2;
    }
  }
  const sizes: Partial<Record<'compact-min-bytes' | 'compact-max-bytes', number>> = {};
  for (const flag of ['compact-min-bytes', 'compact-max-bytes'] as const) {
    if (v[flag] === undefined) continue;
    const n = parseSize(v[flag]);
    if (n === undefined || n < 1) {
      process.stderr.write(`--${flag}: found "${v[flag]}"; expected ${ACCEPTED_SIZE}\n`);
      return 2;
    }
    sizes[flag] = n;
  }
  let compactMaxFiles: number | undefined;
  if (v['compact-max-files'] !== undefined) {
    compactMaxFiles = Number(v['compact-max-files']);
    if (!Number.isInteger(compactMaxFiles) || compactMaxFiles < 2) {
      process.stderr.write(`--compact-max-files: found "${v['compact-max-files']}"; expected a whole number of at least 2\n`);
      return 2;
    }
  }
  let config;
  try {
    config = loadConfig({ configDir: path.resolve(v.config) }).config;
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const issue of err.issues) process.stderr.write(`${formatIssue(issue)}\n`);
      return 2;
    }
    throw err;
  }
  const ns = config.catalog.namespace;
  let tables: TableIdentifier[] = [];
  for (const p of config.pipelines.filter((x) => x.enabled)) {
    tables.push({ namespace: ns, name: p.sink.tableName });
    const dlq = deadLetterSink(p);
    if (dlq) tables.push({ namespace: ns, name: dlq.tableName });
  }
  if (v.table !== undefined) {
    const dot = v.table.lastIndexOf('.');
    const wanted = dot < 0 ? { namespace: ns, name: v.table } : { namespace: v.table.slice(0, dot), name: v.table.slice(dot + 1) };
    if (wanted.name === '' || wanted.namespace === '') {
      process.stderr.write(`--table: found "${v.table}"; expected NAMESPACE.NAME or NAME\n`);
      return 2;
    }
    tables = [wanted];
  }

  const catalog = await createCatalog(config.catalog);
  let failed = false;
  try {
    for (const ident of tables) {
      try {
        const report = await maintainTable(catalog, ident, {
          dryRun: v['dry-run'],
          compactMinFiles: v['skip-compact'] ? undefined : (compactMinFiles ?? config.runtime.maintenance.compactMinFiles),
          compactMinBytes: sizes['compact-min-bytes'] ?? config.runtime.maintenance.compactMinBytes,
          compactMaxBytes: sizes['compact-max-bytes'] ?? config.runtime.maintenance.compactMaxBytes,
          compactMaxFiles: compactMaxFiles ?? config.runtime.maintenance.compactMaxFiles,
          rewriteManifests: !v['skip-manifests'],
          expire: !v['skip-expire'],
          orphanMinAgeMs: v['skip-orphans'] ? undefined : (orphanAge ?? config.runtime.maintenance.orphanMinAgeMs),
          managedCatalog: config.catalog.type === 's3tables',
          // Fault injection for the crash tests, keyed by the table's name.
          atStep: (step) => killIfDue(step, ident.name),
        });
        process.stdout.write(`${formatReport(report, v.verbose)}\n`);
      } catch (err) {
        if (isStreamError(err) && err.code === 'TABLE_NOT_FOUND') {
          process.stdout.write(`${ident.namespace}.${ident.name}: not created yet; nothing to do\n`);
          continue;
        }
        failed = true;
        process.stderr.write(`${ident.namespace}.${ident.name}: maintenance failed: ${err instanceof Error ? err.message : String(err)}\n`);
      }
    }
  } finally {
    await catalog.close();
  }
  return failed ? 1 : 0;
}
