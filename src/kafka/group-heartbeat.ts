// The ConsumerGroupHeartbeat API (key 68, KIP-848), versions 0 and 1, both flexible. From the
// broker's message definitions (ConsumerGroupHeartbeatRequest.json / Response.json):
//
// Request:  group_id STRING, member_id STRING, member_epoch INT32, instance_id STRING?,
//           rack_id STRING?, rebalance_timeout_ms INT32, subscribed_topic_names [STRING]?,
//           subscribed_topic_regex STRING? (v1+), server_assignor STRING?,
//           topic_partitions [topic_id UUID, partitions [INT32]]?   — null means "unchanged"
// Response: throttle_time_ms INT32, error_code INT16, error_message STRING?, member_id STRING?,
//           member_epoch INT32, heartbeat_interval_ms INT32,
//           assignment { topic_partitions [topic_id UUID, partitions [INT32]] }?
//
// Version 1 (Kafka 4.0) lets the member choose its own id (KIP-1082) and adds the regex; version 0
// has the broker choose the id in its first answer.

import { FlexibleReader, FlexibleWriter, flexibleRequest } from './flexible-encoding.js';
import type { KafkajsRequest } from './kafkajs-cluster.js';

export const CONSUMER_GROUP_HEARTBEAT = 68;

/** Partitions by topic id (32 hex digits), as the group APIs name topics. */
export type TopicIdPartitions = Array<{ topicId: string; partitions: number[] }>;

export interface HeartbeatRequest {
  groupId: string;
  memberId: string;
  /** 0 to join, -1 to leave, the current epoch otherwise. */
  memberEpoch: number;
  /** -1: unchanged since the last heartbeat. */
  rebalanceTimeoutMs: number;
  /** null: unchanged since the last heartbeat. */
  subscribedTopicNames: string[] | null;
  /** null: unchanged since the last heartbeat; the partitions this member owns otherwise. */
  topicPartitions: TopicIdPartitions | null;
}

export interface HeartbeatResponse {
  throttleTimeMs: number;
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  /** null: no change; the partitions the member may use now otherwise (its whole assignment). */
  assignment: TopicIdPartitions | null;
}

export function heartbeatRequest(r: HeartbeatRequest, version: 0 | 1): KafkajsRequest {
  const w = new FlexibleWriter()
    .string(r.groupId)
    .string(r.memberId)
    .int32(r.memberEpoch)
    .string(null) // instance_id: static membership is not used
    .string(null) // rack_id
    .int32(r.rebalanceTimeoutMs)
    .array(r.subscribedTopicNames, (w, name) => w.string(name));
  if (version >= 1) w.string(null); // subscribed_topic_regex
  w.string(null) // server_assignor: the broker's default (uniform)
    .array(r.topicPartitions, (w, tp) => w.uuid(tp.topicId).array(tp.partitions, (w, p) => w.int32(p)).tags())
    .tags();
  return flexibleRequest(CONSUMER_GROUP_HEARTBEAT, version, 'ConsumerGroupHeartbeat', w.bytes());
}

function topicPartitions(r: FlexibleReader): TopicIdPartitions {
  return (
    r.array((r) => {
      const topicId = r.uuid();
      const partitions = r.array((r) => r.int32()) ?? [];
      r.tags();
      return { topicId, partitions };
    }) ?? []
  );
}

/** Reads a response after its correlation id (the header's tagged fields come first). */
export function parseHeartbeatResponse(payload: Uint8Array): HeartbeatResponse {
  const r = new FlexibleReader(payload, 'ConsumerGroupHeartbeat response');
  r.tags();
  const throttleTimeMs = r.int32();
  const errorCode = r.int16();
  const errorMessage = r.string();
  const memberId = r.string();
  const memberEpoch = r.int32();
  const heartbeatIntervalMs = r.int32();
  let assignment: TopicIdPartitions | null = null;
  // A nullable struct: an INT8 marker, -1 for null, 1 for present.
  if (r.int8() >= 0) {
    assignment = topicPartitions(r);
    r.tags();
  }
  r.tags();
  return { throttleTimeMs, errorCode, errorMessage, memberId, memberEpoch, heartbeatIntervalMs, assignment };
}
