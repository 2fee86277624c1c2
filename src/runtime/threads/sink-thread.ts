// The sink port on a thread of its own: the sink actor (src/runtime/sink-actor.ts) runs in
// workers/sink-worker.ts, hosted by worker-host.ts; data buffers are transferred, not copied.

import type { SinkCommand, SinkEvent } from './sink-messages.js';
import type { SinkHandlers, SinkPort } from './sink-port.js';
import type { SinkActorInit } from '../sink-actor.js';
import { WorkerHost, workerFile } from './worker-host.js';

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
