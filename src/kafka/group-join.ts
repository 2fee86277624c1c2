// Joining a pipeline's consumer group by the protocol asked for, or by what the broker serves:
// `auto` takes the KIP-848 consumer protocol when the group's coordinator lists
// ConsumerGroupHeartbeat in its ApiVersions answer (Kafka 4.0 and later; a 3.x broker that has it
// only behind a feature flag does not list it), the classic protocol otherwise.

import type { Kafka } from 'kafkajs';
import { StreamError } from '../errors.js';
import { ClassicGroupMember } from './classic-group-member.js';
import { ConsumerGroupMember } from './consumer-group-member.js';
import { CONSUMER_GROUP_HEARTBEAT } from './group-heartbeat.js';
import type { GroupCluster, GroupMembership, MembershipEvents, MembershipOptions } from './group-membership.js';
import { clusterOf } from './kafkajs-cluster.js';

/** Joins `options.groupId` and resolves once the member is in the group (its first assignment may follow). */
export async function joinGroup(kafka: Kafka, options: MembershipOptions, events: MembershipEvents): Promise<GroupMembership> {
  if (options.topics.length === 0) throw new StreamError('CONFIG_INVALID', `group ${options.groupId}: no topics to subscribe to`);
  const newCluster = () => clusterOf(kafka) as GroupCluster;
  const cluster = newCluster();
  await cluster.connect();
  try {
    const protocol = options.protocol ?? 'auto';
    let chosen: 'consumer' | 'classic' = protocol === 'auto' ? 'classic' : protocol;
    const coordinator = await cluster.findGroupCoordinator({ groupId: options.groupId });
    const range = coordinator.versions?.[CONSUMER_GROUP_HEARTBEAT];
    if (protocol === 'auto' && range !== undefined) chosen = 'consumer';
    if (chosen === 'consumer' && range === undefined) {
      throw new StreamError('CONFIG_INVALID', `group ${options.groupId}: the broker does not serve the consumer group protocol (KIP-848, Kafka 4.0 and later); set the protocol to classic or auto`);
    }
    const member =
      chosen === 'consumer'
        ? new ConsumerGroupMember(cluster, newCluster, options, events, range!.maxVersion >= 1 ? 1 : 0)
        : new ClassicGroupMember(cluster, newCluster, options, events);
    await member.start();
    return member;
  } catch (err) {
    await cluster.disconnect().catch(() => {});
    throw err;
  }
}

