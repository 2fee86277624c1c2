// A TopicSource whose fetch loop runs on one of the process's shared source threads
// (workers/source-worker.ts, which calls source-worker.ts here; placed by actor-threads.ts), on a
// port of its own; without a shared set (a test) on a thread of its own. Admin requests
// (partitions, offsets) stay on the calling thread, they are few and small.

import type { Kafka } from 'kafkajs';
import type { KafkaConfig, ScanMode } from '../../config/types.js';
import { StreamError, deserializeError } from '../../errors.js';
import { ActorThreads, type ActorHost } from './actor-threads.js';
import { workerFile } from './worker-host.js';
import type { IsolationLevel } from '../../kafka/fetch-loop.js';
import { TopicAdmin } from '../../kafka/source.js';
import type { OffsetResetPolicy } from '../../kafka/offset-reset.js';
import type { RecordChunk } from '../../kafka/record-chunks.js';
import type { SourceCommand, SourceEvent, SourceThreadInit } from './source-messages.js';
import type { SourceHandlers, TopicSource } from './source-port.js';

/** The source threads of a process: at most `maxThreads`, shared by every pipeline's source. */
export function sourceThreads(maxThreads: number): ActorThreads {
  return new ActorThreads({ file: workerFile('source-worker'), kind: 'source', maxThreads, crashCode: 'KAFKA_UNAVAILABLE' });
}

export class ThreadedTopicSource implements TopicSource {
  private worker: ActorHost<SourceCommand> | undefined;
  private readonly own: ActorThreads | undefined;
  private readonly threads: ActorThreads;
  private stoppedFetching!: () => void;
  /** The source thread's `stopped`: its fetch loop has ended. */
  private readonly fetchStopped = new Promise<void>((resolve) => (this.stoppedFetching = resolve));
  private readonly admin: TopicAdmin;
  private readonly commits = new Map<number, { resolve: () => void; reject: (e: unknown) => void }>();
  private commitSeq = 0;
  private stopped: Promise<void> | undefined;

  constructor(
    kafka: Kafka,
    private readonly config: KafkaConfig,
    readonly topic: string,
    private readonly groupId: string,
    private readonly options: {
      isolationLevel: IsolationLevel;
      maxChunkRecords: number;
      maxBytesInFlight: number;
      offsetReset?: OffsetResetPolicy;
      log: (level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void;
      /** The process's shared source threads; without them the source has a thread of its own. */
      threads?: ActorThreads;
    },
  ) {
    this.admin = new TopicAdmin(kafka, topic, groupId);
    this.own = options.threads ? undefined : sourceThreads(1);
    this.threads = options.threads ?? this.own!;
  }

  partitions(): Promise<number[]> {
    return this.admin.partitions();
  }

  initialOffsets(mode: ScanMode, timestampMs?: number): Promise<Map<number, bigint>> {
    return this.admin.initialOffsets(mode, timestampMs);
  }

  endOffsets(): Promise<Map<number, bigint>> {
    return this.admin.endOffsets();
  }

  run(start: Map<number, bigint>, handlers: SourceHandlers): Promise<void> {
    const init: SourceThreadInit = {
      kafka: this.config,
      topic: this.topic,
      groupId: this.groupId,
      start: [...start],
      isolationLevel: this.options.isolationLevel,
      maxChunkRecords: this.options.maxChunkRecords,
      maxBytesInFlight: this.options.maxBytesInFlight,
      ...(this.options.offsetReset ? { offsetReset: this.options.offsetReset } : {}),
    };
    const worker = this.threads.host<SourceCommand, SourceEvent>({
      init,
      name: `source of ${this.topic}`,
      onFailure: (err) => handlers.onError(err),
      onEvent: (event) => {
        switch (event.kind) {
          case 'chunk':
            handlers.onChunk(event.fetched);
            return;
          case 'log':
            this.options.log(event.level, event.msg, event.fields);
            return;
          case 'position':
            handlers.onPosition(event.partition, event.next);
            return;
          case 'trouble':
            handlers.onTrouble?.(event.error ? deserializeError(event.error) : undefined);
            return;
          case 'committed': {
            const c = this.commits.get(event.id);
            this.commits.delete(event.id);
            if (event.error) c?.reject(deserializeError(event.error));
            else c?.resolve();
            return;
          }
          case 'stopped':
            this.stoppedFetching();
            return;
        }
      },
    });
    this.worker = worker;
    return worker.started;
  }

  private send(cmd: SourceCommand): void {
    this.worker?.post(cmd);
  }

  add(start: Map<number, bigint>): void {
    if (start.size > 0) this.send({ kind: 'add-partitions', start: [...start] });
  }

  pause(partitions: number[]): void {
    if (partitions.length > 0) this.send({ kind: 'pause', partitions });
  }

  resume(partitions: number[]): void {
    if (partitions.length > 0) this.send({ kind: 'resume', partitions });
  }

  release(chunk: RecordChunk, valueBytes?: number): void {
    if (chunk.weight <= 0) return;
    // Only a compressed chunk's sample teaches the source anything.
    const decoded = valueBytes !== undefined && chunk.compressedBytes > 0 ? { compressedBytes: chunk.compressedBytes, valueBytes } : undefined;
    this.send({ kind: 'release', weight: chunk.weight, ...(decoded ? { decoded } : {}) });
  }

  commit(offsets: Map<number, bigint>): Promise<void> {
    if (!this.worker || offsets.size === 0) return Promise.resolve();
    const id = ++this.commitSeq;
    return new Promise((resolve, reject) => {
      this.commits.set(id, { resolve, reject });
      this.send({ kind: 'commit', id, offsets: [...offsets] });
    });
  }

  close(): Promise<void> {
    this.stopped ??= (async () => {
      const worker = this.worker;
      if (worker) {
        worker.expectExit();
        // Let the fetch loop end cleanly, but never wait on it for long.
        worker.post({ kind: 'stop' });
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([this.fetchStopped, worker.exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
        clearTimeout(timer);
        await worker.terminate();
      }
      await this.own?.close();
      for (const c of this.commits.values()) c.reject(new StreamError('KAFKA_UNAVAILABLE', `source of ${this.topic} closed`));
      this.commits.clear();
      await this.admin.close();
    })();
    return this.stopped;
  }
}
