// The production parts of a pipeline runner: its Kafka source with the fetch loop on one of the
// process's shared source threads, its sink actor on one of the shared sink threads, the
// dead-letter topic's producer, and the thread compaction rewrites files on.

import type { Kafka } from 'kafkajs';
import type { AppConfig, PipelineConfig } from '../../config/types.js';
import { ThreadedTopicSource } from './source-thread.js';
import { DeadLetterTopic } from '../dead-letter-topic.js';
import type { Logger } from '../log.js';
import type { PipelinePorts } from '../pipeline-runner.js';
import { ThreadedSink } from './sink-thread.js';
import { ThreadedRewriter } from './rewrite-thread.js';
import { resetPolicyOf } from '../../kafka/offset-reset.js';
import type { ActorThreads } from './actor-threads.js';

/** The threads every pipeline's actors share, one set per kind (supervisor.ts owns them). */
export interface SharedThreads {
  sources: ActorThreads;
  sinks: ActorThreads;
}

export function threadedPorts(kafka: Kafka, app: AppConfig, pipeline: PipelineConfig, log: Logger, fetchBufferBytes: number, threads: SharedThreads): PipelinePorts {
  const sourceLog = log.child({ pipeline: pipeline.topic });
  return {
    source: () =>
      new ThreadedTopicSource(kafka, app.kafka, pipeline.topic, pipeline.groupId, {
        isolationLevel: pipeline.isolationLevel,
        maxChunkRecords: app.runtime.batchRecords,
        maxBytesInFlight: fetchBufferBytes,
        offsetReset: resetPolicyOf(pipeline.scanMode),
        log: (level, msg, fields) => sourceLog.log(level, msg, fields),
        threads: threads.sources,
      }),
    sink: () => new ThreadedSink(threads.sinks),
    deadLetterTopic: (topic) => new DeadLetterTopic(kafka, topic),
    rewriter: () => new ThreadedRewriter(app.catalog),
  };
}
