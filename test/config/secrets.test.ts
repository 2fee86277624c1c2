// Secrets in the configuration: which keys hold them, and that no configuration error repeats
// one back, whatever kind of error it is (wrong type, unknown key, value not in an enum, a key
// of another catalog type, a value a check refuses) and wherever the secret was written.

import { describe, expect, it } from 'vitest';
import { ConfigError, formatIssue, formatPath, type ConfigIssue } from '../../src/config/issues.js';
import { loadConfig } from '../../src/config/load.js';
import { isSecretKey, maskUserinfo, SecretScrubber, secretValues } from '../../src/config/secrets.js';
import { SHIPPED_TOPICS, tempProject } from '../helpers/project.js';

describe('secret keys', () => {
  it('are recognised by their names, whatever their case and separators', () => {
    const secret = [
      'token', 'credential', 'password', 'ssl_key_password', 'secret', 'client_secret', 'bearer_token',
      'sasl_jaas_config', 'sasl.jaas.config', 'sasl_client_callback_handler_class', 'sasl_mechanism',
      'access_key_id', 'secret_access_key', 'session_token', 's3.access-key-id', 's3.secret-access-key',
      's3.session-token', 'header.Authorization', 'header.X-Api-Key', 'basic_auth', 'SECRET_ACCESS_KEY',
      'avro-confluent.basic-auth.user-info', 'sslKeyPassword', 'secretAccessKey', 'privateKey', 'Cookie',
    ];
    const plain = ['uri', 'warehouse', 'username', 'region', 'ssl_key_location', 'ssl_ca_location', 'namespace', 'scope', 'oauth2-server-uri', 'bootstrap_servers', 'kafka_group_id', 'name'];
    expect(secret.filter((k) => !isSecretKey(k))).toEqual([]);
    expect(plain.filter((k) => isSecretKey(k))).toEqual([]);
  });

  it('mask the password of a URI and keep the rest', () => {
    expect(maskUserinfo('GET https://svc:p%40ss@catalog.example/v1/config failed')).toBe('GET https://svc:***@catalog.example/v1/config failed');
    expect(maskUserinfo('postgresql://u:pw@db:5432/x and http://host:8181/path@x')).toBe('postgresql://u:***@db:5432/x and http://host:8181/path@x');
  });

  it('are gathered from any depth, with URI passwords, and scrubbed from text', () => {
    const tree = { kafka: { security: { password: 'pw-1234', username: 'alice' } }, catalog: { headers: { Authorization: 'Bearer hdr-5678' }, uri: 'https://u:uri-pass@h' }, short: { token: 'abc' } };
    expect(secretValues(tree).sort()).toEqual(['Bearer hdr-5678', 'pw-1234', 'uri-pass']);
    const s = SecretScrubber.of(tree);
    expect(s.scrub('alice said pw-1234 to https://u:uri-pass@h with Bearer hdr-5678')).toBe('alice said *** to https://u:***@h with ***');
  });
});

/** Distinct values, one per place a secret can be written; none may appear in any error. */
const SECRETS = {
  CATALOG_TOKEN: 'tok-catalog-51d2e8',
  CATALOG_CREDENTIAL: 'cred-id:cred-secret-9a41',
  PG_PASSWORD: 'pg-pass-77b1c0',
  ENDPOINT_SECRET: 'endpoint-secret-3f0a',
  S3_SECRET: 's3-secret-access-6e2d',
  KEY_PASSWORD: 'key-pass-0c93aa',
  SESSION_TOKEN: 'session-token-8d17',
  SASL_MECHANISM_TEXT: 'sasl-mech-secret-4b55',
  REGISTRY_PASSWORD: 'registry-pass-2e6f',
  JAAS_PASSWORD: 'jaas-pass-91ce',
};

/** The shipped topics.yaml with its kafka security and catalog sections replaced. */
function topicsWith(security: string, catalog: string, bidExtra = ''): string {
  return SHIPPED_TOPICS.replace(/  security:\n(    #.*\n)*    protocol: .*\n/, () => `  security:\n${security}`)
    .replace(/\ncatalog:\n(?: .*\n|\n)*?(?=\S)/, () => `\ncatalog:\n${catalog}\n\n`)
    .replace('    transformation: "bid_events_raw"\n', () => `    transformation: "bid_events_raw"\n${bidExtra}`);
}

function issuesOf(topics: string): ConfigIssue[] {
  try {
    loadConfig({ configDir: tempProject({ topics }), env: SECRETS });
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected the configuration to be rejected');
}

/** Everything an error could carry to a reader: the message, the formatted lines, the details. */
const printed = (issues: ConfigIssue[]) => [new ConfigError(issues).message, ...issues.map(formatIssue), JSON.stringify(issues)].join('\n');

describe('configuration errors', () => {
  it('never print a secret found by the checks that follow the schema', () => {
    const issues = issuesOf(
      topicsWith(
        `    protocol: "PLAINTEXT"\n    ssl_key_password: "\${KEY_PASSWORD}"\n    sasl_jaas_config: 'IAMLoginModule required password="\${JAAS_PASSWORD}";'\n`,
        [
          '  type: "sql"',
          '  uri: "postgresql://iceberg:${PG_PASSWORD}@db.example:5432/iceberg"',
          '  token: "${CATALOG_TOKEN}"',
          '  credential: "${CATALOG_CREDENTIAL}"',
          '  endpoint: "http://AKIAEXAMPLE:${ENDPOINT_SECRET}@s3.example"',
          // The token's value again, under a key whose name does not say it is a secret.
          '  region: "${CATALOG_TOKEN}"',
          '  s3.secret-access-key: "${S3_SECRET}"',
          '  namespace: "analytics"',
        ].join('\n'),
      ),
    );
    // Every planted value met a check: each error is there, naming its key, without the value.
    expect(issues.map((i) => formatPath(i.path)).sort()).toEqual(
      [
        'catalog.credential', 'catalog.endpoint', 'catalog.region', 'catalog.s3.secret-access-key', 'catalog.token', 'catalog.uri',
        // No effect with PLAINTEXT, and no key to decrypt.
        'kafka.security.ssl_key_password', 'kafka.security.ssl_key_password',
      ].sort(),
    );
    const text = printed(issues);
    for (const [name, value] of Object.entries(SECRETS)) expect(text, name).not.toContain(value);
    // What can be shown still is: the URIs without their passwords, the token's reuse masked.
    expect(text).toContain('found "postgresql://iceberg:***@db.example:5432/iceberg"');
    expect(text).toContain('found "http://AKIAEXAMPLE:***@s3.example"');
    expect(text).toContain('catalog.region: applies only to type "s3tables"; found "***"');
  });

  it('never print a secret of the wrong type, outside an enum, or under an unknown key', () => {
    const issues = issuesOf(
      topicsWith(
        `    protocol: "SASL_SSL"\n    sasl_mechanism: "\${SASL_MECHANISM_TEXT}"\n    username: "u"\n    password: "p"\n    session_token: "\${SESSION_TOKEN}"\n`,
        ['  type: "rest"', '  uri: "http://127.0.0.1:8181"', '  credential: 424242424242', '  namespace: "analytics"'].join('\n'),
        [
          '    format: "avro-confluent"',
          '    schema_registry:',
          '      url: "http://127.0.0.1:8081"',
          '      bearer_token: 777888999000111',
          '      basic_auth: { username: "u", password: "${REGISTRY_PASSWORD}", api_secret: "${REGISTRY_PASSWORD}" }',
          '',
        ].join('\n'),
      ).replace('    format: "json"\n', ''),
    );
    const kinds = issues.map((i) => `${formatPath(i.path)}: ${i.problem}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'kafka.security.sasl_mechanism: not an accepted value',
        'kafka.security.session_token: unknown key "session_token"',
        'catalog.credential: wrong type',
        'topics.bid-events.schema_registry.bearer_token: wrong type',
        'topics.bid-events.schema_registry.basic_auth.api_secret: unknown key "api_secret"',
      ]),
    );
    const text = printed(issues);
    for (const [name, value] of Object.entries(SECRETS)) expect(text, name).not.toContain(value);
    expect(text).not.toMatch(/424242424242|777888999000111/);
  });

  it('still name the SASL mechanism where a problem is about it: a public name, not a secret', () => {
    const issues = issuesOf(topicsWith('    protocol: "SASL_SSL"\n    sasl_mechanism: "SCRAM-SHA-512"\n    password: "${KEY_PASSWORD}"\n', '  namespace: "analytics"'));
    expect(issues.map(formatIssue)).toEqual([expect.stringMatching(/kafka\.security: SCRAM-SHA-512 needs username and password; expected username and password/)]);
  });

  it('hold a REST catalog URI with a password to be a mistake, shown without the password', () => {
    const issues = issuesOf(topicsWith('    protocol: "PLAINTEXT"\n', ['  type: "rest"', '  uri: "https://svc:${PG_PASSWORD}@catalog.example/iceberg"', '  namespace: "analytics"'].join('\n')));
    expect(issues.map(formatIssue)).toEqual([
      expect.stringMatching(/catalog\.uri: holds a user name or password \(user:password@\), which a REST catalog request cannot carry; found "https:\/\/svc:\*\*\*@catalog\.example\/iceberg"; expected the URL without user:password@/),
    ]);
  });
});

describe('the scrubber made from a resolved configuration', () => {
  it('finds every secret the runtime holds: Kafka passwords, registry credentials, REST token, headers and s3 keys', () => {
    const env = {
      KAFKA_PASSWORD: 'kafka-pass-1e4f',
      REST_TOKEN: 'rest-token-7c2a',
      AUTH_HEADER: 'Basic aGVhZGVyLXNlY3JldA==',
      S3_KEY_ID: 'AKIAEXAMPLE0KEYID',
      S3_SECRET: 's3-secret-9b0d',
      S3_SESSION: 's3-session-4f61',
      REGISTRY_PASSWORD: 'registry-pass-83aa',
    };
    const topics = topicsWith(
      '    protocol: "SASL_PLAINTEXT"\n    sasl_mechanism: "SCRAM-SHA-256"\n    username: "u"\n    password: "${KAFKA_PASSWORD}"\n',
      [
        '  type: "rest"',
        '  uri: "http://127.0.0.1:8181"',
        '  token: "${REST_TOKEN}"',
        '  header.Authorization: "${AUTH_HEADER}"',
        '  s3.access-key-id: "${S3_KEY_ID}"',
        '  s3.secret-access-key: "${S3_SECRET}"',
        '  s3.session-token: "${S3_SESSION}"',
        '  namespace: "analytics"',
      ].join('\n'),
      '    format: "avro-confluent"\n    schema_registry:\n      url: "http://reg:${REGISTRY_PASSWORD}@127.0.0.1:8081"\n',
    ).replace('    format: "json"\n', '');
    const { config } = loadConfig({ configDir: tempProject({ topics }), env });
    const scrubber = SecretScrubber.of(config);
    const text = Object.values(env).join(' | ');
    expect(scrubber.scrub(text)).toBe(Object.values(env).map(() => '***').join(' | '));
    // What is not secret stays readable.
    expect(scrubber.scrub('SCRAM-SHA-256 as u at http://127.0.0.1:8181')).toBe('SCRAM-SHA-256 as u at http://127.0.0.1:8181');
  });
});
