import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureBuilt } from './helpers/build.js';
import { SHIPPED_TOPICS, SHIPPED_TRANSFORMATIONS, tempProject } from './helpers/project.js';

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'dist/src/cli.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => ensureBuilt());

describe('streamberg --check', () => {
  it('prints both example pipelines of the shipped configuration and exits 0', () => {
    const r = cli(['--check']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('bid-events → bid_events_raw → analytics.parsed_events');
    expect(r.stdout).toContain('user-events → user_events_enriched → analytics.user_events_enriched');
    expect(r.stdout).toMatch(/is_mobile\s+BOOLEAN/);
    expect(r.stdout).toMatch(/event_time\s+TIMESTAMP\(3\)/);
    expect(r.stdout).toContain(`catalog: sql "local" (sqlite:///${ROOT}/warehouse/catalog.db)`);
    expect(r.stdout).toContain('parallelism 2, checkpoint every 1min');
  });

  it('applies command-line overrides', () => {
    const r = cli(['--check', '--parallelism', '3', '--checkpoint-interval', '10s', '--metrics-port', '9999']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('parallelism 3, checkpoint every 10s (EXACTLY_ONCE), metrics on :9999');
  });

  it('prints five precise errors for five mistakes and exits 2', () => {
    const broken = SHIPPED_TOPICS.replace('scan_mode: "earliest-offset"', 'scan_mode: "earliest"')
      .replace('type: "TIMESTAMP(3)"', 'type: "TIMESTAMP(3"')
      .replace('kafka_group_id: "flink-s3tables-user-events-v1"', 'kafka_group_id: 42.5x: y')
      .replace('transformation: "user_events_enriched"', 'transformation: "enrich"')
      .replace('namespace: "analytics"', 'namespace: "analytics-prod"');
    const dir = tempProject({ topics: broken.replace('kafka_group_id: 42.5x: y', 'kafka_group_id: ""') });
    const r = cli(['--check', '--config', dir]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe('5 configuration errors:');
    const errors = lines.slice(1).map((l) => l.trim());
    expect(errors).toHaveLength(5);
    for (const e of errors) expect(e).toMatch(/^\S*topics\.yaml:\d+:\d+: \S+: .+; expected .+$/);
    expect(errors.map((e) => e.split(': ')[1])).toEqual(
      expect.arrayContaining([
        'topics.bid-events.scan_mode',
        'topics.bid-events.sink.schema[5].type',
        'topics.user-events.kafka_group_id',
        'topics.user-events.transformation',
        'catalog.namespace',
      ]),
    );
  });

  it('loads and compiles the transformers too, naming the registry entry that fails', () => {
    const transformations = SHIPPED_TRANSFORMATIONS.replace('class: "UserEventsEnrichedTransformer"', 'class: "UserEventsTransformer"');
    const r = cli(['--check', '--config', tempProject({ topics: SHIPPED_TOPICS, transformations })]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^1 transformation error:\n  topics\.user-events \(transformation user_events_enriched\): transformation 'user_events_enriched' \(class UserEventsTransformer, module transformations\.user_events_enriched\): /);
  });

  it('rejects a bad flag value with usage and exit 2', () => {
    const r = cli(['--parallelism', 'many']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^--parallelism: found "many"; expected a whole number from 1 to 256/);
    expect(r.stderr).toContain('Usage: npm start -- [options]');
  });
});

describe('streamberg maintain', () => {
  it('rejects an unknown flag and a bad safety age with its usage and exit 2', () => {
    const r = cli(['maintain', '--dry', '--config', tempProject({ topics: SHIPPED_TOPICS })]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--dry'");
    expect(r.stderr).toContain('Usage: npm start -- maintain [options]');
    const age = cli(['maintain', '--orphan-min-age', 'a while', '--config', tempProject({ topics: SHIPPED_TOPICS })]);
    expect(age.code).toBe(2);
    expect(age.stderr).toMatch(/^--orphan-min-age: found "a while"; expected a duration such as 500ms/);
  });

  it('reports a table not created yet, and exits 0', () => {
    const r = cli(['maintain', '--dry-run', '--config', tempProject({ topics: SHIPPED_TOPICS })]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('analytics.parsed_events: not created yet; nothing to do');
  });
});

describe('streamberg with a hostile configuration', () => {
  const bomb = [
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
  ].join('\n');

  it('an alias bomb is a configuration error naming the file, exit 2, no stack', () => {
    const r = cli(['--check', '--config', tempProject({ topics: bomb })]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^1 configuration error:\n  \S*topics\.yaml: \(top level\): cannot be expanded: .+; expected at most 100 alias expansions\n$/);
    expect(r.stderr).not.toContain('ReferenceError');
  });

  it('a configuration file over 1 MiB is refused with exit 2, naming file, size and cap', () => {
    const topics = `${SHIPPED_TOPICS}\n# ${'x'.repeat(2 * 1024 * 1024)}\n`;
    const r = cli(['--check', '--config', tempProject({ topics })]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`topics.yaml: (top level): the file is ${Buffer.byteLength(topics)} bytes, over the limit of 1048576 bytes (1 MiB)`);
  });

  it('a table name that sanitizes to underscores only is refused with exit 2', () => {
    const r = cli(['--check', '--config', tempProject({ topics: SHIPPED_TOPICS.replace('table_name: "parsed_events"', 'table_name: ".."') })]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/topics\.bid-events\.sink\.table_name: "\.\." becomes "__" after replacing '-' and '\.' with '_', which names nothing/);
  });
});
