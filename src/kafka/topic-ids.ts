// Topic ids by name: the KIP-848 group APIs name topics by id, kafkajs' metadata (v6) has none.
// A Metadata request, version 12 (flexible; Kafka 3.1 and later), asks for the named topics:
//
// Request:  topics [topic_id UUID, name STRING?]?, allow_auto_topic_creation BOOL,
//           include_topic_authorized_operations BOOL
// Response: throttle_time_ms INT32, brokers [node_id INT32, host STRING, port INT32, rack STRING?],
//           cluster_id STRING?, controller_id INT32,
//           topics [error_code INT16, name STRING?, topic_id UUID, is_internal BOOL,
//             partitions [error_code INT16, partition_index INT32, leader_id INT32,
//               leader_epoch INT32, replica_nodes [INT32], isr_nodes [INT32],
//               offline_replicas [INT32]],
//             topic_authorized_operations INT32]

import { StreamError } from '../errors.js';
import { FlexibleReader, FlexibleWriter, flexibleRequest } from './flexible-encoding.js';
import type { KafkajsBroker } from './kafkajs-cluster.js';

const METADATA = 3;
const UNKNOWN_TOPIC_OR_PARTITION = 3;

export interface TopicId {
  name: string;
  /** 32 hex digits. */
  id: string;
  partitions: number;
}

export function parseMetadataV12(payload: Uint8Array): TopicId[] {
  const r = new FlexibleReader(payload, 'Metadata response');
  r.tags();
  r.int32(); // throttle_time_ms
  r.array((r) => {
    r.int32();
    r.string();
    r.int32();
    r.string();
    r.tags();
  });
  r.string(); // cluster_id
  r.int32(); // controller_id
  const topics =
    r.array((r) => {
      const errorCode = r.int16();
      const name = r.string() ?? '';
      const id = r.uuid();
      r.bool();
      const partitions =
        r.array((r) => {
          r.int16();
          const index = r.int32();
          r.int32();
          r.int32();
          for (let i = 0; i < 3; i++) r.array((r) => r.int32());
          r.tags();
          return index;
        }) ?? [];
      r.int32();
      r.tags();
      return { errorCode, name, id, partitions: partitions.length };
    }) ?? [];
  r.tags();
  for (const t of topics) {
    if (t.errorCode === UNKNOWN_TOPIC_OR_PARTITION) {
      throw new StreamError('KAFKA_TOPIC_MISSING', `topic ${t.name} is unknown to the broker: create it before joining its group`, { details: { topic: t.name } });
    }
    if (t.errorCode !== 0) throw new StreamError('KAFKA_PROTOCOL', `metadata of topic ${t.name} failed with error code ${t.errorCode}`, { details: { topic: t.name } });
  }
  return topics.map(({ name, id, partitions }) => ({ name, id, partitions }));
}

/** The ids of `names`, asked of `broker`; a topic the broker does not know is KAFKA_TOPIC_MISSING. */
export async function topicIds(broker: KafkajsBroker, names: readonly string[]): Promise<TopicId[]> {
  const body = new FlexibleWriter()
    .array(names, (w, name) => w.uuid('0'.repeat(32)).string(name).tags())
    .bool(false)
    .bool(false)
    .tags()
    .bytes();
  return broker.connectionPool.send<TopicId[]>({
    request: flexibleRequest(METADATA, 12, 'Metadata', body),
    response: {
      decode: async (payload) => ({ clientSideThrottleTime: 0, value: parseMetadataV12(payload) }),
      parse: async (decoded) => decoded.value,
    },
  });
}
