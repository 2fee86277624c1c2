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
  // Not kafkajs' waitForLeaders: on a broker just started, its metadata question may be answered
  // UNKNOWN_TOPIC_OR_PARTITION for the new topic, which it does not ask again on, and it fails.
  // ListOffsets is answered only by a broker that hosts each partition, and topicOffsets asks
  // again while the answer is a retriable error, so a producer finds the topic ready after this.
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: false });
  await topicOffsets(admin, topic);
  const meta = await admin.fetchTopicMetadata({ topics: [topic] });
  return { created: true, partitions: meta.topics[0]?.partitions.length ?? partitions };
}

/**
 * `admin.fetchTopicOffsets`, asked again every half second for at most ten seconds while the error
 * is one kafkajs marks retriable: just after a broker starts, a partition may have no leader yet
 * (NOT_LEADER_FOR_PARTITION), which kafkajs' own retries do not outlast.
 */
export async function topicOffsets(admin: Admin, topic: string): Promise<Awaited<ReturnType<Admin['fetchTopicOffsets']>>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (err) {
      if (attempt >= 20 || (err as { retriable?: boolean }).retriable !== true) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** Next offset to be written, per partition. */
export async function endOffsets(admin: Admin, topic: string): Promise<Map<number, bigint>> {
  const offsets = await topicOffsets(admin, topic);
  return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
}
