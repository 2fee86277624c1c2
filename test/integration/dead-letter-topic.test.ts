// Dead letters sent to a Kafka topic, read back from the real broker by kcat: the headers that
// locate each letter's source record must name it exactly, its timestamp in milliseconds as the
// header's name says.

import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client.js';
import { ensureTopic } from '../../src/kafka/topics.js';
import { ensureBuilt } from '../helpers/build.js';
import { BOOTSTRAP, ensureKafka, uniqueTopic } from '../helpers/kafka.js';
import { ensurePythonEnv } from '../helpers/python.js';
import { readTable, runToExit, runtimeProject } from '../helpers/runtime.js';

beforeAll(() => {
  ensureBuilt();
  ensureKafka();
  ensurePythonEnv();
}, 900_000);

/** kcat's view of a topic: one entry per record, its headers parsed. */
function consume(topic: string): Array<{ partition: number; offset: number; timestamp: number; headers: Record<string, string>; value: string }> {
  const out = execFileSync('kcat', ['-b', BOOTSTRAP, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p\x1f%o\x1f%T\x1f%h\x1f%s\x1e'], { encoding: 'utf8', timeout: 60_000 });
  return out
    .split('\x1e')
    .filter((x) => x !== '')
    .map((x) => {
      const [partition, offset, timestamp, headers, value] = x.split('\x1f') as [string, string, string, string, string];
      const h = Object.fromEntries(headers.split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
      return { partition: Number(partition), offset: Number(offset), timestamp: Number(timestamp), headers: h, value };
    });
}

describe('the dead-letter topic', () => {
  it("carries each source record's topic, partition, offset and timestamp in milliseconds", async () => {
    const dlqTopic = uniqueTopic('dlq-ts');
    const p = runtimeProject({ bidDeadLetterTopic: dlqTopic });
    // Timestamps set by the producer, apart by more than a second and with milliseconds, so a
    // header in seconds, or rounded to them, differs from every one. Recent ones: the broker's
    // time-based retention (7 days) would delete records stamped years ago.
    const second = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    const stamps = [second + 123, second + 7_456, second + 21_789];
    const kafka = createKafka(p.config.kafka);
    const admin = kafka.admin();
    await admin.connect();
    for (const t of [p.bid, p.user, dlqTopic]) await ensureTopic(admin, t, 1);
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: p.bid,
      messages: [
        { value: 'not json', timestamp: String(stamps[0]) },
        { value: '{"event_name":"ok","user_id":1,"timestamp_ms":1733339000000}', timestamp: String(stamps[1]) },
        { value: '{"event_name":"bad","user_id":"one"}', timestamp: String(stamps[2]) },
      ],
    });
    await producer.send({ topic: p.user, messages: [{ value: '{"event_type":"view","user_id":1,"timestamp_ms":1733339000000}' }] });
    await producer.disconnect();

    const run = await runToExit(p, ['--bounded', '--metrics-port', '0']);
    expect(run.code, run.output).toBe(0);

    const source = consume(p.bid);
    expect(source.map((r) => r.timestamp)).toEqual(stamps);
    const letters = consume(dlqTopic);
    expect(letters.map((l) => l.value)).toEqual(['not json', '{"event_name":"bad","user_id":"one"}']);
    for (const l of letters) {
      const from = source.find((r) => r.partition === Number(l.headers['dlq-source-partition']) && r.offset === Number(l.headers['dlq-source-offset']))!;
      expect(l.headers['dlq-source-topic']).toBe(p.bid);
      expect(from.value).toBe(l.value);
      expect(l.headers['dlq-source-timestamp-ms']).toBe(String(from.timestamp));
    }
    expect((await readTable(p, 'parsed_events', ['event_name'])).rows).toEqual([{ event_name: 'ok' }]);
  }, 240_000);
});
