// The fence that keeps a zombie out of a table: a commit for Kafka partitions claimed by several
// processes (partition-claims.ts) names, per partition, the ownership epoch it claimed and the
// offset its range begins at, and every attempt checks both against the head it builds on.
//
// Hazards:
// - The check is only as good as the head it reads: it holds at the swap because the catalog's
//   compare-and-swap refuses a commit whose head moved, and a claim always moves `main` (it is a
//   snapshot, not a property change alone: a REST catalog checks nothing else for properties).
// - Contiguity, not "≥": a range must begin exactly at the table's next offset. A "≥" filter
//   over a value that can move backwards lets old work land twice (the Kafka Connect sink's
//   apache/iceberg#16282).
// - A fenced verdict proves that no attempt of the commit landed or can land: each attempt was
//   built on a head where its epochs held, and a claim has since moved the head on (never back),
//   so the caller may delete the commit's files. Its landed attempts were looked for first (by
//   commit id, commit.ts), so a commit that landed before a rival's claim is never taken for a
//   fenced one.

import { StreamError } from '../errors.js';
import type { ClaimedRange } from './catalog.js';
import type { TableMetadata } from './metadata.js';
import type { PartitionPositions } from './snapshot-offsets.js';
import { EPOCH_KEY, committedPosition, decodePositions } from './snapshot-offsets.js';

/** The topic's partition positions in the table (its position property, or newest summary). */
export function tablePositions(m: TableMetadata, positionKey: string, topic: string): PartitionPositions {
  const position = committedPosition(m, positionKey, EPOCH_KEY);
  return position ? decodePositions(topic, position.offsets) : new Map();
}

/** A partition that another process claimed since this one did. */
export interface FencedPartition {
  partition: number;
  /** The epoch this process claimed it at. */
  claimed: number;
  /** The table's epoch for it now, and who holds it (null: nobody). */
  epoch: number;
  owner: string | null;
}

/**
 * Throws PARTITION_FENCED naming every partition of `ranges` whose epoch or owner in `base` is
 * no longer the claimed one, or COMMIT_FAILED (retryable: restart from the table's position)
 * for one still held whose range does not begin at the table's next offset.
 */
export function checkPartitionEpochs(table: string, base: TableMetadata, r: { positionKey: string; topic: string; owner: string; partitions: readonly ClaimedRange[] }): void {
  const positions = tablePositions(base, r.positionKey, r.topic);
  const fenced: FencedPartition[] = [];
  const gaps: string[] = [];
  for (const range of r.partitions) {
    const at = positions.get(range.partition);
    if (!at || at.epoch !== range.epoch || at.owner !== r.owner) {
      fenced.push({ partition: range.partition, claimed: range.epoch, epoch: at?.epoch ?? 0, owner: at?.owner ?? null });
    } else if (at.next !== range.first) {
      gaps.push(`partition ${range.partition} begins at offset ${range.first}, the table's next offset is ${at.next}`);
    }
  }
  if (fenced.length > 0) {
    const each = fenced.map((f) => `partition ${f.partition} (claimed at epoch ${f.claimed}; the table's epoch is ${f.epoch}, ${f.owner === null ? 'unclaimed' : `held by ${f.owner}`})`);
    throw new StreamError(
      'PARTITION_FENCED',
      `${table}: topic ${r.topic}: ${each.join(', ')} ${fenced.length === 1 ? 'was' : 'were'} claimed by another process since ${r.owner} claimed ${fenced.length === 1 ? 'it' : 'them'}. ` +
        `Nothing of this commit landed or can land: drop what is buffered for ${fenced.length === 1 ? 'that partition' : 'those partitions'} and commit the others without them`,
      {
        retryable: false,
        details: { table, topic: r.topic, owner: r.owner, partitions: fenced.map((f) => f.partition), fenced: fenced.map((f) => ({ ...f })) },
      },
    );
  }
  if (gaps.length > 0) {
    // Held but not contiguous: this owner's idea of what it committed is wrong (an answer lost
    // and the snapshot that would show it expired, or a bug). The table is the truth: claim again.
    throw new StreamError('COMMIT_FAILED', `${table}: topic ${r.topic}: ${gaps.join('; ')} (held by ${r.owner}); restarting from the table's position`, {
      retryable: true,
      details: { table, topic: r.topic, owner: r.owner, requirement: 'assert-partition-epochs' },
    });
  }
}
