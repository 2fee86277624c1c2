// Topic administration the tools and tests need: create a topic if it is missing, read its
// partitions' end offsets.

import type { Admin } from 'kafkajs';

export interface TopicState {
  created: boolean;
  partitions: number;
}

/** Creates `topic` with `partitions` partitions unless it exists; an existing topic is kept as is. */
export async function ensureTopic(admin: Admin, topic: string, partitions: number): Promise<TopicState> {
  const existing = await admin.fetchTopicMetadata({ topics: [] }).then((m) => m.topics.find((t) => t.name === topic));
  if (existing) return { created: false, partitions: existing.partitions.length };
  // createTopics resolves false when another client created it first: both outcomes are fine.
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  return { created: true, partitions: meta.topics[0]?.partitions.length ?? partitions };
}

/** Next offset to be written, per partition. */
export async function endOffsets(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
}
