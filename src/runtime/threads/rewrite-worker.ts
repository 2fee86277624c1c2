// The rewrite thread's side of the rewrite port: compaction's file rewriting
// (iceberg/file-rewrite.ts), one request at a time, with the FileIO of the table it is asked
// about. workers/rewrite-worker.ts only calls this.

import type { MessagePort } from 'node:worker_threads';
import type { CatalogConfig } from '../../config/types.js';
import { serializeError } from '../../errors.js';
import { fileIOFor } from '../../iceberg/file-io.js';
import { rewriteFiles } from '../../iceberg/file-rewrite.js';
import type { RewriteCommand, RewriteEvent } from './rewrite-messages.js';
import { nameThisThread } from './thread-name.js';

export interface RewriteWorkerInit {
  catalog: CatalogConfig;
}

export function serveRewrites(port: MessagePort, init: RewriteWorkerInit): void {
  nameThisThread('sb-rewrite');
  const post = (event: RewriteEvent): void => port.postMessage(event);
  // Requests queue behind each other: two groups decoded at once would double the memory held.
  let chain = Promise.resolve();
  port.on('message', (cmd: RewriteCommand) => {
    chain = chain.then(async () => {
      try {
        const io = fileIOFor(init.catalog, cmd.table.fileIO);
        const output = await rewriteFiles(io, cmd.table, cmd.group, (progress) => post({ kind: 'progress', id: cmd.id, progress }));
        post({ kind: 'rewritten', id: cmd.id, output });
      } catch (err) {
        post({ kind: 'rewrite-failed', id: cmd.id, error: serializeError(err, 'ACTOR_FAILED', 'storage') });
      }
    });
  });
  post({ kind: 'started' });
}
