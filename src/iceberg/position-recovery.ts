// Where a pipeline resumes, read from its table: the position it committed last (its table
// property, or its newest snapshot summary on `main`; snapshot-offsets.ts), or an operator's
// request to start again from Kafka.
//
// Hazard: "no position found" must not be read as "new pipeline". A table whose snapshots were
// expired by maintenance, whose position property was removed, or which holds this group's
// position for another topic, would otherwise silently start by `scan_mode`: the whole topic
// again with `earliest-offset` (duplicates), or a gap with `latest-offset`. Only a table that
// shows nothing of the group starts by `scan_mode`; one that shows its history and no position
// for the topic fails with POSITION_LOST, naming the table, the group and the ways to proceed.
// What the table can show: the group's position property (for another topic), or a snapshot
// of the group that is no longer on `main` (a rollback, a branch). A table written before the
// property existed, whose snapshots of the group were all expired, shows nothing (README).

import { StreamError } from '../errors.js';
import type { LoadedTable } from './catalog.js';
import type { CommittedPosition, PartitionOffsets, ResetMode } from './snapshot-offsets.js';
import { RESET_MODES, committedPosition, decodeOffsets, hasSummaryKeyAnywhere, offsetsKey, positionProperty, resetProperty } from './snapshot-offsets.js';

export interface FoundPosition {
  /** The group's last committed position, for any topic. */
  position: CommittedPosition | undefined;
  /** Its offsets for this topic; undefined when the table holds none. */
  offsets: PartitionOffsets | undefined;
  /** The operator's reset request, if the table carries one. */
  reset: ResetMode | undefined;
  /** The property that carries such a request. */
  resetProperty: string;
}

/**
 * The position of `groupId` reading `topic` in `table`. Throws POSITION_LOST when the table
 * shows the group's history but no position for the topic and no reset was asked for, unless
 * `lenient` (a dead-letter table, whose position only saves re-sending dead letters).
 */
export function recoverPosition(table: LoadedTable, topic: string, groupId: string, options: { lenient?: boolean } = {}): FoundPosition {
  const m = table.metadata;
  const name = `${table.ident.namespace}.${table.ident.name}`;
  const key = offsetsKey(groupId);
  const resetKey = resetProperty(groupId);
  const resetText = m.properties[resetKey];
  if (resetText !== undefined && !(RESET_MODES as readonly string[]).includes(resetText)) {
    throw new StreamError('CONFIG_INVALID', `table ${name}: property ${resetKey} is "${resetText.slice(0, 100)}"; accepted: ${RESET_MODES.join(', ')}`, {
      details: { table: name, property: resetKey },
    });
  }
  const reset = resetText as ResetMode | undefined;
  const position = committedPosition(m, key);
  const decoded = position ? decodeOffsets(topic, position.offsets) : undefined;
  const offsets = decoded && decoded.size > 0 ? decoded : undefined;
  const history = position !== undefined || hasSummaryKeyAnywhere(m, key);
  if (history && !offsets && !reset && !options.lenient) {
    const seen = position
      ? `its position (${position.from === 'table-property' ? `table property ${positionProperty(key)}` : `snapshot summary ${key}`}) holds no offsets for topic ${topic}`
      : `snapshots of the group remain off the main branch, but none on it and no table property ${positionProperty(key)}`;
    throw new StreamError(
      'POSITION_LOST',
      `table ${name} shows the history of consumer group ${groupId}, but ${seen}. Starting by scan_mode could read the topic again (duplicates) or skip what it holds (a gap). ` +
        `To proceed, set the table property ${resetKey} to earliest-offset or latest-offset (the next start begins there and removes the property), ` +
        `or set ${positionProperty(key)} to {"epoch":<n>,"offsets":{"${topic}":{"<partition>":<next offset>}}}; see README, "Resetting a pipeline's position"`,
      { details: { table: name, group: groupId, topic } },
    );
  }
  return { position, offsets, reset, resetProperty: resetKey };
}
