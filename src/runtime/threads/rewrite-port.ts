// What table maintenance needs of the thread that rewrites compaction's files: rewrite one group
// of small files, and end. `ThreadedRewriter` (rewrite-thread.ts) does it on a worker thread of its
// own (workers/rewrite-worker.ts), so the Parquet decoding and encoding — synchronous inside
// parquet-wasm, seconds for a large group — never holds the main thread's event loop, where the
// pipelines' sources, commits and metrics run. Without a port, compaction runs on the caller's
// thread (iceberg/file-rewrite.ts), as the one-off `maintain` command does.

import type { FileRewriter } from '../../iceberg/file-rewrite.js';

export interface RewritePort {
  rewrite: FileRewriter;
  /** Ends the thread; a rewrite under way fails (its files become orphans, never committed). */
  close(): Promise<void>;
}
