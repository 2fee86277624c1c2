// One round of table maintenance, as the `maintain` command and the runtime run it on a table:
// compaction (compact.ts), manifest rewrite (manifest-rewrite.ts, `maintain` only: the runtime
// merges manifests on commit), snapshot expiry (expire.ts), then orphan removal (orphans.ts), each
// reported as what it did or, dry, what it would do. The order matters: manifests are rewritten
// after compaction (so they cluster the compacted files, not the replaced ones), expiry after both
// (the replaced files and manifests then go once the snapshots that still read them expire), and orphan removal
// last, so that files an earlier run crashed before deleting are found in the same round once
// they are old enough.
//
// Where the catalog maintains its tables itself (S3 Tables: managed compaction, snapshot expiry
// and unreferenced-file removal), its storage refuses listing, so orphan removal is skipped
// there and said so.

import { isStreamError } from '../errors.js';
import type { Catalog, TableIdentifier } from './catalog.js';
import { compactTable, type CompactResult, type CompactStep } from './compact.js';
import { expireSnapshots, type ExpireResult, type ExpireStep } from './expire.js';
import type { ListedFile } from './file-io.js';
import type { FileRewriter } from './file-rewrite.js';
import { rewriteManifests, type RewriteManifestsResult, type RewriteManifestsStep } from './manifest-rewrite.js';
import { ORPHAN_MIN_AGE_MS, findOrphanFiles } from './orphans.js';

export interface MaintainOptions {
  dryRun: boolean;
  /** Compaction: partitions with at least this many small files are rewritten; undefined: skip it. */
  compactMinFiles?: number | undefined;
  /** Compaction's other thresholds and per-round caps (compact.ts); undefined: its defaults. */
  compactMinBytes?: number | undefined;
  compactMaxBytes?: number | undefined;
  compactMaxFiles?: number | undefined;
  /** Who reads and writes compaction's files (a worker thread, in the runtime); default: this thread. */
  rewriter?: FileRewriter | undefined;
  /** Rewrite the current snapshot's data manifests into manifests of the target size. */
  rewriteManifests?: boolean;
  /** Skip snapshot expiry. */
  expire: boolean;
  /** Orphan removal: files older than this; undefined: skip it. */
  orphanMinAgeMs: number | undefined;
  /** The catalog maintains its tables itself (S3 Tables): orphan removal is its job. */
  managedCatalog?: boolean;
  now?: number;
  atStep?: (step: ExpireStep | CompactStep | RewriteManifestsStep | 'orphans-deleting') => void;
}

export interface MaintainReport {
  table: string;
  dryRun: boolean;
  compact?: Pick<CompactResult, 'partitions' | 'replacedFiles' | 'addedFiles' | 'gaveUp'>;
  manifests?: Pick<RewriteManifestsResult, 'replaced' | 'created' | 'kept'>;
  expire?: Pick<ExpireResult, 'expiredSnapshots' | 'removedRefs' | 'files' | 'deleteFailures'> & { snapshotsLeft: number };
  orphans?: { files: ListedFile[]; deleteFailures: number } | { skipped: string };
}

export const DEFAULT_MAINTAIN: MaintainOptions = { dryRun: false, expire: true, orphanMinAgeMs: ORPHAN_MIN_AGE_MS };

export async function maintainTable(catalog: Catalog, ident: TableIdentifier, options: MaintainOptions): Promise<MaintainReport> {
  const report: MaintainReport = { table: `${ident.namespace}.${ident.name}`, dryRun: options.dryRun };
  const now = options.now ?? Date.now();
  if (options.compactMinFiles !== undefined) {
    const r = await compactTable(catalog, ident, {
      minInputFiles: options.compactMinFiles,
      ...(options.compactMinBytes !== undefined ? { minInputBytes: options.compactMinBytes } : {}),
      ...(options.compactMaxBytes !== undefined ? { maxBytesPerRound: options.compactMaxBytes } : {}),
      ...(options.compactMaxFiles !== undefined ? { maxFilesPerRound: options.compactMaxFiles } : {}),
      ...(options.rewriter ? { rewriter: options.rewriter } : {}),
      dryRun: options.dryRun,
      ...(options.atStep ? { atStep: options.atStep } : {}),
    });
    report.compact = { partitions: r.partitions, replacedFiles: r.replacedFiles, addedFiles: r.addedFiles, ...(r.gaveUp ? { gaveUp: r.gaveUp } : {}) };
  }
  if (options.rewriteManifests) {
    const r = await rewriteManifests(catalog, ident, { dryRun: options.dryRun, ...(options.atStep ? { atStep: options.atStep } : {}) });
    report.manifests = { replaced: r.replaced, created: r.created, kept: r.kept };
  }
  if (options.expire) {
    const r = await expireSnapshots(catalog, ident, {
      now,
      dryRun: options.dryRun,
      ...(options.atStep ? { atStep: options.atStep } : {}),
    });
    const left = r.table.metadata.snapshots.length - (options.dryRun ? r.expiredSnapshots.length : 0);
    report.expire = { expiredSnapshots: r.expiredSnapshots, removedRefs: r.removedRefs, files: r.files, deleteFailures: r.deleteFailures, snapshotsLeft: left };
  }
  if (options.orphanMinAgeMs !== undefined) {
    if (options.managedCatalog) {
      report.orphans = { skipped: 'S3 Tables removes unreferenced files itself and refuses listing' };
    } else {
      let files: ListedFile[];
      try {
        files = await findOrphanFiles(catalog, ident, { olderThanMs: options.orphanMinAgeMs, now });
      } catch (err) {
        if (isStreamError(err) && err.code === 'STORAGE_FAILED') {
          report.orphans = { skipped: `the table location cannot be listed: ${err.message}` };
          return report;
        }
        throw err;
      }
      let deleteFailures = 0;
      if (!options.dryRun) {
        for (const [i, f] of files.entries()) {
          if (i === Math.floor(files.length / 2)) options.atStep?.('orphans-deleting');
          try {
            await catalog.io.delete(f.uri);
          } catch {
            deleteFailures++;
          }
        }
      }
      report.orphans = { files, deleteFailures };
    }
  }
  return report;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The report as `maintain` prints it: one line per task, the files listed below it. */
export function formatReport(r: MaintainReport, verbose: boolean): string {
  const would = r.dryRun ? 'would ' : '';
  const lines = [`${r.table}${r.dryRun ? ' (dry run: nothing changed)' : ''}`];
  if (r.compact) {
    const c = r.compact;
    if (c.gaveUp) lines.push(`  compact: gave up this round (${c.gaveUp})`);
    else if (r.dryRun) lines.push(`  compact: would rewrite ${plural(c.replacedFiles.length, 'small file')} in ${plural(c.partitions, 'partition')}`);
    else lines.push(`  compact: rewrote ${plural(c.replacedFiles.length, 'small file')} in ${plural(c.partitions, 'partition')} into ${plural(c.addedFiles.length, 'file')}`);
    if (verbose) for (const p of c.replacedFiles) lines.push(`    ${p}`);
  }
  if (r.manifests) {
    const m = r.manifests;
    if (m.replaced.length === 0) lines.push(`  manifests: nothing to rewrite (${plural(m.kept, 'manifest')} kept)`);
    else lines.push(`  manifests: ${would}${r.dryRun ? 'rewrite' : 'rewrote'} ${plural(m.replaced.length, 'manifest')} into ${m.created}, ${m.kept} kept`);
    if (verbose) for (const p of m.replaced) lines.push(`    ${p}`);
  }
  if (r.expire) {
    const e = r.expire;
    const f = e.files;
    const files = f.dataFiles.length + f.manifests.length + f.manifestLists.length + f.statisticsFiles.length;
    lines.push(
      `  expire: ${would}expire ${plural(e.expiredSnapshots.length, 'snapshot')}` +
        (e.removedRefs.length > 0 ? ` and ${plural(e.removedRefs.length, 'ref')} (${e.removedRefs.join(', ')})` : '') +
        `, ${would}delete ${plural(f.dataFiles.length, 'data file')}, ${plural(f.manifests.length, 'manifest')}, ${plural(f.manifestLists.length, 'manifest list')}` +
        (f.statisticsFiles.length > 0 ? `, ${plural(f.statisticsFiles.length, 'statistics file')}` : '') +
        `; ${plural(e.snapshotsLeft, 'snapshot')} left` +
        (e.deleteFailures > 0 ? ` (${e.deleteFailures} of ${files} deletes failed: left for orphan removal)` : ''),
    );
    if (verbose) for (const p of [...f.dataFiles, ...f.manifests, ...f.manifestLists, ...f.statisticsFiles]) lines.push(`    ${p}`);
  }
  if (r.orphans) {
    if ('skipped' in r.orphans) lines.push(`  orphans: skipped (${r.orphans.skipped})`);
    else {
      const o = r.orphans;
      const bytes = o.files.reduce((n, f) => n + f.size, 0);
      lines.push(`  orphans: ${would}remove ${plural(o.files.length, 'file')} (${bytes} bytes)` + (o.deleteFailures > 0 ? `, ${o.deleteFailures} deletes failed` : ''));
      if (verbose) for (const f of o.files) lines.push(`    ${f.uri}  ${new Date(f.lastModifiedMs).toISOString()}`);
    }
  }
  return lines.join('\n');
}
