// The Kafka positions a pipeline stores in each Iceberg snapshot summary it commits: the key
// `kafka.offsets.<group-id>` holds `{"<topic>":{"<partition>":<next offset>,...}}` and
// `streamberg.epoch` the checkpoint epoch. The snapshot is the truth about what is in the table:
// at start a pipeline walks the table's ancestry back to the newest snapshot with its key, so
// snapshots by other writers (compaction, another job) are skipped, not trusted.
//
// With several processes on one pipeline a partition's entry may instead be an object,
// `{"next":<next offset>,"epoch":<ownership epoch>,"owner":"<process id>"}`: who may commit
// the partition, raised by every claim (partition-claims.ts). A bare number is the form a
// single process writes and tables written before ownership hold: ownership epoch 0, no owner.

import { StreamError } from '../errors.js';
import type { TableMetadata } from './metadata.js';
import { latestSnapshotWithSummaryKey } from './metadata.js';

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

/** The next offset of each of the topic's partitions, whichever form its entry has. */
export function decodeOffsets(topic: string, text: string): PartitionOffsets {
  const out: PartitionOffsets = new Map();
  for (const [p, position] of decodePositions(topic, text)) out.set(p, position.next);
  return out;
}

/** A partition's entry in a position: its next offset and who may commit it. */
export interface PartitionPosition {
  next: bigint;
  /** Raised by every claim; 0 for a partition never claimed (a single process owns it implicitly). */
  epoch: number;
  /** The process that claimed it at `epoch`; undefined when unclaimed. */
  owner: string | undefined;
}

export type PartitionPositions = Map<number, PartitionPosition>;

const isOffset = (o: unknown): o is number | string => (typeof o === 'number' || typeof o === 'string') && /^\d+$/.test(String(o));

/** The topic's partitions in an offsets JSON, in either form (a number, or next/epoch/owner). */
export function decodePositions(topic: string, text: string): PartitionPositions {
  const forTopic = topicEntries(topic, text);
  const out: PartitionPositions = new Map();
  for (const [p, o] of Object.entries(forTopic ?? {})) {
    if (/^\d+$/.test(p) && isOffset(o)) {
      out.set(Number(p), { next: BigInt(o), epoch: 0, owner: undefined });
      continue;
    }
    const e = o as { next?: unknown; epoch?: unknown; owner?: unknown } | null;
    const owned = /^\d+$/.test(p) && e !== null && typeof e === 'object' && !Array.isArray(e) && isOffset(e.next);
    if (!owned || !Number.isSafeInteger(e.epoch) || (e.epoch as number) < 0 || (e.owner !== undefined && typeof e.owner !== 'string')) {
      throw new StreamError(
        'METADATA_INVALID',
        `snapshot summary offset ${topic}[${p}] = ${JSON.stringify(o)?.slice(0, 100)} is not a partition → offset pair nor {"next":<offset>,"epoch":<n>,"owner":"<process>"}`,
      );
    }
    out.set(Number(p), { next: BigInt(e.next as number | string), epoch: e.epoch as number, owner: e.owner as string | undefined });
  }
  return out;
}

function topicEntries(topic: string, text: string): Record<string, unknown> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new StreamError('METADATA_INVALID', `snapshot summary offsets are not JSON: ${text.slice(0, 100)}`, { cause: err });
  }
  const forTopic = (parsed as Record<string, unknown> | null)?.[topic];
  if (forTopic === undefined) return undefined;
  if (forTopic === null || typeof forTopic !== 'object' || Array.isArray(forTopic)) {
    throw new StreamError('METADATA_INVALID', `snapshot summary offsets for ${topic} are not an object: ${text.slice(0, 100)}`);
  }
  return forTopic as Record<string, unknown>;
}

const offsetJson = (o: bigint): number | string => (o <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(o) : o.toString());

/**
 * `previous` (an offsets JSON, or undefined) with the topic's partitions replaced by
 * `positions`, other topics kept as they were. Unclaimed partitions keep the bare-number form,
 * so a table no process ever claimed reads as before.
 */
export function encodePositions(topic: string, positions: PartitionPositions, previous?: string): string {
  const parsed: unknown = previous === undefined ? undefined : JSON.parse(previous);
  const all: Record<string, unknown> = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? { ...(parsed as Record<string, unknown>) } : {};
  const byPartition: Record<string, unknown> = {};
  for (const [p, x] of [...positions].sort((a, b) => a[0] - b[0])) {
    byPartition[String(p)] = x.epoch === 0 && x.owner === undefined ? offsetJson(x.next) : { next: offsetJson(x.next), epoch: x.epoch, ...(x.owner !== undefined ? { owner: x.owner } : {}) };
  }
  all[topic] = byPartition;
  return JSON.stringify(all);
}

// Where the position survives maintenance: snapshot expiry (pyiceberg's, Spark's, S3 Tables'
// managed one) removes snapshots, and with them their summaries, once another writer has
// committed after the pipeline's last one. Table properties are carried into every metadata
// version by every writer and no expiry touches them, so each commit also sets the property
// `streamberg.<offsets key>` (e.g. `streamberg.kafka.offsets.<group-id>`) to
// `{"epoch":N,"offsets":{"<topic>":{"<partition>":<next offset>}}}`, in the same atomic commit
// as the data. The summary stays too: other tools read it, and tables written before the
// property existed have nothing else.

/** The table property that holds a writer's position, beside its summary key. */
export function positionProperty(summaryKey: string): string {
  return `streamberg.${summaryKey}`;
}

/**
 * The table property an operator sets to restart a group from Kafka instead of a lost position:
 * `streamberg.kafka.reset.<group-id>` = `earliest-offset` or `latest-offset`. The runtime removes
 * it in the commit that records the new start position, so it acts once.
 */
export function resetProperty(groupId: string): string {
  return `streamberg.kafka.reset.${groupId}`;
}

export const RESET_MODES = ['earliest-offset', 'latest-offset'] as const;
export type ResetMode = (typeof RESET_MODES)[number];

export function encodePosition(epoch: number, offsetsJson: string): string {
  return `{"epoch":${epoch},"offsets":${offsetsJson}}`;
}

export interface CommittedPosition {
  epoch: number;
  /** `{"<topic>":{"<partition>":<offset>}}`, as `decodeOffsets` reads it. */
  offsets: string;
  from: 'table-property' | 'snapshot-summary';
}

function fromProperty(m: TableMetadata, summaryKey: string, epochKey: string): CommittedPosition | undefined {
  const key = positionProperty(summaryKey);
  const text = m.properties[key];
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new StreamError('METADATA_INVALID', `table ${m.location}: property ${key} is not JSON: ${text.slice(0, 100)}`, { cause: err, details: { property: key } });
  }
  const p = parsed as { epoch?: unknown; offsets?: unknown } | null;
  if (!p || typeof p !== 'object' || !Number.isSafeInteger(p.epoch) || !p.offsets || typeof p.offsets !== 'object') {
    throw new StreamError(
      'METADATA_INVALID',
      `table ${m.location}: property ${key} is ${text.slice(0, 100)}; expected {"epoch":<n>,"offsets":{"<topic>":{"<partition>":<offset>}}} (the ${epochKey} and offsets the pipeline committed last)`,
      { details: { property: key } },
    );
  }
  return { epoch: p.epoch as number, offsets: JSON.stringify(p.offsets), from: 'table-property' };
}

/**
 * The position a writer committed last: the table property, or the newest snapshot on `main`
 * carrying `summaryKey`, whichever has the higher epoch (a runtime from before the property
 * may have committed after one that set it).
 */
export function committedPosition(m: TableMetadata, summaryKey: string, epochKey: string = EPOCH_KEY): CommittedPosition | undefined {
  const property = fromProperty(m, summaryKey, epochKey);
  const s = latestSnapshotWithSummaryKey(m, summaryKey);
  const summary: CommittedPosition | undefined = s ? { epoch: Number(s.summary[epochKey] ?? 0), offsets: s.summary[summaryKey]!, from: 'snapshot-summary' } : undefined;
  if (property && summary) return summary.epoch > property.epoch ? summary : property;
  return property ?? summary;
}

/** Whether any snapshot the table still holds carries `summaryKey`, on `main` or not. */
export function hasSummaryKeyAnywhere(m: TableMetadata, summaryKey: string): boolean {
  return m.snapshots.some((s) => Object.prototype.hasOwnProperty.call(s.summary, summaryKey));
}
