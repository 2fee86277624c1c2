// What the source does when the broker answers a fetch with OFFSET_OUT_OF_RANGE, as Kafka's own
// consumer and Flink's Kafka source do:
// - below the log start: retention (or a DeleteRecords) removed records before they were read;
//   they are gone, so reading goes on from the log start, and the lost range is logged;
// - past the end (the high watermark): the topic was deleted and recreated, or the log truncated
//   (an unclean leader election). What follows is the reset policy, which scan_mode implies as
//   Flink's initializers do (`auto.offset.reset`): `earliest` re-reads from the log start — a
//   recreated topic's new records land; `latest` goes on from the end — what was written to the
//   recreated topic before the reset is skipped, and logged;
// - inside the range: the answer was transient (a follower behind its leader, a leader that just
//   changed). Nothing is skipped; the fetch is tried again after a metadata refresh.
// Hazard: a truncated log is indistinguishable here from a recreated one. With `earliest` the
// records below the new end that were read before the truncation are read again; that is the
// price of never losing a recreated topic's records, and the log line names the range.

import type { ScanMode } from '../config/types.js';

export type OffsetResetPolicy = 'earliest' | 'latest';

/** The policy scan_mode implies, as Flink's offsets initializers set `auto.offset.reset`. */
export function resetPolicyOf(mode: ScanMode): OffsetResetPolicy {
  switch (mode) {
    case 'latest-offset':
    case 'timestamp':
      return 'latest';
    case 'earliest-offset':
    case 'group-offsets':
      return 'earliest';
  }
}

export type OutOfRangeDecision =
  /** The position is inside the log after all: fetch it again, skip nothing. */
  | { kind: 'retry' }
  /** Records below the log start are gone: continue from `to`, logged with the lost range. */
  | { kind: 'retention'; to: bigint; lostFrom: bigint; lostTo: bigint }
  /** The position is past the end: continue from `to` by the policy. */
  | { kind: 'past-end'; to: bigint; policy: OffsetResetPolicy };

/** The answer to OFFSET_OUT_OF_RANGE at `position`, given the partition's range as its leader lists it. */
export function resolveOutOfRange(position: bigint, logStart: bigint, end: bigint, policy: OffsetResetPolicy): OutOfRangeDecision {
  if (position < logStart) return { kind: 'retention', to: logStart, lostFrom: position, lostTo: logStart };
  if (position > end) return { kind: 'past-end', to: policy === 'earliest' ? logStart : end, policy };
  return { kind: 'retry' };
}
