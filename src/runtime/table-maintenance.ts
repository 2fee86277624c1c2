// Maintenance of one pipeline's tables by the runtime, between checkpoints: after a commit
// succeeded, at most every `runtime.maintenance.compact_interval` it compacts partitions that
// hold `compact_min_files` small files or more, at most every `expire_interval` it expires the
// table's snapshots, and at most every `orphan_interval` it removes orphan files older than
// `orphan_min_age` (iceberg/maintenance.ts does the work).
//
// Off the hot path: a run is started, never awaited by the checkpoint; one runs at a time per
// pipeline, and compaction's Parquet reading and writing runs on a thread of its own (the
// `rewriter` port), so the main thread's event loop keeps turning through it. Its commit races the pipeline's own next commit on the catalog's compare-and-swap
// like any other writer, and whichever loses retries on the new head (appends commute; expiry
// plans again). A failed run is logged, counted and tried again at the next interval: it never
// fails the pipeline.
//
// Whether the runtime maintains at all depends on the catalog (`maintenanceEnabled`): S3 Tables
// runs compaction, snapshot expiry and unreferenced-file removal as managed maintenance, so the
// runtime stays off there unless `runtime.maintenance.enabled: true` says otherwise.

import type { CatalogConfig, MaintenanceConfig } from '../config/types.js';
import { toStreamError } from '../errors.js';
import type { Catalog, TableIdentifier } from '../iceberg/catalog.js';
import { maintainTable, type MaintainReport } from '../iceberg/maintenance.js';
import type { RuntimeMetrics } from '../metrics/metrics.js';
import { killIfDue } from './faults.js';
import type { Logger } from './log.js';
import type { RewritePort } from './threads/rewrite-port.js';

/** Whether the runtime maintains its tables, and why, for the one line it logs at start. */
export function maintenanceEnabled(m: MaintenanceConfig, catalog: CatalogConfig['type']): { enabled: boolean; reason: string } {
  if (m.enabled !== undefined) return { enabled: m.enabled, reason: `runtime.maintenance.enabled is ${m.enabled}` };
  if (catalog === 's3tables') return { enabled: false, reason: 'S3 Tables maintains its tables itself (managed compaction and snapshot expiry); set runtime.maintenance.enabled: true to run the runtime\'s too' };
  return { enabled: true, reason: `the default for a ${catalog} catalog` };
}

export interface TableMaintenanceDeps {
  pipelineId: string;
  catalog: Catalog;
  config: MaintenanceConfig;
  managedCatalog: boolean;
  metrics: RuntimeMetrics;
  log: Logger;
  now?: () => number;
  /** Compaction's file rewriting off the main thread (threads/rewrite-thread.ts); closed with this. */
  rewriter?: RewritePort | undefined;
}

export class TableMaintenance {
  private running: Promise<void> | undefined;
  private readonly lastExpire = new Map<string, number>();
  private readonly lastCompact = new Map<string, number>();
  private readonly lastOrphans = new Map<string, number>();
  private closed = false;

  constructor(private readonly d: TableMaintenanceDeps) {}

  /**
   * Called after `ident` committed: starts a run for it when one is due and none is under way.
   * The first run comes with the first commit; orphan removal waits a full interval first, so a
   * pipeline restarting in a loop does not list its whole table on every start.
   */
  afterCommit(ident: TableIdentifier): void {
    if (this.closed || this.running) return;
    const now = (this.d.now ?? Date.now)();
    const key = `${ident.namespace}.${ident.name}`;
    if (!this.lastOrphans.has(key)) this.lastOrphans.set(key, now);
    const compactDue = now - (this.lastCompact.get(key) ?? -Infinity) >= this.d.config.compactIntervalMs;
    const expireDue = now - (this.lastExpire.get(key) ?? -Infinity) >= this.d.config.expireIntervalMs;
    const orphansDue = now - this.lastOrphans.get(key)! >= this.d.config.orphanIntervalMs;
    if (!compactDue && !expireDue && !orphansDue) return;
    // Due times move at the start: a run that fails waits a full interval before the next try.
    if (compactDue) this.lastCompact.set(key, now);
    if (expireDue) this.lastExpire.set(key, now);
    if (orphansDue) this.lastOrphans.set(key, now);
    this.running = this.run(ident, key, { compact: compactDue, expire: expireDue, orphans: orphansDue }).finally(() => (this.running = undefined));
  }

  /** The run under way, if any (tests and close wait for it). */
  get pending(): Promise<void> | undefined {
    return this.running;
  }

  /** No run starts from now on; one under way is waited for (a commit must not be cut in half). */
  async close(): Promise<void> {
    this.closed = true;
    await this.running;
    await this.d.rewriter?.close();
  }

  /** Each due task on its own, so one failing (logged, counted) never keeps the others from running. */
  private async run(ident: TableIdentifier, table: string, due: { compact: boolean; expire: boolean; orphans: boolean }): Promise<void> {
    const tasks: Array<['compact' | 'expire' | 'orphans', boolean]> = [['compact', due.compact], ['expire', due.expire], ['orphans', due.orphans]];
    for (const [task, isDue] of tasks) {
      if (!isDue) continue;
      try {
        this.record(table, await maintainTable(this.d.catalog, ident, {
          dryRun: false,
          compactMinFiles: task === 'compact' ? this.d.config.compactMinFiles : undefined,
          compactMinBytes: this.d.config.compactMinBytes,
          compactMaxBytes: this.d.config.compactMaxBytes,
          compactMaxFiles: this.d.config.compactMaxFiles,
          rewriter: this.d.rewriter?.rewrite,
          expire: task === 'expire',
          orphanMinAgeMs: task === 'orphans' ? this.d.config.orphanMinAgeMs : undefined,
          managedCatalog: this.d.managedCatalog,
          atStep: (step) => killIfDue(step, this.d.pipelineId),
        }));
      } catch (err) {
        const e = toStreamError(err, 'COMMIT_FAILED');
        this.d.metrics.maintenanceFailures.inc({ table, task });
        this.d.log.log('warn', 'table maintenance failed; tried again at the next interval', { table, task, code: e.code, error: e.message });
      }
    }
  }

  private record(table: string, report: MaintainReport): void {
    const { metrics, log } = this.d;
    if (report.compact) {
      const c = report.compact;
      if (c.gaveUp) log.log('info', 'compaction gave up this round', { table, reason: c.gaveUp });
      else if (c.replacedFiles.length > 0) {
        metrics.filesCompacted.inc({ table }, c.replacedFiles.length);
        log.log('info', 'small files compacted', { table, files: c.replacedFiles.length, into: c.addedFiles.length, partitions: c.partitions });
      }
    }
    if (report.expire) {
      const e = report.expire;
      metrics.snapshotsExpired.inc({ table }, e.expiredSnapshots.length);
      metrics.maintenanceFilesDeleted.inc({ table, kind: 'data' }, e.files.dataFiles.length);
      metrics.maintenanceFilesDeleted.inc({ table, kind: 'manifest' }, e.files.manifests.length);
      metrics.maintenanceFilesDeleted.inc({ table, kind: 'manifest_list' }, e.files.manifestLists.length);
      metrics.maintenanceFilesDeleted.inc({ table, kind: 'statistics' }, e.files.statisticsFiles.length);
      metrics.snapshotsRetained.set({ table }, e.snapshotsLeft);
      if (e.expiredSnapshots.length > 0) {
        log.log('info', 'snapshots expired', { table, snapshots: e.expiredSnapshots.length, dataFiles: e.files.dataFiles.length, manifests: e.files.manifests.length, left: e.snapshotsLeft });
      }
    }
    if (report.orphans && 'files' in report.orphans) {
      const removed = report.orphans.files.length - report.orphans.deleteFailures;
      metrics.maintenanceFilesDeleted.inc({ table, kind: 'orphan' }, removed);
      if (removed > 0) log.log('info', 'orphan files removed', { table, files: removed });
    }
  }
}
