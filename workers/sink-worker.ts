// Thread entry of a sink actor (src/runtime/sink-actor.ts): one per table.

import { parentPort, workerData } from 'node:worker_threads';
import { serializeError } from '../src/errors.js';
import { shouldFail } from '../src/runtime/faults.js';
import type { SinkCommand, SinkEvent } from '../src/runtime/messages.js';
import { SinkActor, type SinkActorInit } from '../src/runtime/sink-actor.js';

const port = parentPort!;
const actor = new SinkActor(workerData as SinkActorInit, (event: SinkEvent, transfer?: ArrayBuffer[]) => port.postMessage(event, transfer ?? []));
const init = workerData as SinkActorInit;
port.on('message', (cmd: SinkCommand) => {
  if (cmd.kind === 'data' && shouldFail('sink-exit', init.pipelineId)) process.exit(70);
  actor.handle(cmd);
});
try {
  actor.start();
} catch (err) {
  port.postMessage({ kind: 'failed', error: serializeError(err, 'ACTOR_FAILED', 'storage') } satisfies SinkEvent);
}
