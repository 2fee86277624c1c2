// The source thread's side of the source port: the fetch loop (src/kafka/fetch-loop.ts) runs here,
// off the main thread, takes the commands of source-messages.ts and transfers each chunk of record
// batches to the main thread as one buffer. A source thread hosts the sources of many topics, each
// on its own port (actor-thread.ts); workers/source-worker.ts only calls serveSources.

import type { MessagePort } from 'node:worker_threads';
import { serializeError } from '../../errors.js';
import { createKafka } from '../../kafka/client.js';
import { FetchLoop } from '../../kafka/fetch-loop.js';
import { serveActors, type HostedActor } from './actor-thread.js';
import type { SourceCommand, SourceEvent, SourceThreadInit } from './source-messages.js';

/** The thread's own port takes topic sources to host (actor-thread.ts). */
export function serveSources(parent: MessagePort): void {
  serveActors(parent, 'sb-source', serveSource);
}

/** One topic's fetch loop on its own port; closing it closes the loop and its connections. */
export function serveSource(port: MessagePort, init: SourceThreadInit): HostedActor {
  const source = new FetchLoop(createKafka(init.kafka), init.topic, init.groupId, {
    isolationLevel: init.isolationLevel,
    maxChunkRecords: init.maxChunkRecords,
    maxBytesInFlight: init.maxBytesInFlight,
    ...(init.offsetReset ? { offsetReset: init.offsetReset } : {}),
  });
  const post = (event: SourceEvent, transfer: ArrayBuffer[] = []) => port.postMessage(event, transfer);

  port.on('message', (cmd: SourceCommand) => {
    switch (cmd.kind) {
      case 'pause':
        source.pause(cmd.partitions);
        return;
      case 'resume':
        source.resume(cmd.partitions);
        return;
      case 'add-partitions':
        source.add(new Map(cmd.start));
        return;
      case 'release':
        source.release(cmd.weight, cmd.decoded);
        return;
      case 'commit':
        source.commit(new Map(cmd.offsets)).then(
          () => post({ kind: 'committed', id: cmd.id, error: null }),
          (err: unknown) => post({ kind: 'committed', id: cmd.id, error: serializeError(err, 'ACTOR_FAILED', 'kafka') }),
        );
        return;
      case 'stop':
        void source.close().finally(() => post({ kind: 'stopped' }));
        return;
    }
  });

  source
    .run(new Map(init.start), {
      // Never waits: flow control is the main thread's pause/resume.
      onChunk: (chunk, highWatermark) =>
        post({ kind: 'chunk', fetched: { partition: chunk.partition, chunk, highWatermark } }, [chunk.bytes.buffer as ArrayBuffer]),
      onPosition: (partition, next) => post({ kind: 'position', partition, next }),
      onError: (err) => post({ kind: 'failed', error: serializeError(err, 'ACTOR_FAILED', 'kafka') }),
      trouble: (err) => post({ kind: 'trouble', error: err ? serializeError(err, 'KAFKA_UNAVAILABLE', 'kafka') : null }),
      log: (level, msg, fields = {}) => post({ kind: 'log', level, msg, fields }),
    })
    .then(
      () => post({ kind: 'started' }),
      (err: unknown) => post({ kind: 'failed', error: serializeError(err, 'ACTOR_FAILED', 'kafka') }),
    );
  return {
    close: async () => {
      port.removeAllListeners('message');
      await source.close();
    },
  };
}
