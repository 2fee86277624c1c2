// The sink thread's side of the sink port: one sink actor (src/runtime/sink-actor.ts) per table,
// fed the commands of sink-messages.ts in order. workers/sink-worker.ts only calls this.

import type { MessagePort } from 'node:worker_threads';
import { serializeError } from '../../errors.js';
import { shouldFail } from '../faults.js';
import { SinkActor, type SinkActorInit } from '../sink-actor.js';
import type { SinkCommand, SinkEvent } from './sink-messages.js';

export function serveSink(port: MessagePort, init: SinkActorInit): void {
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
}
