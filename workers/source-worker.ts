// Thread entry of a pipeline's Kafka consumer: kafkajs decodes every fetched record into an
// object; here, off the main thread, they are packed into RawBatches whose buffers are then
// transferred, so the main thread never holds one object per message.

import { parentPort, workerData } from 'node:worker_threads';
import { serializeError } from '../src/errors.js';
import { createKafka } from '../src/kafka/client.js';
import { KafkajsTopicSource } from '../src/kafka/source.js';
import type { SourceCommand, SourceEvent, SourceThreadInit } from '../src/kafka/source-messages.js';
import { rawBatchTransferList } from '../src/transform/raw-batch.js';

const port = parentPort!;
const init = workerData as SourceThreadInit;
const source = new KafkajsTopicSource(createKafka(init.kafka), init.topic, init.groupId);
const post = (event: SourceEvent, transfer: ArrayBuffer[] = []) => port.postMessage(event, transfer);

port.on('message', (cmd: SourceCommand) => {
  switch (cmd.kind) {
    case 'pause':
      source.pause(cmd.partitions);
      return;
    case 'resume':
      source.resume(cmd.partitions);
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
    onBatch: async (batch) => post({ kind: 'batch', batch }, rawBatchTransferList(batch.raw)),
    onPosition: (partition, next) => post({ kind: 'position', partition, next }),
    onError: (err) => post({ kind: 'failed', error: err.toJSON() }),
  })
  .then(
    () => post({ kind: 'running' }),
    (err: unknown) => post({ kind: 'failed', error: serializeError(err, 'ACTOR_FAILED', 'kafka') }),
  );
