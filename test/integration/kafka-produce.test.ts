// The project's producer against a real broker, read back by an independent client (kcat).

import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { sampleRecord } from '../../src/tools/sample-events.js';
import { ROOT, ensureBuilt } from '../helpers/build.js';
import { BOOTSTRAP, ensureKafka, uniqueTopic } from '../helpers/kafka.js';
import { SHIPPED_TOPICS, tempProject } from '../helpers/project.js';

interface Consumed {
  partition: number;
  offset: number;
  key: string;
  headers: Record<string, string>;
  value: string;
}

/** Every record of the topic, through kcat, with partition, offset, key and headers. */
function kcatAll(topic: string): Consumed[] {
  // \x1f and \x1e cannot appear in the JSON or keys, so they delimit fields and records safely.
  const out = execFileSync('kcat', ['-b', BOOTSTRAP, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p\x1f%o\x1f%k\x1f%h\x1f%s\x1e'], {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  return out
    .split('\x1e')
    .filter((r) => r !== '')
    .map((r) => {
      const [p, o, key, h, value] = r.split('\x1f');
      const headers = Object.fromEntries(h!.split(',').map((kv) => kv.split('=') as [string, string]));
      return { partition: Number(p), offset: Number(o), key: key!, headers, value: value! };
    });
}

function produce(configDir: string, args: string[]) {
  return spawnSync(process.execPath, [path.join(ROOT, 'dist/src/tools/produce.js'), '--config', configDir, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, KAFKA_BOOTSTRAP_SERVERS: BOOTSTRAP },
  });
}

function configFor(topic: string): string {
  return tempProject({ topics: SHIPPED_TOPICS.replace('  bid-events:\n', `  ${topic}:\n`) });
}

beforeAll(() => {
  ensureBuilt();
  ensureKafka();
}, 300_000);

describe('npm run produce against a real broker', () => {
  it('writes exactly the generated records, once each, in contiguous offsets', () => {
    const topic = uniqueTopic('it-bid');
    const dir = configFor(topic);
    const r = produce(dir, ['--topic', topic, '--count', '2500', '--partitions', '3', '--malformed-ratio', '0.1', '--seed', '11']);
    expect(r.stderr).not.toMatch(/"level":"error"/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${topic}: produced 2500 records \\(\\d+ valid, \\d+ bad-json, \\d+ wrong-type, \\d+ missing-field\\) to 3 partition\\(s\\), topic created`));

    const consumed = kcatAll(topic);
    expect(consumed).toHaveLength(2500);
    const schema = loadConfig({ configDir: dir, env: {} }).config.pipelines.find((p) => p.topic === topic)!.sourceSchema;
    const seen = new Set<number>();
    for (const c of consumed) {
      const index = Number(c.headers['sample-index']);
      expect(seen.has(index)).toBe(false);
      seen.add(index);
      const expected = sampleRecord(schema, index, { seed: 11, malformedRatio: 0.1 });
      expect(c.value).toBe(expected.value);
      expect(c.key).toBe(expected.key);
      expect(c.headers['sample-kind']).toBe(expected.kind);
    }
    expect(seen.size).toBe(2500);

    // Offsets per partition are 0..n-1, and records keep their generation order within a partition.
    const byPartition = new Map<number, Consumed[]>();
    for (const c of consumed) byPartition.set(c.partition, [...(byPartition.get(c.partition) ?? []), c]);
    expect([...byPartition.keys()].sort()).toEqual([0, 1, 2]);
    for (const records of byPartition.values()) {
      expect(records.map((c) => c.offset)).toEqual(records.map((_, i) => i));
      const indexes = records.map((c) => Number(c.headers['sample-index']));
      expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
    }
    // The summary's end offsets add up to what kcat read.
    const ends = /end offsets ((?:\d+:\d+ ?)+)/.exec(r.stdout)![1]!.trim().split(' ');
    expect(ends.reduce((sum, e) => sum + Number(e.split(':')[1]), 0)).toBe(2500);
  });

  it('continues an earlier run with --start-index and keeps an existing topic', () => {
    const topic = uniqueTopic('it-bid');
    const dir = configFor(topic);
    expect(produce(dir, ['--topic', topic, '--count', '100', '--partitions', '2']).status).toBe(0);
    const second = produce(dir, ['--topic', topic, '--count', '50', '--start-index', '100', '--partitions', '5']);
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('to 2 partition(s) in');
    const indexes = kcatAll(topic).map((c) => Number(c.headers['sample-index'])).sort((a, b) => a - b);
    expect(indexes).toEqual(Array.from({ length: 150 }, (_, i) => i));
  });

  it('with --fill tops the topic up to the count and adds nothing when re-run', () => {
    const topic = uniqueTopic('it-bid');
    const dir = configFor(topic);
    expect(produce(dir, ['--topic', topic, '--count', '40', '--fill']).status).toBe(0);
    expect(produce(dir, ['--topic', topic, '--count', '100', '--fill']).stdout).toMatch(/produced 60 records/);
    expect(produce(dir, ['--topic', topic, '--count', '100', '--fill']).stdout).toMatch(/produced 0 records/);
    const indexes = kcatAll(topic).map((c) => Number(c.headers['sample-index'])).sort((a, b) => a - b);
    expect(indexes).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('refuses a topic that is not in the configuration, naming the ones that are', () => {
    const r = produce(configFor('it-x'), ['--topic', 'nope', '--count', '1']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--topic: found "nope"; expected one of it-x, user-events/);
  });
});
