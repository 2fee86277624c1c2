// The sink thread's side of the sink port: one sink actor (src/runtime/sink-actor.ts) per table,
// fed the commands of sink-messages.ts in order on its own port. A sink thread hosts the sink
// actors of many tables (actor-thread.ts); workers/sink-worker.ts only calls serveSinks.

import type { MessagePort } from 'node:worker_threads';
import { serializeError } from '../../errors.js';
import { shouldFail } from '../faults.js';
import { SinkActor, type SinkActorInit } from '../sink-actor.js';
import { serveActors, type HostedActor } from './actor-thread.js';
import type { SinkCommand, SinkEvent } from './sink-messages.js';

/** The thread's own port takes sink actors to host (actor-thread.ts). */
export function serveSinks(parent: MessagePort): void {
  serveActors(parent, 'sb-sink', serveSink);
}

/**
 * One sink actor on its own port. Closing it drops what it buffered: whatever write is under way
 * may still leave a file, never committed (an orphan), since its epoch is replayed.
 */
export function serveSink(port: MessagePort, init: SinkActorInit): HostedActor {
  const actor = new SinkActor(init, (event: SinkEvent, transfer?: ArrayBuffer[]) => port.postMessage(event, transfer ?? []));
  port.on('message', (cmd: SinkCommand) => {
    if (cmd.kind === 'data' && shouldFail('sink-exit', init.pipelineId)) process.exit(70);
    actor.handle(cmd);
  });
  try {
    actor.start();
  } catch (err) {
    port.postMessage({ kind: 'failed', error: serializeError(err, 'ACTOR_FAILED', 'storage') } satisfies SinkEvent);
  }
  return {
    close: () => {
      port.removeAllListeners('message');
    },
  };
}
