// Messages between table maintenance on the main thread and its rewrite thread (compaction's
// Parquet reading and writing), declared once and imported by both sides.

import type { SerializedError } from '../../errors.js';
import type { LoadedTable } from '../../iceberg/catalog.js';
import type { RewriteInput, RewriteOutput, RewriteProgress } from '../../iceberg/file-rewrite.js';
import type { HostedEvent } from './worker-host.js';

/** Main thread → rewrite thread. Requests are answered in order, one at a time. */
export type RewriteCommand = { kind: 'rewrite'; id: number; table: LoadedTable; group: RewriteInput[] };

/** Rewrite thread → main thread. */
export type RewriteEvent =
  | HostedEvent
  | { kind: 'progress'; id: number; progress: RewriteProgress }
  | { kind: 'rewritten'; id: number; output: RewriteOutput }
  | { kind: 'rewrite-failed'; id: number; error: SerializedError };
