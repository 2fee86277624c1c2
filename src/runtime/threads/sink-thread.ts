// The sink port on a shared sink thread: the sink actor (src/runtime/sink-actor.ts) runs on one of
// the process's sink threads (workers/sink-worker.ts, placed by actor-threads.ts), on a port of its
// own; data buffers are transferred, not copied. Without a shared set (a test), it gets a thread
// of its own.

import type { SinkCommand, SinkEvent } from './sink-messages.js';
import type { SinkHandlers, SinkPort } from './sink-port.js';
import type { SinkActorInit } from '../sink-actor.js';
import { ActorThreads, type ActorHost } from './actor-threads.js';
import { workerFile } from './worker-host.js';

/** The sink threads of a process: at most `maxThreads`, shared by every pipeline's sink actor. */
export function sinkThreads(maxThreads: number): ActorThreads {
  return new ActorThreads({ file: workerFile('sink-worker'), kind: 'sink', maxThreads, crashCode: 'ACTOR_FAILED' });
}

export class ThreadedSink implements SinkPort {
  private host: ActorHost<SinkCommand> | undefined;
  private readonly own: ActorThreads | undefined;
  private readonly threads: ActorThreads;

  constructor(threads?: ActorThreads) {
    this.own = threads ? undefined : sinkThreads(1);
    this.threads = threads ?? this.own!;
  }

  start(init: SinkActorInit, handlers: SinkHandlers): Promise<void> {
    this.host = this.threads.host<SinkCommand, SinkEvent>({
      init,
      name: `sink actor of ${init.table.ident.name}`,
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
    await this.own?.close();
  }
}
