// The rewrite port on a thread of its own (workers/rewrite-worker.ts), hosted by worker-host.ts.
// The thread starts with the first rewrite, not with the pipeline: most runs never compact.
//
// Hazard: a thread that dies takes its pending rewrites with it; each is rejected (its caller,
// compaction, gives up the round and the half-written files are orphans for orphan removal),
// and the next rewrite starts a fresh thread.

import type { CatalogConfig } from '../../config/types.js';
import { StreamError, deserializeError } from '../../errors.js';
import type { LoadedTable } from '../../iceberg/catalog.js';
import type { RewriteInput, RewriteOutput, RewriteProgress } from '../../iceberg/file-rewrite.js';
import type { RewriteCommand, RewriteEvent } from './rewrite-messages.js';
import type { RewritePort } from './rewrite-port.js';
import type { RewriteWorkerInit } from './rewrite-worker.js';
import { WorkerHost, workerFile } from './worker-host.js';

interface Pending {
  resolve(out: RewriteOutput): void;
  reject(err: StreamError): void;
  onProgress: ((p: RewriteProgress) => void) | undefined;
}

export class ThreadedRewriter implements RewritePort {
  private host: WorkerHost<RewriteCommand, RewriteEvent> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly catalog: CatalogConfig) {}

  readonly rewrite = async (table: LoadedTable, group: readonly RewriteInput[], onProgress?: (p: RewriteProgress) => void): Promise<RewriteOutput> => {
    const host = this.host ?? this.startHost();
    await host.started;
    const id = this.nextId++;
    return new Promise<RewriteOutput>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      host.post({ kind: 'rewrite', id, table, group: [...group] });
    });
  };

  private startHost(): WorkerHost<RewriteCommand, RewriteEvent> {
    const init: RewriteWorkerInit = { catalog: this.catalog };
    const host = new WorkerHost<RewriteCommand, RewriteEvent>({
      file: workerFile('rewrite-worker'),
      workerData: init,
      name: 'compaction rewrite thread',
      crashCode: 'ACTOR_FAILED',
      onEvent: (event) => {
        const p = this.pending.get(event.id);
        if (!p) return;
        if (event.kind === 'progress') return p.onProgress?.(event.progress);
        this.pending.delete(event.id);
        if (event.kind === 'rewritten') p.resolve(event.output);
        else p.reject(deserializeError(event.error));
      },
      onFailure: (err) => {
        if (this.host === host) this.host = undefined;
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      },
    });
    this.host = host;
    return host;
  }

  async close(): Promise<void> {
    const host = this.host;
    this.host = undefined;
    await host?.terminate();
    for (const p of this.pending.values()) p.reject(new StreamError('ACTOR_FAILED', 'the compaction rewrite thread was closed during a rewrite'));
    this.pending.clear();
  }
}
