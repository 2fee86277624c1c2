import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCli, UsageError } from '../src/command-line.js';
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

  it('describes scale-out, and refuses --bounded with it (exit 2, saying why), before anything connects', () => {
    const dir = tempProject({ topics: SHIPPED_TOPICS.replace('runtime:\n', 'runtime:\n  scale_out: { enabled: true, member: pod-a, protocol: classic }\n') });
    const check = cli(['--check', '--config', dir]);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('scale-out: member pod-a, classic group protocol, session 45s, rebalance 1min');
    // No broker listens on this port: the refusal comes first.
    const r = cli(['--bounded', '--config', dir], { KAFKA_BOOTSTRAP_SERVERS: '127.0.0.1:1' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--bounded cannot be used with runtime.scale_out.enabled: true');
  });

  it('compiles transformers kept beside the configuration, and names the file and line of a SQL error', () => {
    const dir = tempProject({
      topics: SHIPPED_TOPICS,
      transformations: [
        'transformations:',
        '  bid_events_raw:',
        '    sql_file: "bids.sql"',
        '  user_events_enriched:',
        '    sql: |',
        '      SELECT event_type, user_id, page_url, device_type, session_id,',
        '        FALSE AS is_mobile, TO_TIMESTAMP_LTZ(timestamp_ms, 3) AS event_time,',
        '        CURRENT_TIMESTAMP AS ingestion_time',
        '      FROM {source_table}',
        '  new_transformation:',
        '    sql: "SELECT * FROM {source_table}"',
        '',
      ].join('\n'),
    });
    writeFileSync(path.join(dir, 'bids.sql'), 'SELECT event_name, user_id,\n  city_id, platform, session_id,\n  TO_TIMESTAMP_LTZ(timestamp_ms, 3) AS event_time,\n  CURRENT_TIMESTAMP AS ingestion_time\nFROM {source_table}\n');
    const ok = cli(['--check', '--config', dir]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/transformation: SQL from \S*bids\.sql:1/);
    expect(ok.stdout).toMatch(/transformation: SQL from \S*transformations\.yaml:6/);

    writeFileSync(path.join(dir, 'bids.sql'), 'SELECT event_name, user_id,\n  city_id, platform, session_id,\n  TO_TIMESTAMP_LTZ(timestamp_millis, 3) AS event_time,\n  CURRENT_TIMESTAMP AS ingestion_time\nFROM {source_table}\n');
    const bad = cli(['--check', '--config', dir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bids\.sql:3: transformation 'bid_events_raw': unknown column timestamp_millis/);
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

  it('takes --parallelism through the range check runtime.parallelism uses: 1 to 256, whole numbers', () => {
    expect(['1', '256', '07'].map((n) => parseCli(['--parallelism', n]).overrides.parallelism)).toEqual([1, 256, 7]);
    for (const bad of ['0', '257', '1.5', '-2', 'many', '']) {
      expect(() => parseCli([`--parallelism=${bad}`]), bad).toThrow(new UsageError(`--parallelism: found "${bad}"; expected a whole number from 1 to 256`));
    }
    // The same values in the file: the error names the file and the key.
    for (const [value, problem] of [['0', 'too small; found 0; expected at least 1'], ['257', 'too large; found 257; expected at most 256']]) {
      const dir = tempProject({ topics: SHIPPED_TOPICS.replace('parallelism: ${PARALLELISM:-2}', `parallelism: ${value}`) });
      const r = cli(['--check', '--config', dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`config/topics.yaml:12:16: runtime.parallelism: ${problem}`);
    }
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
    const bytes = cli(['maintain', '--compact-max-bytes', 'lots', '--config', tempProject({ topics: SHIPPED_TOPICS })]);
    expect(bytes.code).toBe(2);
    expect(bytes.stderr).toMatch(/^--compact-max-bytes: found "lots"; expected a size such as 512kb/);
    const files = cli(['maintain', '--compact-max-files', '1', '--config', tempProject({ topics: SHIPPED_TOPICS })]);
    expect(files.code).toBe(2);
    expect(files.stderr).toMatch(/^--compact-max-files: found "1"; expected a whole number of at least 2/);
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

describe('streamberg --check with secrets in the configuration', () => {
  const secrets = {
    KAFKA_PASSWORD: 'kafka-pass-6a0d93',
    KEY_PASSWORD: 'key-pass-3b7e21',
    JAAS_PASSWORD: 'jaas-pass-5d2a0f',
    REGISTRY_PASSWORD: 'registry-pass-c4f0',
    REGISTRY_TOKEN: 'registry-token-9e15',
    CATALOG_TOKEN: 'tok-catalog-c1d9e7',
  };
  /** SCRAM over TLS with a client key, and an avro-confluent topic whose registry URL holds a password. */
  function project(catalogExtra = ''): string {
    const security = [
      '  security:',
      '    protocol: "SASL_SSL"',
      '    sasl_mechanism: "SCRAM-SHA-512"',
      '    username: "pipeline"',
      '    password: "${KAFKA_PASSWORD}"',
      '    ssl_ca_location: "ca.pem"',
      '    ssl_certificate_location: "client.pem"',
      '    ssl_key_location: "client.key"',
      '    ssl_key_password: "${KEY_PASSWORD}"',
      `    sasl_jaas_config: 'ScramLoginModule required username="pipeline" password="\${JAAS_PASSWORD}";'`,
      '',
    ].join('\n');
    const registry = [
      '    format: "avro-confluent"',
      '    schema_registry:',
      // Port 9 (discard) refuses: the registry check warns, quoting the URL.
      '      url: "http://reg-user:${REGISTRY_PASSWORD}@127.0.0.1:9"',
      '      bearer_token: "${REGISTRY_TOKEN}"',
      '',
    ].join('\n');
    const topics = SHIPPED_TOPICS.replace(/  security:\n(    #.*\n)*    protocol: .*\n/, () => security)
      .replace('    format: "json"\n', () => registry)
      .replace('  namespace: "analytics"\n', () => `  namespace: "analytics"\n${catalogExtra}`);
    const dir = tempProject({ topics });
    for (const f of ['ca.pem', 'client.pem', 'client.key']) writeFileSync(path.join(dir, f), 'PEM');
    return dir;
  }
  const leaked = (text: string) => Object.entries(secrets).filter(([, v]) => text.includes(v)).map(([k]) => k);

  it('prints the resolved configuration and the registry warning without any of them', () => {
    const r = cli(['--check', '--config', project()], secrets);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('kafka: 127.0.0.1:9092 (SASL_SSL, SCRAM-SHA-512)');
    // The registry's refusal quotes its URL: there, without the password.
    expect(r.stderr).toMatch(/warning: topic bid-events: schema registry http:\/\/reg-user:\*\*\*@127\.0\.0\.1:9: not reachable: /);
    expect(r.stderr).toMatch(/sasl_jaas_config .* ignored/);
    expect(leaked(r.stdout + r.stderr)).toEqual([]);
  });

  it('prints the errors of a bad configuration without any of them', () => {
    const r = cli(['--check', '--config', project('  token: "${CATALOG_TOKEN}"\n  region: "${KAFKA_PASSWORD}"\n')], secrets);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/catalog\.token: applies only to type "rest"; expected/);
    expect(r.stderr).toMatch(/catalog\.region: applies only to type "s3tables"; found "\*\*\*"; expected/);
    expect(leaked(r.stdout + r.stderr)).toEqual([]);
  });
});
