// How the fetch loop reads what a broker answers about a partition: Kafka's partition error codes
// (Kafka protocol guide, "Error Codes"), and the ways a broker says it does not know the topic —
// a Fetch error code, a kafkajs metadata refresh that throws, or metadata with no leader at all.

import { StreamError } from '../errors.js';

/** Error codes that mean "metadata moved, ask again". */
export const RETRY_AFTER_METADATA = new Map<number, string>([
  [3, 'UNKNOWN_TOPIC_OR_PARTITION'],
  [5, 'LEADER_NOT_AVAILABLE'],
  [6, 'NOT_LEADER_OR_FOLLOWER'],
  [56, 'KAFKA_STORAGE_ERROR'],
  [74, 'FENCED_LEADER_EPOCH'],
  [75, 'UNKNOWN_LEADER_EPOCH'],
  [78, 'OFFSET_NOT_AVAILABLE'],
  [100, 'UNKNOWN_TOPIC_ID'],
]);

/** Of those, the ones that say the broker does not know the topic (or that partition of it). */
export const TOPIC_UNKNOWN = new Set([3, 100]);
const TOPIC_UNKNOWN_TYPES = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_ID']);

export const OFFSET_OUT_OF_RANGE = 1;

/**
 * KAFKA_TOPIC_MISSING for a kafkajs error whose `type` (the broker's error, by name) says the
 * topic is unknown — what a metadata refresh throws once a topic is deleted; undefined otherwise.
 */
export function topicMissing(topic: string, err: unknown, cause: StreamError): StreamError | undefined {
  const type = (err as { type?: unknown } | undefined)?.type;
  if (typeof type !== 'string' || !TOPIC_UNKNOWN_TYPES.has(type)) return undefined;
  return new StreamError('KAFKA_TOPIC_MISSING', `topic ${topic} is unknown to the broker (${type}): it was deleted, or this is not the cluster that holds it`, {
    cause,
    details: { topic },
  });
}

/** The partitions of `asked` that no leader was found for. */
export function leaderless(leaders: Record<string, number[]>, asked: readonly number[]): number[] {
  const led = new Set(Object.values(leaders).flat());
  return asked.filter((p) => !led.has(p));
}
