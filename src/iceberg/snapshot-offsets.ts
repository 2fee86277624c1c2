// The Kafka positions a pipeline stores in each Iceberg snapshot summary it commits: the key
// `kafka.offsets.<group-id>` holds `{"<topic>":{"<partition>":<next offset>,...}}` and
// `streamberg.epoch` the checkpoint epoch. The snapshot is the truth about what is in the table:
// at start a pipeline walks the table's ancestry back to the newest snapshot with its key, so
// snapshots by other writers (compaction, another job) are skipped, not trusted.

import { StreamError } from '../errors.js';

export const EPOCH_KEY = 'streamberg.epoch';

export function offsetsKey(groupId: string): string {
  return `kafka.offsets.${groupId}`;
}

export type PartitionOffsets = Map<number, bigint>;

export function encodeOffsets(topic: string, offsets: PartitionOffsets): string {
  const byPartition: Record<string, number | string> = {};
  for (const [p, o] of [...offsets].sort((a, b) => a[0] - b[0])) {
    // JSON numbers are exact to 2^53; larger offsets (never seen in practice) are kept as strings.
    byPartition[String(p)] = o <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(o) : o.toString();
  }
  return JSON.stringify({ [topic]: byPartition });
}

export function decodeOffsets(topic: string, text: string): PartitionOffsets {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new StreamError('METADATA_INVALID', `snapshot summary offsets are not JSON: ${text.slice(0, 100)}`, { cause: err });
  }
  const forTopic = (parsed as Record<string, unknown> | null)?.[topic];
  const out: PartitionOffsets = new Map();
  if (forTopic === undefined) return out;
  if (forTopic === null || typeof forTopic !== 'object' || Array.isArray(forTopic)) {
    throw new StreamError('METADATA_INVALID', `snapshot summary offsets for ${topic} are not an object: ${text.slice(0, 100)}`);
  }
  for (const [p, o] of Object.entries(forTopic)) {
    if (!/^\d+$/.test(p) || (typeof o !== 'number' && typeof o !== 'string') || !/^\d+$/.test(String(o))) {
      throw new StreamError('METADATA_INVALID', `snapshot summary offset ${topic}[${p}] = ${String(o)} is not a partition → offset pair`);
    }
    out.set(Number(p), BigInt(o));
  }
  return out;
}
