// The flexible encoding of ConsumerGroupHeartbeat and Metadata v12, byte for byte against the
// layouts in the broker's message definitions.

import { describe, expect, it } from 'vitest';
import { StreamError } from '../../src/errors.js';
import { heartbeatRequest, parseHeartbeatResponse } from '../../src/kafka/group-heartbeat.js';
import { parseMetadataV12 } from '../../src/kafka/topic-ids.js';

const ID = '00112233445566778899aabbccddeeff';
const idBytes = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff];
const str = (s: string) => [s.length + 1, ...Buffer.from(s)];
const int32 = (v: number) => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];

async function bytesOf(r: ReturnType<typeof heartbeatRequest>): Promise<number[]> {
  const e = (await r.encode()) as { buffer: Buffer };
  return [...e.buffer];
}

describe('ConsumerGroupHeartbeat request', () => {
  it('encodes a v1 join: header tags, compact strings, nulls, the subscription and an empty owned list', async () => {
    const r = heartbeatRequest({ groupId: 'g', memberId: 'm', memberEpoch: 0, rebalanceTimeoutMs: 1000, subscribedTopicNames: ['t'], topicPartitions: [] }, 1);
    expect(r.apiKey).toBe(68);
    expect(r.apiVersion).toBe(1);
    expect(await bytesOf(r)).toEqual([0, ...str('g'), ...str('m'), ...int32(0), 0, 0, ...int32(1000), 2, ...str('t'), 0, 0, 1, 0]);
  });

  it('encodes a v0 heartbeat with owned partitions by topic id, and no regex field', async () => {
    const r = heartbeatRequest({ groupId: 'g', memberId: 'm', memberEpoch: 7, rebalanceTimeoutMs: -1, subscribedTopicNames: null, topicPartitions: [{ topicId: ID, partitions: [3, 5] }] }, 0);
    expect(await bytesOf(r)).toEqual([0, ...str('g'), ...str('m'), ...int32(7), 0, 0, ...int32(-1), 0, 0, 2, ...idBytes, 3, ...int32(3), ...int32(5), 0, 0]);
  });
});

describe('ConsumerGroupHeartbeat response', () => {
  it('reads an assignment, skipping tagged fields wherever they are', () => {
    const payload = Uint8Array.from([
      1, 9, 2, 0xab, 0xcd, // header tags: one field (tag 9, 2 bytes) to skip
      ...int32(0), 0, 0, 0, ...str('member-1'), ...int32(4), ...int32(1500),
      1, 2, ...idBytes, 3, ...int32(0), ...int32(11), 0, 0, // assignment present, one topic
      0,
    ]);
    expect(parseHeartbeatResponse(payload)).toEqual({
      throttleTimeMs: 0, errorCode: 0, errorMessage: null, memberId: 'member-1', memberEpoch: 4, heartbeatIntervalMs: 1500,
      assignment: [{ topicId: ID, partitions: [0, 11] }],
    });
  });

  it('reads an error with its message and no assignment (null struct)', () => {
    const payload = Uint8Array.from([0, ...int32(0), 0, 110, ...str('stale epoch'), 0, ...int32(3), ...int32(0), 0xff, 0]);
    const r = parseHeartbeatResponse(payload);
    expect(r).toMatchObject({ errorCode: 110, errorMessage: 'stale epoch', memberId: null, memberEpoch: 3, assignment: null });
  });

  it('refuses a truncated response with KAFKA_PROTOCOL, saying where', () => {
    const err = (() => {
      try {
        parseHeartbeatResponse(Uint8Array.from([0, 0, 0]));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(StreamError);
    expect(err).toMatchObject({ code: 'KAFKA_PROTOCOL' });
    expect((err as Error).message).toMatch(/truncated ConsumerGroupHeartbeat response/);
  });
});

describe('Metadata v12 response', () => {
  const metadata = (errorCode: number) =>
    Uint8Array.from([
      0, ...int32(0),
      2, ...int32(1), ...str('127.0.0.1'), ...int32(9092), 0, 0, // one broker
      ...str('cluster'), ...int32(1),
      2, 0, errorCode, ...str('events'), ...idBytes, 0, // one topic
      3, 0, 0, ...int32(0), ...int32(1), ...int32(0), 2, ...int32(1), 2, ...int32(1), 1, 0, // partition 0
         0, 0, ...int32(1), ...int32(1), ...int32(0), 2, ...int32(1), 2, ...int32(1), 1, 0, // partition 1
      ...int32(-2147483648), 0,
      0,
    ]);

  it('gives each topic its id and partition count', () => {
    expect(parseMetadataV12(metadata(0))).toEqual([{ name: 'events', id: ID, partitions: 2 }]);
  });

  it('names a topic the broker does not know as KAFKA_TOPIC_MISSING', () => {
    expect(() => parseMetadataV12(metadata(3))).toThrow(expect.objectContaining({ code: 'KAFKA_TOPIC_MISSING', message: expect.stringContaining('events') }));
  });
});
