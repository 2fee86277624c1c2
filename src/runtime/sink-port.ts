// What a pipeline needs of its sink actor, whichever thread it runs on: start it for a table,
// send it data and barriers in order, hear back what it consumed, each epoch's files, and its
// failure. `ThreadedSink` runs the sink actor (sink-actor.ts) on a worker thread of its own
// (workers/sink-worker.ts); the runner sees only `SinkPort`, so it can be tested without threads.

import type { StreamError } from '../errors.js';
import type { CheckpointAck, SinkCommand, SinkEvent } from './messages.js';
import { WorkerHost, workerFile } from '../worker-host.js';
import type { SinkActorInit } from './sink-actor.js';

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

export class ThreadedSink implements SinkPort {
  private host: WorkerHost<SinkCommand, SinkEvent> | undefined;

  start(init: SinkActorInit, handlers: SinkHandlers): Promise<void> {
    this.host = new WorkerHost<SinkCommand, SinkEvent>({
      file: workerFile('sink-worker'),
      workerData: init,
      name: `sink actor of ${init.table.ident.name}`,
      crashCode: 'ACTOR_FAILED',
      onFailure: (err) => handlers.onFailure(err),
      onEvent: (event) => {
        if (event.kind === 'consumed') handlers.onConsumed(event.bytes);
        else handlers.onAck(event);
      },
    });
    return this.host.started;
  }

  send(cmd: SinkCommand): void {
    if (cmd.kind === 'data') {
      const transfer = [cmd.rows.buffer as ArrayBuffer];
      if (cmd.deadLetters) transfer.push(cmd.deadLetters.buffer as ArrayBuffer);
      this.host?.post(cmd, transfer);
    } else this.host?.post(cmd);
  }

  async close(): Promise<void> {
    await this.host?.terminate();
  }
}
