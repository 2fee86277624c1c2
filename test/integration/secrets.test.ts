// Secrets given to a running pipeline never appear in what it prints or serves. Distinct values
// are planted in every place a secret can go in a configuration that runs: the SCRAM password
// (the broker's SASL_SSL listener checks it), the JAAS line the Java client would read, a schema
// registry's bearer token and the password in its URL. One pipeline runs through; the other
// cannot reach its registry, so its failures (which quote the registry's URL) are logged again
// and again. Then everything printed, and a /metrics scrape, is searched for every secret.

import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client.js';
import { ensureTopic } from '../../src/kafka/topics.js';
import { ensureBuilt } from '../helpers/build.js';
import { SASL_SSL_BOOTSTRAP, SCRAM_PASSWORD, SCRAM_USER, TLS_DIR, ensureKafka } from '../helpers/kafka.js';
import { ensurePythonEnv } from '../helpers/python.js';
import { produce, readTable, runtimeProject, startRuntime } from '../helpers/runtime.js';

beforeAll(() => {
  ensureBuilt();
  ensureKafka();
  ensurePythonEnv();
}, 900_000);

/** A loopback port nothing listens on (free a moment ago). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe('a running pipeline', () => {
  it('prints and serves none of the secrets it was given', async () => {
    const secrets = {
      KAFKA_PASSWORD: SCRAM_PASSWORD,
      JAAS_PASSWORD: 'jaas-pass-0e7b42',
      REGISTRY_PASSWORD: 'registry-pass-5a91d3',
      REGISTRY_TOKEN: 'registry-token-c28f60',
    };
    const security = [
      '  security:',
      '    protocol: "SASL_SSL"',
      '    sasl_mechanism: "SCRAM-SHA-512"',
      `    username: "${SCRAM_USER}"`,
      '    password: "${KAFKA_PASSWORD}"',
      `    ssl_ca_location: "${path.join(TLS_DIR, 'ca.pem')}"`,
      `    sasl_jaas_config: 'ScramLoginModule required username="${SCRAM_USER}" password="\${JAAS_PASSWORD}";'`,
      '',
    ].join('\n');
    const env = { ...secrets, KAFKA_BOOTSTRAP_SERVERS: SASL_SSL_BOOTSTRAP };
    const restart = '  restart: { initial_backoff: "100ms", max_backoff: "300ms" }';
    const p0 = runtimeProject({ kafkaSecurity: security, env, bootstrap: SASL_SSL_BOOTSTRAP, runtimeExtra: restart });
    // The bid topic reads Confluent-framed Avro from a registry that does not answer.
    const port = await freePort();
    const registry = `    format: "avro-confluent"\n    schema_registry:\n      url: "http://reg-user:\${REGISTRY_PASSWORD}@127.0.0.1:${port}/apis/ccompat/v7"\n      bearer_token: "\${REGISTRY_TOKEN}"\n      timeout: "1s"\n`;
    const file = path.join(p0.configDir, 'topics.yaml');
    const text = readFileSync(file, 'utf8');
    const at = text.indexOf('    format: "json"\n', text.indexOf(`  ${p0.bid}:\n`));
    writeFileSync(file, text.slice(0, at) + registry + text.slice(at + '    format: "json"\n'.length));

    produce(p0, p0.user, ['--count', '50', '--seed', '41'], env);
    const kafka = createKafka(p0.config.kafka);
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopic(admin, p0.bid, 1);
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    // Magic byte 0, schema id 7, then an Avro body the decoder never gets to read.
    await producer.send({ topic: p0.bid, messages: [{ value: Buffer.from([0, 0, 0, 0, 7, 2, 0x61]) }] });
    await producer.disconnect();

    const run = startRuntime(p0, ['--parallelism', '1', '--checkpoint-interval', '300ms'], { ...env, STREAMBERG_METRICS_EPHEMERAL: '1' });
    let metrics = '';
    try {
      const line = await run.waitFor(/metrics on http:\/\/127\.0\.0\.1:\d+\/metrics/);
      const url = /http:\/\/\S+\/metrics/.exec(line)![0];
      // The registry's failure is logged, quoting its URL: the path a password in it would take.
      await run.waitFor(new RegExp(`"still degraded[^"]*","pipeline":"${p0.bid}","attempt":3,"code":"SCHEMA_REGISTRY_UNAVAILABLE"`), 60_000);
      expect(run.output()).toContain(`schema registry http://reg-user:***@127.0.0.1:${port}/apis/ccompat/v7: schema id 7: connect ECONNREFUSED`);
      const committed = new RegExp(`^streamberg_records_out_total\\{pipeline="${p0.user}",table="user_events_enriched"\\} 50$`, 'm');
      for (let tries = 0; tries < 200 && !committed.test(metrics); tries++) {
        metrics = await (await fetch(url)).text();
        if (!committed.test(metrics)) await new Promise((r) => setTimeout(r, 300));
      }
      expect(metrics).toMatch(committed);
      run.child.kill('SIGTERM');
      expect(await run.exited, run.output().slice(-3000)).toBe(0);
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    }
    expect((await readTable(p0, 'user_events_enriched', ['user_id'])).rows).toHaveLength(50);
    const printed = run.output() + metrics;
    expect(Object.entries(secrets).filter(([, v]) => printed.includes(v)).map(([k]) => k)).toEqual([]);
  }, 300_000);
});
