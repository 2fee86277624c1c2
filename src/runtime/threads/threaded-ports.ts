// The production parts of a pipeline runner: its Kafka source with the fetch loop on a thread of
// its own, its sink actor on a thread of its own, the dead-letter topic's producer, and the thread
// compaction rewrites files on.

import type { Kafka } from 'kafkajs';
import type { AppConfig, PipelineConfig } from '../../config/types.js';
import { ThreadedTopicSource } from './source-thread.js';
import { DeadLetterTopic } from '../dead-letter-topic.js';
import type { Logger } from '../log.js';
import type { PipelinePorts } from '../pipeline-runner.js';
import { ThreadedSink } from './sink-thread.js';
import { ThreadedRewriter } from './rewrite-thread.js';
import { resetPolicyOf } from '../../kafka/offset-reset.js';

export function threadedPorts(kafka: Kafka, app: AppConfig, pipeline: PipelineConfig, log: Logger, fetchBufferBytes: number): PipelinePorts {
  const sourceLog = log.child({ pipeline: pipeline.topic });
  return {
    source: () =>
      new ThreadedTopicSource(kafka, app.kafka, pipeline.topic, pipeline.groupId, {
        isolationLevel: pipeline.isolationLevel,
        maxChunkRecords: app.runtime.batchRecords,
        maxBytesInFlight: fetchBufferBytes,
        offsetReset: resetPolicyOf(pipeline.scanMode),
        log: (level, msg, fields) => sourceLog.log(level, msg, fields),
      }),
    sink: () => new ThreadedSink(),
    deadLetterTopic: (topic) => new DeadLetterTopic(kafka, topic),
    rewriter: () => new ThreadedRewriter(app.catalog),
  };
}
