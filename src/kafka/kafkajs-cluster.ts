// The connection layer the fetch path runs on: kafkajs' cluster (metadata, leaders, broker
// connections with TLS and SASL — PLAIN, SCRAM, and OAUTHBEARER for MSK IAM — and
// re-authentication). kafkajs' own consumer decodes every record into an object and reads only
// gzip and uncompressed batches; the fetch path sends its own Fetch requests over these
// connections and keeps the answer as bytes (fetch-response.ts).
//
// kafkajs does not export its cluster: a client builds one per producer, consumer or admin
// through a private factory. This file is the one place that reaches it, and kafkajs is pinned
// to the exact version (2.2.4, its last release) whose internals are used here; the fetch tests
// against the real broker break loudly if that ever changes.

import { createRequire } from 'node:module';
import type { Kafka } from 'kafkajs';
import { StreamError } from '../errors.js';

const require = createRequire(import.meta.url);

/** What a Fetch request needs from kafkajs' protocol layer: an encoder it can put on the wire. */
export interface KafkajsRequest {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  encode(): Promise<unknown>;
}

export interface KafkajsResponse<T> {
  /** Gets the response payload after the correlation id. */
  decode(payload: Buffer): Promise<{ clientSideThrottleTime: number; value: T }>;
  parse(decoded: { clientSideThrottleTime: number; value: T }): Promise<T>;
}

export interface KafkajsConnectionPool {
  send<T>(protocol: { request: KafkajsRequest; response: KafkajsResponse<T>; requestTimeout?: number }): Promise<T>;
}

export interface KafkajsBroker {
  connectionPool: KafkajsConnectionPool;
  offsetCommit(request: {
    groupId: string;
    groupGenerationId: number;
    memberId: string;
    topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>;
  }): Promise<unknown>;
}

export interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  refreshMetadata(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(args: { nodeId: number | string }): Promise<KafkajsBroker>;
  findGroupCoordinator(args: { groupId: string }): Promise<KafkajsBroker>;
}

/** A cluster of the client's configuration (brokers, TLS, SASL, retry, logging). */
export function clusterOf(kafka: Kafka): KafkajsCluster {
  const factory = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  const create = factory === undefined ? undefined : (kafka as unknown as Record<symbol, unknown>)[factory];
  if (typeof create !== 'function') {
    throw new StreamError('NOT_IMPLEMENTED', 'this kafkajs version does not build clusters as 2.2.4 does; install kafkajs 2.2.4');
  }
  return (create as (o: object) => KafkajsCluster)({ allowAutoTopicCreation: false, metadataMaxAge: 300_000 });
}

type FetchV11Builder = (args: {
  replicaId: number;
  maxWaitTime: number;
  minBytes: number;
  maxBytes: number;
  isolationLevel: number;
  topics: Array<{ topic: string; partitions: Array<{ partition: number; fetchOffset: string; maxBytes: number }> }>;
}) => KafkajsRequest;

/** kafkajs' encoder of Fetch v11 requests; the response is read by our own parser. */
export const fetchV11Request: FetchV11Builder = require('kafkajs/src/protocol/requests/fetch/v11/request.js') as FetchV11Builder;
