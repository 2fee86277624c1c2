import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, formatIssue, formatPath, type ConfigIssue } from '../../src/config/issues.js';
import { loadConfig } from '../../src/config/load.js';
import { ROOT } from '../helpers/build.js';
import { SHIPPED_TOPICS, tempProject } from '../helpers/project.js';

const PYFLINK = path.join(ROOT, 'test/fixtures/pyflink-config');

const project = tempProject;
const own = (configDir: string) => ({ configDir, projectRoot: path.dirname(configDir) });

function issuesOf(configDir: string, env: Record<string, string> = {}): ConfigIssue[] {
  try {
    loadConfig({ ...own(configDir), env });
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected the configuration to be rejected');
}

const shippedTopics = SHIPPED_TOPICS;
const formatPathOf = (i: ConfigIssue): string => formatIssue(i).replace(/^[^ ]+ /, '').split(':')[0]!;

describe('the shipped configuration', () => {
  it('resolves both example pipelines with defaults applied', () => {
    const dir = project({ topics: shippedTopics });
    const { config } = loadConfig({ ...own(dir), env: {} });
    expect(config.pipelines.map((p) => [p.topic, p.transformation, p.sink.tableName])).toEqual([
      ['bid-events', 'bid_events_raw', 'parsed_events'],
      ['user-events', 'user_events_enriched', 'user_events_enriched'],
    ]);
    const bid = config.pipelines[0]!;
    expect(bid.sourceSchema.map((f) => f.type.kind)).toEqual(['string', 'bigint', 'bigint', 'string', 'string', 'bigint']);
    expect(bid.sink.schema.at(-1)).toMatchObject({ name: 'ingestion_time', type: { kind: 'timestamp', precision: 3 } });
    expect(bid.sink.properties).toMatchObject({ 'format-version': '2', 'write.format.default': 'parquet', 'write.parquet.compression-codec': 'snappy' });
    expect(bid.onError).toBe('dlq');
    expect(bid.deadLetter).toEqual({ kind: 'table', tableName: 'parsed_events_dlq' });
    expect(config.kafka.bootstrapServers).toEqual(['127.0.0.1:9092']);
    expect(config.runtime).toMatchObject({ parallelism: 2, checkpointIntervalMs: 60_000, checkpointMode: 'EXACTLY_ONCE', metricsPort: 9464 });
    // Relative paths resolve against the config folder: ../warehouse is beside config/.
    const warehouse = path.resolve(dir, '..', 'warehouse');
    expect(config.catalog).toEqual({
      type: 'sql',
      name: 'local',
      uri: `sqlite:///${warehouse}/catalog.db`,
      sqlitePath: `${warehouse}/catalog.db`,
      warehouse: `file://${warehouse}`,
      namespace: 'analytics',
    });
    expect(config.transformations.bid_events_raw!.modulePath).toBe(path.resolve(dir, '..', 'transformations/bid_events_raw.ts'));
  });

  it('bounds the threads shared by sources and by sinks with runtime.actor_threads, by default the core count', () => {
    const shipped = loadConfig({ ...own(project({ topics: shippedTopics })), env: {} }).config;
    expect(shipped.runtime.actorThreads).toBe(os.availableParallelism());
    const set = shippedTopics.replace('runtime:\n', 'runtime:\n  actor_threads: 3\n');
    expect(loadConfig({ ...own(project({ topics: set })), env: {} }).config.runtime.actorThreads).toBe(3);
    const wrong = issuesOf(project({ topics: shippedTopics.replace('runtime:\n', 'runtime:\n  actor_threads: 0\n') }));
    expect(wrong.map((i) => i.path.join('.'))).toEqual(['runtime.actor_threads']);
  });

  it('takes overrides from the command line over the file', () => {
    const dir = project({ topics: shippedTopics });
    const { config } = loadConfig({ ...own(dir), env: {}, overrides: { parallelism: 7, checkpointIntervalMs: 5000, metricsPort: 0 } });
    expect(config.runtime).toMatchObject({ parallelism: 7, checkpointIntervalMs: 5000, metricsPort: 0 });
  });
});

describe("the PyFlink job's own files", () => {
  it('are accepted unchanged, with the Java-only IAM settings noted as ignored', () => {
    const { config, warnings } = loadConfig({ ...own(path.join(PYFLINK, 'config')), env: {} });
    expect(config.kafka).toMatchObject({
      bootstrapServers: ['broker1:9098', 'broker2:9098'],
      security: { protocol: 'SASL_SSL', saslMechanism: 'AWS_MSK_IAM' },
    });
    expect(config.pipelines.map((p) => [p.topic, p.enabled, p.scanMode])).toEqual([
      ['bid-events', true, 'earliest-offset'],
      ['new-topic', false, 'latest-offset'],
    ]);
    expect(config.pipelines[1]!.sink.schema[1]!.type).toEqual({ kind: 'timestamp', precision: 3, nullable: true });
    expect(Object.keys(config.transformations)).toEqual(['bid_events_raw', 'user_events_enriched', 'new_transformation']);
    expect(warnings.join('\n')).toMatch(/sasl_jaas_config .* ignored/);
  });

  it('defaults the catalog to a SQLite file in ./warehouse when the file has no catalog section', () => {
    const { config } = loadConfig({ ...own(path.join(PYFLINK, 'config')), env: {} });
    expect(config.catalog).toMatchObject({ type: 'sql', warehouse: `file://${path.resolve('warehouse')}`, namespace: 'analytics' });
  });
});

describe('interpolation', () => {
  const topics = (bootstrap: string) => shippedTopics.replace('"${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:9092}"', () => bootstrap);

  it('takes ${VAR} from the environment and ${VAR:-default} otherwise', () => {
    const dir = project({ topics: topics('"${BROKERS}"') });
    const { config } = loadConfig({ ...own(dir), env: { BROKERS: 'a:1,b:2', PARALLELISM: '5', CHECKPOINT_INTERVAL: '2min' } });
    expect(config.kafka.bootstrapServers).toEqual(['a:1', 'b:2']);
    // A number written as ${PARALLELISM:-2} becomes a number after interpolation.
    expect(config.runtime.parallelism).toBe(5);
    expect(config.runtime.checkpointIntervalMs).toBe(120_000);
  });

  it('names the variable and the path when a variable without default is unset', () => {
    const issues = issuesOf(project({ topics: topics('"${BROKERS}"') }));
    expect(issues).toHaveLength(1);
    expect(formatIssue(issues[0]!)).toMatch(/topics\.yaml:\d+:\d+: kafka\.bootstrap_servers: environment variable BROKERS is not set/);
  });

  it('keeps $${ as a literal ${', () => {
    const dir = project({ topics: shippedTopics.replace('kafka:\n', () => 'kafka:\n  client_id: "app-$${X}"\n') });
    expect(loadConfig({ ...own(dir), env: {} }).config.kafka.clientId).toBe('app-${X}');
  });
});

describe('table names', () => {
  it('are sanitized as the PyFlink job did: my-topic.v1 → my_topic_v1', () => {
    const dir = project({ topics: shippedTopics.replace('table_name: "parsed_events"', 'table_name: "my-topic.v1"') });
    const { config } = loadConfig({ ...own(dir), env: {} });
    expect(config.pipelines[0]!.sink).toMatchObject({ tableNameRaw: 'my-topic.v1', tableName: 'my_topic_v1' });
    expect(config.pipelines[0]!.deadLetter).toEqual({ kind: 'table', tableName: 'my_topic_v1_dlq' });
  });

  it('must be identifiers after sanitizing', () => {
    const dir = project({ topics: shippedTopics.replace('table_name: "parsed_events"', 'table_name: "9 lives"') });
    const issues = issuesOf(dir);
    expect(issues.map(formatIssue)).toEqual([
      expect.stringMatching(/topics\.bid-events\.sink\.table_name: "9 lives" .* is not a valid table name; found "9 lives"; expected letters, digits and '_'/),
    ]);
  });

  it('are not shared between enabled topics, and neither are consumer groups', () => {
    const dir = project({ topics: shippedTopics.replace('"flink-s3tables-user-events-v1"', '"flink-s3tables-json-v1"') });
    expect(issuesOf(dir).map(formatIssue)).toEqual([
      expect.stringMatching(/topics\.user-events\.kafka_group_id: consumer group flink-s3tables-json-v1 is already used by topic bid-events; found "flink-s3tables-json-v1"/),
    ]);
  });

  it('may feed only one topic each', () => {
    const dir = project({ topics: shippedTopics.replace('table_name: "user_events_enriched"', 'table_name: "parsed-events"') });
    expect(issuesOf(dir).map((i) => i.problem)).toEqual(['table parsed_events is already the sink of topic bid-events']);
  });
});

describe('errors', () => {
  it('reports five different mistakes at once, each with file, path, position, found and accepted', () => {
    const broken = shippedTopics
      .replace('scan_mode: "earliest-offset"', 'scan_mode: "earliest"') // 1: enum
      .replace('        - name: "city_id"\n          type: "BIGINT"', '        - name: "city_id"\n          type: "BIGNT"') // 2: sink type
      .replace('transformation: "user_events_enriched"', 'transformation: "user_events_enrich"') // 3: reference
      .replace('checkpoint_interval: "${CHECKPOINT_INTERVAL:-60s}"', 'checkpoint_interval: "soon"') // 4: duration
      .replace('    format: "json"\n\n    source_schema:\n      - name: "event_type"', '    formt: "json"\n\n    source_schema:\n      - name: "event_type"'); // 5: unknown key
    const issues = issuesOf(project({ topics: broken }));
    const lines = issues.map(formatIssue);
    expect(lines).toHaveLength(5);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^.*topics\.yaml:\d+:\d+: topics\.bid-events\.scan_mode: not an accepted value; found "earliest"; expected one of "earliest-offset", "latest-offset", "group-offsets", "timestamp"$/),
        expect.stringMatching(/^.*topics\.yaml:\d+:\d+: topics\.bid-events\.sink\.schema\[2\]\.type: not a Flink SQL type at character 1: unknown type BIGNT; found "BIGNT"; expected STRING, .*BIGINT/),
        expect.stringMatching(/^.*topics\.yaml:\d+:\d+: topics\.user-events\.transformation: no such entry in transformations\.yaml; found "user_events_enrich"; expected one of bid_events_raw, user_events_enriched\b/),
        expect.stringMatching(/^.*topics\.yaml:\d+:\d+: runtime\.checkpoint_interval: not a duration; found "soon"; expected a duration such as 500ms/),
        expect.stringMatching(/^.*topics\.yaml:\d+:\d+: topics\.user-events\.formt: unknown key "formt"; expected one of enabled, kafka_group_id, scan_mode, .*format/),
      ]),
    );
  });

  it('points at the line of the offending value', () => {
    const broken = shippedTopics.replace('scan_mode: "earliest-offset"', 'scan_mode: "earliest"');
    const [issue] = issuesOf(project({ topics: broken }));
    const lineText = broken.split('\n')[issue!.line! - 1];
    expect(lineText).toContain('scan_mode: "earliest"');
  });

  it('names a missing required key and what it should hold', () => {
    const broken = shippedTopics.replace('    transformation: "bid_events_raw"\n', '');
    expect(issuesOf(project({ topics: broken })).map(formatIssue)).toEqual([
      expect.stringMatching(/topics\.bid-events\.transformation: required key is missing; expected a string$/),
    ]);
  });

  it('runtime.maintenance: defaults, durations in days, and a too-short orphan age named with what is accepted', () => {
    const ok = shippedTopics.replace('runtime:\n', 'runtime:\n  maintenance: { expire_interval: 5min, orphan_min_age: 2d }\n');
    const { config } = loadConfig({ ...own(project({ topics: ok })), env: {} });
    expect(config.runtime.maintenance).toEqual({ enabled: undefined, expireIntervalMs: 300_000, compactIntervalMs: 3_600_000, compactMinFiles: 5, orphanIntervalMs: 86_400_000, orphanMinAgeMs: 2 * 86_400_000 });
    const broken = shippedTopics.replace('runtime:\n', 'runtime:\n  maintenance: { orphan_min_age: 10s, expire: true }\n');
    expect(issuesOf(project({ topics: broken })).map(formatIssue)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/runtime\.maintenance\.expire: unknown key "expire"; expected one of enabled, expire_interval/),
      ]),
    );
    const short = shippedTopics.replace('runtime:\n', 'runtime:\n  maintenance: { orphan_min_age: 10s }\n');
    expect(issuesOf(project({ topics: short })).map(formatIssue)).toEqual([
      expect.stringMatching(/runtime\.maintenance\.orphan_min_age: too short; found "10s"; expected at least 3600000ms$/),
    ]);
  });

  it('runtime.partition_discovery_interval: 5 minutes by default as in Flink, a duration, 0 or "off" to disable, anything else named', () => {
    const interval = (v: string | undefined) => {
      const topics = v === undefined ? shippedTopics : shippedTopics.replace('runtime:\n', `runtime:\n  partition_discovery_interval: ${v}\n`);
      return loadConfig({ ...own(project({ topics })), env: {} }).config.runtime.partitionDiscoveryIntervalMs;
    };
    expect([interval(undefined), interval('30s'), interval('0'), interval('"off"'), interval('false')]).toEqual([300_000, 30_000, 0, 0, 0]);
    const broken = shippedTopics.replace('runtime:\n', 'runtime:\n  partition_discovery_interval: "sometimes"\n');
    expect(issuesOf(project({ topics: broken })).map(formatIssue)).toEqual([
      expect.stringMatching(/runtime\.partition_discovery_interval: not a duration; found "sometimes"; expected a duration such as 500ms.*; 0 or "off" disables discovery$/),
    ]);
  });

  it('runtime.scale_out: off by default; when enabled, defaults and a member name; bad values named with what is accepted', () => {
    const scaleOut = (v: string | undefined) => {
      const topics = v === undefined ? shippedTopics : shippedTopics.replace('runtime:\n', `runtime:\n  scale_out: ${v}\n`);
      return loadConfig({ ...own(project({ topics })), env: {} }).config.runtime.scaleOut;
    };
    expect(scaleOut(undefined)).toBeUndefined();
    expect(scaleOut('{ enabled: false, protocol: classic }')).toBeUndefined();
    expect(scaleOut('{ enabled: true, member: pod-a }')).toEqual({ protocol: 'auto', sessionTimeoutMs: 45_000, rebalanceTimeoutMs: 60_000, member: 'pod-a' });
    expect(scaleOut('{ enabled: true, protocol: classic, session_timeout: 10s, rebalance_timeout: 30s, member: b }')).toEqual({ protocol: 'classic', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 30_000, member: 'b' });
    // Without a name each process gets its own: host, pid and a random part.
    const a = scaleOut('{ enabled: true }')!.member;
    expect(a).toMatch(new RegExp(`-${process.pid}-[0-9a-f]{6}$`));
    expect(scaleOut('{ enabled: true }')!.member).not.toBe(a);
    const broken = shippedTopics.replace('runtime:\n', 'runtime:\n  scale_out: { enabled: true, protocol: eager, session_timeout: 10 }\n');
    expect(issuesOf(project({ topics: broken })).map(formatIssue).join('\n')).toMatch(/runtime\.scale_out\.protocol: .*auto.*consumer.*classic/);
    const short = shippedTopics.replace('runtime:\n', 'runtime:\n  scale_out: { enabled: true, session_timeout: 10ms }\n');
    expect(issuesOf(project({ topics: short })).map(formatIssue)).toEqual([expect.stringMatching(/runtime\.scale_out\.session_timeout: too short.*at least 1000ms/)]);
  });

  it('runtime.maintenance compaction limits: sizes and counts read, a bad size named with what is accepted', () => {
    const ok = shippedTopics.replace('runtime:\n', 'runtime:\n  maintenance: { compact_min_bytes: 64mb, compact_max_bytes: 1gb, compact_max_files: 200 }\n');
    const { config } = loadConfig({ ...own(project({ topics: ok })), env: {} });
    expect(config.runtime.maintenance).toMatchObject({ compactMinBytes: 64 * 1024 * 1024, compactMaxBytes: 1024 * 1024 * 1024, compactMaxFiles: 200 });
    const broken = shippedTopics.replace('runtime:\n', 'runtime:\n  maintenance: { compact_max_bytes: lots }\n');
    expect(issuesOf(project({ topics: broken })).map(formatIssue)).toEqual([
      expect.stringMatching(/runtime\.maintenance\.compact_max_bytes: not a size.*expected a size such as 512kb/),
    ]);
  });

  it('rejects partition specs that name unknown columns or do not fit the column type', () => {
    const broken = shippedTopics.replace(
      '      table_name: "parsed_events"\n',
      '      table_name: "parsed_events"\n      partition_by: ["day(event_time)", "bucket(16, user_id)", "hour(platform)", "month(nope)", "squash(user_id)"]\n',
    );
    const problems = issuesOf(project({ topics: broken })).map((i) => `${i.path.join('.')}: ${i.problem}`);
    expect(problems).toEqual([
      'topics.bid-events.sink.partition_by.2: hour needs a TIMESTAMP column (platform is STRING)',
      'topics.bid-events.sink.partition_by.3: column nope is not in sink.schema',
      'topics.bid-events.sink.partition_by.4: unknown partition transform squash',
    ]);
  });

  it('accepts every partition transform the Iceberg spec defines', () => {
    const topics = shippedTopics.replace(
      '      table_name: "parsed_events"\n',
      '      table_name: "parsed_events"\n      partition_by: ["day(event_time)", "bucket(16, user_id)", "identity(platform)", "truncate(4, session_id)", "hour(ingestion_time)", "city_id"]\n',
    );
    const { config } = loadConfig({ ...own(project({ topics })), env: {} });
    expect(config.pipelines[0]!.sink.partitionBy.map((f) => [f.source, f.transform])).toEqual([
      ['event_time', { kind: 'day' }],
      ['user_id', { kind: 'bucket', n: 16 }],
      ['platform', { kind: 'identity' }],
      ['session_id', { kind: 'truncate', width: 4 }],
      ['ingestion_time', { kind: 'hour' }],
      ['city_id', { kind: 'identity' }],
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    const issues = issuesOf(project({ topics: 'kafka:\n  bootstrap_servers: [unclosed\n' }));
    expect(issues[0]).toMatchObject({ line: expect.any(Number), problem: expect.stringMatching(/^not valid YAML/) });
  });

  it('refuses transformation modules outside transformations/ and names missing ones', () => {
    const transformations = `transformations:
  bid_events_raw:
    class: "BidEventsRawTransformer"
    module: "../../etc/passwd"
  user_events_enriched:
    class: "UserEventsEnrichedTransformer"
    module: "transformations.does_not_exist"
`;
    const issues = issuesOf(project({ topics: shippedTopics, transformations }));
    expect(issues.map((i) => `${i.file.split('/').pop()} ${i.path.join('.')}: ${i.problem}`)).toEqual([
      'transformations.yaml transformations.bid_events_raw.module: module is outside the transformations/ folder',
      expect.stringMatching(/^transformations\.yaml transformations\.user_events_enriched\.module: module file not found/),
    ]);
  });

  it('requires SASL settings that fit the protocol', () => {
    const topics = shippedTopics.replace('protocol: "${KAFKA_SECURITY_PROTOCOL:-PLAINTEXT}"', 'protocol: "SASL_SSL"');
    expect(issuesOf(project({ topics })).map(formatIssue)).toEqual([
      expect.stringMatching(/kafka\.security\.sasl_mechanism: required when protocol is SASL_SSL; expected AWS_MSK_IAM, PLAIN/),
    ]);
  });

  it('takes TLS files relative to the config folder, and checks that they fit the protocol and exist', () => {
    const security = (lines: string) => shippedTopics.replace(/  security:\n(    #.*\n)*    protocol: .*\n/, () => `  security:\n${lines}`);
    const dir = project({
      topics: security('    protocol: "SSL"\n    ssl_ca_location: "ca.pem"\n    ssl_certificate_location: "../client.pem"\n    ssl_key_location: "../client.key"\n    ssl_key_password: "k3y-pass"\n'),
    });
    for (const f of ['config/ca.pem', 'client.pem', 'client.key']) writeFileSync(path.join(path.dirname(dir), f), 'PEM');
    const { config } = loadConfig({ ...own(dir), env: {} });
    expect(config.kafka.security).toEqual({
      protocol: 'SSL',
      saslMechanism: undefined,
      region: undefined,
      username: undefined,
      password: undefined,
      sslCaLocation: path.join(dir, 'ca.pem'),
      sslCertificateLocation: path.join(path.dirname(dir), 'client.pem'),
      sslKeyLocation: path.join(path.dirname(dir), 'client.key'),
      sslKeyPassword: 'k3y-pass',
    });

    const problems = (lines: string) => issuesOf(project({ topics: security(lines) })).map(formatIssue);
    expect(problems('    protocol: "PLAINTEXT"\n    ssl_ca_location: "/etc/ssl/ca.pem"\n')).toEqual([
      expect.stringMatching(/kafka\.security\.ssl_ca_location: has no effect with protocol PLAINTEXT; expected protocol SSL or SASL_SSL$/),
    ]);
    expect(problems('    protocol: "SSL"\n    ssl_certificate_location: "/nonexistent/client.pem"\n')).toEqual([
      expect.stringMatching(/kafka\.security: a client certificate needs its key, and a key its certificate; expected both/),
      expect.stringMatching(/kafka\.security\.ssl_certificate_location: file \/nonexistent\/client\.pem not found; expected the path of a PEM file/),
    ]);
  });

  it('never repeats a password back, whatever is wrong with it', () => {
    const topics = shippedTopics.replace(
      /  security:\n(    #.*\n)*    protocol: .*\n/,
      () => '  security:\n    protocol: "SASL_SSL"\n    sasl_mechanism: "SCRAM-SHA-512"\n    username: "u"\n    password: 918273645546372819\n    ssl_key_password: ["s3cr3t-in-a-list"]\n',
    );
    const issues = issuesOf(project({ topics }));
    expect(issues.map((i) => formatPath(i.path))).toEqual(['kafka.security.password', 'kafka.security.ssl_key_password']);
    const text = JSON.stringify(issues) + new ConfigError(issues).message;
    expect(text).not.toMatch(/918273645546372819|9\.18273645546372e\+17|s3cr3t-in-a-list/);
    expect(issues.every((i) => !i.hasFound && i.found === undefined)).toBe(true);
  });

  it('checks S3 Tables warehouse ARNs and derives the region from them', () => {
    const s3 = (warehouse: string) =>
      shippedTopics.replace(/catalog:\n(?:  .*\n)+/, `catalog:\n  type: "s3tables"\n  warehouse: "${warehouse}"\n  namespace: "analytics"\n`);
    const { config } = loadConfig({ ...own(project({ topics: s3('arn:aws:s3tables:ap-south-1:508351649560:bucket/rt-testing-cdc-bucket') })), env: {} });
    expect(config.catalog).toMatchObject({ type: 's3tables', region: 'ap-south-1', name: 's3_tables' });
    expect(issuesOf(project({ topics: s3('s3://bucket/x') })).map((i) => i.problem)).toEqual(['not an S3 Tables bucket ARN']);
  });

  describe('the rest catalog', () => {
    const rest = (lines: string) => shippedTopics.replace(/catalog:\n(?:  .*\n)+/, `catalog:\n  type: "rest"\n${lines}\n`);

    it('takes pyiceberg’s property names: uri, warehouse, prefix, SigV4 signing, header.* and s3.*', () => {
      const topics = rest(
        [
          '  uri: "https://glue.us-east-1.amazonaws.com/iceberg/"',
          '  warehouse: "123456789012"',
          '  prefix: "/catalogs/main/"',
          '  rest.sigv4-enabled: "true"',
          '  rest.signing-region: "us-east-1"',
          '  rest.signing-name: "glue"',
          '  header.X-Iceberg-Access-Delegation: ""',
          '  s3.endpoint: "http://127.0.0.1:9000"',
        ].join('\n'),
      );
      const { config } = loadConfig({ ...own(project({ topics })), env: {} });
      expect(config.catalog).toEqual({
        type: 'rest',
        name: 'rest',
        uri: 'https://glue.us-east-1.amazonaws.com/iceberg',
        warehouse: '123456789012',
        prefix: 'catalogs/main',
        namespace: 'analytics',
        auth: { kind: 'sigv4', region: 'us-east-1', signingName: 'glue' },
        headers: { 'X-Iceberg-Access-Delegation': '' },
        properties: { 's3.endpoint': 'http://127.0.0.1:9000' },
      });
    });

    it('takes OAuth2 client credentials from the environment, with the default scope', () => {
      const topics = rest('  uri: "http://127.0.0.1:8181"\n  credential: "${POLARIS_CREDENTIAL}"\n  oauth2-server-uri: "http://127.0.0.1:8181/api/catalog/v1/oauth/tokens"');
      const { config } = loadConfig({ ...own(project({ topics })), env: { POLARIS_CREDENTIAL: 'root:s3cr3t' } });
      expect(config.catalog).toMatchObject({ auth: { kind: 'oauth2', credential: 'root:s3cr3t', scope: 'catalog', serverUri: 'http://127.0.0.1:8181/api/catalog/v1/oauth/tokens' } });
    });

    it('refuses two kinds of authentication at once without printing the secret, unknown keys, and keys of other types', () => {
      const topics = rest('  uri: "http://127.0.0.1:8181"\n  token: "tok-very-secret"\n  credential: "id:also-secret"\n  region: "us-east-1"\n  header_x: "1"');
      const issues = issuesOf(project({ topics })).map(formatIssue);
      expect(issues).toEqual([
        expect.stringMatching(/catalog\.credential: cannot be combined with token; expected one of token, credential, rest\.sigv4-enabled: true$/),
        expect.stringMatching(/catalog\.region: applies only to type "s3tables"; found "us-east-1"; expected rest\.signing-region \(SigV4\) or s3\.region \(files\)$/),
        expect.stringMatching(/catalog\.header_x: unknown key "header_x"; expected one of .*prefix, token, credential.*header\.<name>, s3\.<property>$/),
      ]);
      expect(issues.join('\n')).not.toMatch(/very-secret|also-secret/);
      const sql = shippedTopics.replace('  namespace: "analytics"\n', '  namespace: "analytics"\n  token: "x"\n  header.A: "b"\n');
      expect(issuesOf(project({ topics: sql })).map((i) => i.problem)).toEqual(['applies only to type "rest"', 'unknown key "header.A"']);
    });

    it('needs an http(s) uri, and scope only with credential', () => {
      const topics = rest('  uri: "thrift://metastore:9083"\n  scope: "PRINCIPAL_ROLE:ALL"');
      expect(issuesOf(project({ topics })).map((i) => `${formatPathOf(i)}: ${i.problem}`)).toEqual(['catalog.uri: not an http(s) URL', 'catalog.scope: applies only with credential']);
    });
  });

  it('warns that AT_LEAST_ONCE changes nothing', () => {
    const topics = shippedTopics.replace('checkpoint_mode: "EXACTLY_ONCE"', 'checkpoint_mode: "AT_LEAST_ONCE"');
    expect(loadConfig({ ...own(project({ topics })), env: {} }).warnings.join('\n')).toMatch(/AT_LEAST_ONCE has no effect/);
  });

  it('throws one ConfigError when the config folder is missing', () => {
    expect(() => loadConfig({ configDir: '/nonexistent/config', env: {} })).toThrow(/config folder not found/);
  });
});

describe('the repository config', () => {
  it('is the one the tests copy', () => {
    // Read where it stands, with the repository's own transformer modules: the tests copy
    // config/topics.yaml and config/transformations.yaml beside stand-in modules, so a shipped
    // file that broke, or that drifted from the copies, would pass every other test here.
    const shipped = loadConfig({ configDir: path.join(ROOT, 'config'), projectRoot: ROOT, env: {} });
    const copied = loadConfig({ ...own(project({ topics: shippedTopics })), env: {} });
    const portable = (c: typeof shipped.config) => ({
      pipelines: c.pipelines,
      kafka: c.kafka,
      runtime: c.runtime,
      transformations: Object.fromEntries(Object.entries(c.transformations).map(([name, t]) => [name, { ...t, modulePath: path.basename(t.modulePath) }])),
    });
    expect(portable(shipped.config)).toEqual(portable(copied.config));
    expect(shipped.warnings).toEqual(copied.warnings);
    expect(shipped.config.pipelines.map((p) => p.topic)).toEqual(['bid-events', 'user-events']);
    for (const t of Object.values(shipped.config.transformations)) expect(existsSync(t.modulePath), t.modulePath).toBe(true);
  });
});
