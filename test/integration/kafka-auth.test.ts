// Authentication against the real broker's secured listeners (scripts/kafka.sh): SASL_SSL with
// SCRAM-SHA-512, SSL with client certificates, and SASL_SSL with OAUTHBEARER, where Kafka's own
// validator accepts unsecured JWTs and makes each session last as long as its token, as AWS MSK
// does with IAM tokens. Pipelines run end to end through each and are read back by pyiceberg; a
// wrong credential must give one clear error and a bounded number of attempts; and no secret the
// runtime was given may appear in anything it prints or serves.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KafkaConfig } from '../../src/config/types.js';
import { createKafka } from '../../src/kafka/client.js';
import type { BearerToken } from '../../src/kafka/oauth-bearer.js';
import { ensureTopic } from '../../src/kafka/topics.js';
import { ROOT, ensureBuilt } from '../helpers/build.js';
import { expectExactlyOnce, expectTableRows, isBad } from '../helpers/expectations.js';
import { KAFKA_PORT, OAUTH_BOOTSTRAP, SASL_SSL_BOOTSTRAP, SCRAM_PASSWORD, SCRAM_USER, SSL_BOOTSTRAP, TLS_DIR, ensureKafka } from '../helpers/kafka.js';
import { ensurePythonEnv } from '../helpers/python.js';
import { expectedRecords, produce, readTable, runToExit, runtimeProject, startRuntime } from '../helpers/runtime.js';

const CA = path.join(TLS_DIR, 'ca.pem');
const BROKER_LOG = path.join(ROOT, `.run/kafka-${KAFKA_PORT}/broker.log`);
const RUN = ['--bounded', '--parallelism', '1', '--checkpoint-interval', '500ms', '--metrics-port', '0'];

const scramSecurity = `  security:
    protocol: "SASL_SSL"
    sasl_mechanism: "SCRAM-SHA-512"
    username: "${SCRAM_USER}"
    password: "\${KAFKA_PASSWORD}"
    ssl_ca_location: "${CA}"
`;

const sslSecurity = (withCertificate: boolean) => `  security:
    protocol: "SSL"
    ssl_ca_location: "${CA}"
${withCertificate ? `    ssl_certificate_location: "${path.join(TLS_DIR, 'client.pem')}"\n    ssl_key_location: "${path.join(TLS_DIR, 'client.key')}"\n` : ''}`;

const iamSecurity = `  security:
    protocol: "SASL_SSL"
    sasl_mechanism: "AWS_MSK_IAM"
    region: "eu-west-3"
    ssl_ca_location: "${CA}"
    sasl_jaas_config: "software.amazon.msk.auth.iam.IAMLoginModule required;"
    sasl_client_callback_handler_class: "software.amazon.msk.auth.iam.IAMClientCallbackHandler"
`;

/** Lines of the broker's log that record a refused authentication (on one listener's port). */
function brokerAuthFailures(listener = ''): number {
  return readFileSync(BROKER_LOG, 'utf8').split('\n').filter((l) => l.includes('Failed authentication with') && l.includes(listener)).length;
}

beforeAll(() => {
  ensureBuilt();
  ensureKafka();
  ensurePythonEnv();
}, 900_000);

describe('SASL_SSL with SCRAM-SHA-512', () => {
  it('produces and consumes through it into Iceberg, exactly once', async () => {
    const env = { KAFKA_BOOTSTRAP_SERVERS: SASL_SSL_BOOTSTRAP, KAFKA_PASSWORD: SCRAM_PASSWORD };
    const p = runtimeProject({ kafkaSecurity: scramSecurity, env, bootstrap: SASL_SSL_BOOTSTRAP });
    produce(p, p.bid, ['--count', '600', '--partitions', '2', '--malformed-ratio', '0.05', '--seed', '21'], env);
    produce(p, p.user, ['--count', '200', '--seed', '22'], env);
    const run = await runToExit(p, RUN, env);
    expect(run.code, run.output).toBe(0);
    const bid = await expectExactlyOnce(p, p.bid, 'parsed_events', expectedRecords(p, p.bid, 600, 21, 0.05));
    expect(bid.rows + bid.deadLetters).toBe(600);
    await expectExactlyOnce(p, p.user, 'user_events_enriched', expectedRecords(p, p.user, 200, 22, 0));
    expect(run.output).not.toContain(SCRAM_PASSWORD);
  }, 180_000);

  it('a wrong password: one clear KAFKA_AUTH_FAILED per pipeline, a bounded number of attempts, exit 1', async () => {
    const good = { KAFKA_BOOTSTRAP_SERVERS: SASL_SSL_BOOTSTRAP, KAFKA_PASSWORD: SCRAM_PASSWORD };
    const p = runtimeProject({ kafkaSecurity: scramSecurity, env: good, bootstrap: SASL_SSL_BOOTSTRAP });
    produce(p, p.bid, ['--count', '10', '--seed', '23'], good);
    produce(p, p.user, ['--count', '10', '--seed', '24'], good);
    const wrong = 'not-the-password-5c1d';
    const before = brokerAuthFailures();
    const run = await runToExit(p, ['--parallelism', '1', '--metrics-port', '0'], { ...good, KAFKA_PASSWORD: wrong });
    const refused = brokerAuthFailures() - before;

    expect(run.code, run.output).toBe(1);
    const lines = run.output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const failures = lines.filter((l) => l.code === 'KAFKA_AUTH_FAILED' && l.level === 'error');
    // One failure per pipeline, each naming the refusal, and no restart onto the same password.
    expect(new Set(failures.map((l) => l.pipeline)).size).toBe(2);
    expect(failures.length).toBeLessThanOrEqual(4);
    // And little else: kafkajs' own notes on the refusal are not repeated beside it.
    expect(lines.filter((l) => l.level === 'error').length).toBeLessThanOrEqual(4);
    expect(JSON.stringify(failures)).toMatch(/invalid credentials with SASL mechanism SCRAM-SHA-512/);
    expect(lines.filter((l) => /restart/i.test(String(l.msg)) && l.code === 'KAFKA_AUTH_FAILED')).toHaveLength(0);
    // The broker saw a handful of attempts, not a storm (kafkajs retries nothing it calls final).
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThanOrEqual(6);
    expect(run.output).not.toContain(wrong);
  }, 120_000);
});

describe('SSL with client certificates', () => {
  it('consumes through it into Iceberg, dead letters to a topic over the same client, read back by kcat', async () => {
    const env = { KAFKA_BOOTSTRAP_SERVERS: SSL_BOOTSTRAP };
    const dlqTopic = `dlq-ssl-${Date.now()}`;
    const p = runtimeProject({ kafkaSecurity: sslSecurity(true), env, bootstrap: SSL_BOOTSTRAP, bidDeadLetterTopic: dlqTopic });
    produce(p, p.bid, ['--count', '500', '--partitions', '2', '--malformed-ratio', '0.04', '--seed', '31'], env);
    produce(p, p.user, ['--count', '100', '--seed', '32'], env);
    const admin = createKafka(p.config.kafka).admin();
    await admin.connect();
    await ensureTopic(admin, dlqTopic, 1);
    await admin.disconnect();
    const run = await runToExit(p, RUN, env);
    expect(run.code, run.output).toBe(0);

    const records = expectedRecords(p, p.bid, 500, 31, 0.04);
    const bad = records.filter(isBad);
    expect(bad.length).toBeGreaterThan(0);
    // Every good record once with its values; the bad ones went to the topic and nowhere else.
    await expectTableRows(p, 'parsed_events', records);
    expect((await readTable(p, 'parsed_events_dlq', ['source_offset'])).rows).toEqual([]);
    await expectExactlyOnce(p, p.user, 'user_events_enriched', expectedRecords(p, p.user, 100, 32, 0));

    // kcat, an independent client, through the same listener with the same certificate.
    const tls = ['-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${CA}`, '-X', `ssl.certificate.location=${path.join(TLS_DIR, 'client.pem')}`, '-X', `ssl.key.location=${path.join(TLS_DIR, 'client.key')}`];
    const out = execFileSync('kcat', ['-b', SSL_BOOTSTRAP, ...tls, '-C', '-t', dlqTopic, '-o', 'beginning', '-e', '-q', '-f', '%s\x1e'], { encoding: 'utf8', timeout: 60_000 });
    expect(out.split('\x1e').filter((v) => v !== '').sort()).toEqual(bad.map((r) => r.value).sort());
  }, 180_000);

  it('without a client certificate the broker refuses the handshake: KAFKA_AUTH_FAILED, not restarted, exit 1', async () => {
    const env = { KAFKA_BOOTSTRAP_SERVERS: SSL_BOOTSTRAP };
    const p = runtimeProject({ kafkaSecurity: sslSecurity(false), env, bootstrap: SSL_BOOTSTRAP });
    const before = brokerAuthFailures(SSL_BOOTSTRAP);
    const run = await runToExit(p, ['--parallelism', '1', '--metrics-port', '0'], env, 150_000);
    const refused = brokerAuthFailures(SSL_BOOTSTRAP) - before;
    expect(run.code, run.output).toBe(1);
    const failures = run.output.split('\n').filter((l) => l.includes('"level":"error"'));
    expect(failures.length).toBe(2);
    expect(failures.every((l) => l.includes('"code":"KAFKA_AUTH_FAILED"') && l.includes('pipeline failed for good'))).toBe(true);
    expect(run.output).toMatch(/ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE)/);
    // kafkajs retries a refused connection 8 times before it gives up (it cannot tell a refused
    // certificate from a broker going away); nothing restarts the pipelines after that.
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThanOrEqual(2 * 9);
  }, 180_000);
});

describe('SASL/OAUTHBEARER sessions (the mechanism AWS_MSK_IAM uses)', () => {
  // An unsecured JWT (RFC 7519 with "alg":"none"), which the broker's default validator accepts
  // until its `exp`.
  const jwt = (lifetimeS: number, issuedAtMs = Date.now()): BearerToken => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const iat = Math.floor(issuedAtMs / 1000);
    return { value: `${b64({ alg: 'none' })}.${b64({ sub: 'streamberg', iat, exp: iat + lifetimeS })}.`, expiresAtMs: (iat + lifetimeS) * 1000 };
  };
  const iamConfig: KafkaConfig = {
    bootstrapServers: [OAUTH_BOOTSTRAP],
    clientId: 'auth-test',
    security: { protocol: 'SASL_SSL', saslMechanism: 'AWS_MSK_IAM', region: 'eu-west-3', sslCaLocation: CA },
  };
  const LIFETIME_S = 12;

  it('asks for a new token before the old one expires, and the connection keeps working past the first token', async () => {
    const issued: Array<{ atMs: number; expiresAtMs: number }> = [];
    const kafka = createKafka(iamConfig, {
      tokenSource: () => {
        const t = jwt(LIFETIME_S);
        issued.push({ atMs: Date.now(), expiresAtMs: t.expiresAtMs });
        return Promise.resolve(t);
      },
    });
    const refusedBefore = brokerAuthFailures(OAUTH_BOOTSTRAP);
    const admin = kafka.admin();
    await admin.connect();
    const until = Date.now() + (LIFETIME_S + 4) * 1000;
    let requests = 0;
    while (Date.now() < until) {
      await admin.fetchTopicMetadata({ topics: [] });
      requests++;
      await new Promise((r) => setTimeout(r, 1000));
    }
    await admin.disconnect();
    expect(requests).toBeGreaterThan(LIFETIME_S);
    expect(brokerAuthFailures(OAUTH_BOOTSTRAP) - refusedBefore).toBe(0);
    // Past the first token's expiry, so at least one re-authentication with a newer token.
    expect(issued.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < issued.length; i++) expect(issued[i]!.atMs).toBeLessThan(issued[i - 1]!.expiresAtMs);
  }, 60_000);

  it('the broker checks the token of every re-authentication: an expired one ends the connection', async () => {
    // Control for the test above: the first token is good, later ones expired a second ago, while
    // claiming a long life to our provider, so only the broker can tell.
    let calls = 0;
    const kafka = createKafka(iamConfig, {
      tokenSource: () => {
        const t = calls++ === 0 ? jwt(LIFETIME_S) : jwt(LIFETIME_S, Date.now() - (LIFETIME_S + 1) * 1000);
        return Promise.resolve({ value: t.value, expiresAtMs: Date.now() + 3_600_000 });
      },
    });
    const refusedBefore = brokerAuthFailures(OAUTH_BOOTSTRAP);
    const admin = kafka.admin({ retry: { retries: 0 } });
    await admin.connect();
    let failure: unknown;
    const until = Date.now() + (LIFETIME_S + 6) * 1000;
    while (Date.now() < until && failure === undefined) {
      await admin.fetchTopicMetadata({ topics: [] }).catch((e: unknown) => (failure = e));
      await new Promise((r) => setTimeout(r, 1000));
    }
    await admin.disconnect();
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(failure, 'the broker accepted an expired token').toBeDefined();
    // kafkajs does not answer the broker's RFC 7628 error challenge, so what it reports varies
    // ("SASL state", "No brokers"); the broker's log says what happened.
    expect(brokerAuthFailures(OAUTH_BOOTSTRAP) - refusedBefore).toBeGreaterThan(0);
  }, 60_000);
});

describe('secrets are never printed', () => {
  const SECRETS = {
    KAFKA_PASSWORD: SCRAM_PASSWORD,
    AWS_ACCESS_KEY_ID: 'AKIAZZSECRETKEYID9Q7',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI-secret-access-key-8d3f0a1b2c',
    AWS_SESSION_TOKEN: 'IQoJb3JpZ2luX2VjE-session-token-6e9b4c2d7a',
  };
  const expectNoSecret = (where: string, text: string) => {
    for (const [name, value] of Object.entries(SECRETS)) expect(text.includes(value), `${name} in ${where}:\n${text.slice(-3000)}`).toBe(false);
  };

  async function scrape(port: number): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    return res.text();
  }

  it('in --check, in a running pipeline\'s logs and /metrics, and when MSK IAM is refused', async () => {
    const env = { ...SECRETS, KAFKA_BOOTSTRAP_SERVERS: SASL_SSL_BOOTSTRAP, AWS_REGION: 'eu-west-3', LOG_LEVEL: 'debug' };

    // SCRAM: --check, then a pipeline running with debug logs, scraped, and stopped.
    const p = runtimeProject({ kafkaSecurity: scramSecurity, env, bootstrap: SASL_SSL_BOOTSTRAP });
    produce(p, p.bid, ['--count', '200', '--malformed-ratio', '0.05', '--seed', '41'], env);
    produce(p, p.user, ['--count', '50', '--seed', '42'], env);
    const check = await runToExit(p, ['--check'], env);
    expect(check.code, check.output).toBe(0);
    expect(check.output).toMatch(/SASL_SSL, SCRAM-SHA-512/);
    expectNoSecret('--check', check.output);

    const metricsPort = 29100 + Math.floor(Math.random() * 50);
    const run = startRuntime(p, ['--parallelism', '1', '--checkpoint-interval', '500ms', '--metrics-port', String(metricsPort)], env);
    await run.waitFor(/"level":"debug","msg":"checkpoint committed/, 90_000);
    const metrics = await scrape(metricsPort);
    expect(metrics).toMatch(/streamberg_records_in_total/);
    expectNoSecret('/metrics', metrics);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expectNoSecret('the pipeline\'s output', run.output());

    // AWS_MSK_IAM with static credentials, against a listener that refuses the IAM token.
    const iamEnv = { ...env, KAFKA_BOOTSTRAP_SERVERS: OAUTH_BOOTSTRAP };
    const iam = runtimeProject({ kafkaSecurity: iamSecurity, env: iamEnv, bootstrap: OAUTH_BOOTSTRAP });
    const iamCheck = await runToExit(iam, ['--check'], iamEnv);
    expect(iamCheck.code, iamCheck.output).toBe(0);
    expectNoSecret('--check with AWS_MSK_IAM', iamCheck.output);
    const refused = await runToExit(iam, ['--parallelism', '1', '--metrics-port', '0'], iamEnv, 120_000);
    expect(refused.code, refused.output).toBe(1);
    expect(refused.output).toMatch(/KAFKA_AUTH_FAILED/);
    expectNoSecret('a refused AWS_MSK_IAM run', refused.output);
    // Nor the access key id's signature scope or the token (whose base64 would hide the keys).
    expect(refused.output).not.toMatch(/X-Amz-Credential|X-Amz-Security-Token|aHR0cHM6Ly9rYWZrYS/);
  }, 240_000);
});
