// What a pipeline needs of its sink actor, whichever thread it runs on: start it for a table,
// send it data and barriers in order, hear back what it consumed, each epoch's files, and its
// failure. `ThreadedSink` (sink-thread.ts) runs the sink actor on a worker thread of its own
// (workers/sink-worker.ts); the runner sees only `SinkPort`, so it can be tested without threads.

import type { StreamError } from '../../errors.js';
import type { CheckpointAck, SinkCommand } from './sink-messages.js';
import type { SinkActorInit } from '../sink-actor.js';

export interface SinkHandlers {
  /** Data messages were taken off the sink's queue: their bytes no longer count against the budget. */
  onConsumed(bytes: number): void;
  /** Every partition passed barrier N and epoch N's files are written (not yet committed). */
  onAck(ack: CheckpointAck): void;
  /** The sink failed; nothing after this is written. */
  onFailure(err: StreamError): void;
}

export interface SinkPort {
  /** Starts the sink; resolves once it takes commands, rejects if it fails first. */
  start(init: SinkActorInit, handlers: SinkHandlers): Promise<void>;
  /** In order; a data message's buffers are handed over (transferred), not copied. */
  send(cmd: SinkCommand): void;
  /** Ends the sink at once; whatever it buffered is dropped (the epoch is replayed). */
  close(): Promise<void>;
}
