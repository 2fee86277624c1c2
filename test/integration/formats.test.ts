// CSV and Avro topics through the whole runtime: records produced to a real broker, read back
// from the Iceberg tables by pyiceberg, malformed records found in the dead-letter table.

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import net, { type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createKafka } from '../../src/kafka/client.js';
import { ensureTopic } from '../../src/kafka/topics.js';
import { avroTypeOf } from '../../src/schema/avro-schema.js';
import { ensureBuilt } from '../helpers/build.js';
import { BOOTSTRAP, KAFKA_PORT, ensureKafka } from '../helpers/kafka.js';
import { ROOT } from '../helpers/build.js';
import { ensurePythonEnv } from '../helpers/python.js';
import { logLines } from '../helpers/faults.js';
import { readTable, runToExit, runtimeProject, startRuntime, type RuntimeProject } from '../helpers/runtime.js';

// The registry (scripts/schema-registry.sh) is started here when it is not running, and then
// stopped after this file: it is an empty in-memory registry on every start.
const REGISTRY_PORT = Number(process.env.SCHEMA_REGISTRY_PORT ?? KAFKA_PORT + 18);
const REGISTRY = `http://127.0.0.1:${REGISTRY_PORT}/apis/ccompat/v7`;
const registryScript = (command: string) =>
  execFileSync('bash', [path.join(ROOT, 'scripts/schema-registry.sh'), command], {
    env: { ...process.env, SCHEMA_REGISTRY_PORT: String(REGISTRY_PORT) },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 900_000,
  });
let startedRegistry = false;

beforeAll(() => {
  ensureBuilt();
  ensureKafka();
  ensurePythonEnv();
  try {
    registryScript('status');
  } catch {
    registryScript('start');
    startedRegistry = true;
  }
}, 900_000);

afterAll(() => {
  if (startedRegistry) registryScript('stop');
}, 60_000);

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

/** Relays every connection to 127.0.0.1:`port` on to 127.0.0.1:`target`. */
function relayTo(port: number, target: number): Promise<Server> {
  const server = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** Registers an Avro schema under a subject; returns its id. */
async function register(subject: string, schema: unknown): Promise<number> {
  const res = await fetch(`${REGISTRY}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: JSON.stringify(schema) }),
  });
  const body = (await res.json()) as { id?: number };
  if (res.status !== 200 || typeof body.id !== 'number') throw new Error(`registering ${subject}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body.id;
}

function confluent(id: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, body]);
}

/** Replaces a topic's `format: "json"` line with `lines` and reloads the project's config. */
function withFormat(p: RuntimeProject, topic: string, lines: string): RuntimeProject {
  const file = path.join(p.configDir, 'topics.yaml');
  const text = readFileSync(file, 'utf8');
  const at = text.indexOf('    format: "json"\n', text.indexOf(`  ${topic}:\n`));
  writeFileSync(file, text.slice(0, at) + lines + text.slice(at + '    format: "json"\n'.length));
  const config = loadConfig({ configDir: p.configDir, env: { WAREHOUSE_DIR: p.warehouse, KAFKA_BOOTSTRAP_SERVERS: BOOTSTRAP } }).config;
  return { ...p, config, pipeline: (t) => config.pipelines.find((x) => x.topic === t)! };
}

async function send(p: RuntimeProject, topic: string, values: (string | Buffer)[]): Promise<void> {
  const kafka = createKafka(p.config.kafka);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopic(admin, topic, 1);
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: values.map((value, i) => ({ key: String(i), value })) });
  await producer.disconnect();
}

const BID_COLUMNS = ['event_name', 'user_id', 'city_id', 'platform', 'session_id', 'event_time'];

describe('source formats through the runtime', () => {
  it('reads CSV with quoting, embedded delimiters and newlines, comments and null literals; bad rows are dead letters', async () => {
    let p = runtimeProject();
    p = withFormat(p, p.bid, `    format: "csv"
    format_options:
      csv.null-literal: "NULL"
      csv.allow-comments: "true"
`);
    await send(p, p.bid, [
      'bid,1,10,"web, desktop","s""1",1706975400000', // 0
      '"multi\nline",2,NULL,ios,s2,1706975400001\n', // 1
      '# a comment, skipped', // 2
      'view,notanumber,1,ios,s3,1706975400002', // 3: dead letter
      '"unclosed,4,1,ios,s4,1706975400003', // 4: dead letter
      'ok,5,,android,,1706975400004', // 5
    ]);
    await send(p, p.user, ['{"event_type":"x","user_id":1,"timestamp_ms":1}']);
    const run = await runToExit(p, ['--bounded', '--metrics-port', '0']);
    expect(run.code, run.output).toBe(0);
    const { rows } = await readTable(p, 'parsed_events', BID_COLUMNS);
    rows.sort((a, b) => Number(a.user_id) - Number(b.user_id));
    expect(rows).toEqual([
      { event_name: 'bid', user_id: 1, city_id: 10, platform: 'web, desktop', session_id: 's"1', event_time: '2024-02-03T15:50:00.000000' },
      { event_name: 'multi\nline', user_id: 2, city_id: null, platform: 'ios', session_id: 's2', event_time: '2024-02-03T15:50:00.001000' },
      { event_name: 'ok', user_id: 5, city_id: null, platform: 'android', session_id: '', event_time: '2024-02-03T15:50:00.004000' },
    ]);
    const dlq = await readTable(p, 'parsed_events_dlq', ['source_offset', 'error_code', 'error_message']);
    dlq.rows.sort((a, b) => Number(a.source_offset) - Number(b.source_offset));
    expect(dlq.rows).toEqual([
      { source_offset: 3, error_code: 'RECORD_DECODE_FAILED', error_message: 'field user_id (column 2): "notanumber" cannot be read as BIGINT' },
      { source_offset: 4, error_code: 'RECORD_DECODE_FAILED', error_message: 'invalid CSV: field 1: a quoted field is not closed' },
    ]);
  }, 300_000);

  it('reads plain Avro written with a schema of its own (an extra field, an int user_id, no device_type); malformed Avro is a dead letter', async () => {
    let p = runtimeProject();
    const writer = {
      type: 'record',
      name: 'UserEvent',
      fields: [
        { name: 'event_type', type: 'string' },
        { name: 'user_id', type: 'int' },
        { name: 'referrer', type: ['null', 'string'], default: null },
        { name: 'page_url', type: ['null', 'string'], default: null },
        { name: 'session_id', type: 'string' },
        { name: 'timestamp_ms', type: 'long' },
      ],
    };
    p = withFormat(p, p.user, `    format: "avro"\n    avro_schema: '${JSON.stringify(writer)}'\n`);
    const type = avroTypeOf(writer);
    const good = (i: number) => type.toBuffer({ event_type: 'page_view', user_id: i, referrer: 'r', page_url: i % 2 ? `/p/${i}` : null, session_id: `s${i}`, timestamp_ms: 1706975400000n + BigInt(i) });
    await send(p, p.user, [good(1), good(2), good(3).subarray(0, 6), Buffer.concat([good(4), Buffer.from([9])]), good(5)]);
    await send(p, p.bid, ['{"event_name":"x","user_id":1,"timestamp_ms":1}']);
    const run = await runToExit(p, ['--bounded', '--metrics-port', '0']);
    expect(run.code, run.output).toBe(0);
    const { rows } = await readTable(p, 'user_events_enriched', ['event_type', 'user_id', 'page_url', 'device_type', 'session_id', 'is_mobile']);
    rows.sort((a, b) => Number(a.user_id) - Number(b.user_id));
    expect(rows).toEqual([1, 2, 5].map((i) => ({ event_type: 'page_view', user_id: i, page_url: i % 2 ? `/p/${i}` : null, device_type: null, session_id: `s${i}`, is_mobile: false })));
    const dlq = await readTable(p, 'user_events_enriched_dlq', ['source_offset', 'error_message']);
    dlq.rows.sort((a, b) => Number(a.source_offset) - Number(b.source_offset));
    expect(dlq.rows.map((r) => r.source_offset)).toEqual([2, 3]);
    for (const r of dlq.rows) expect(r.error_message).toMatch(/^invalid Avro: /);
  }, 300_000);

  it('reads Confluent-framed Avro through two registered schema versions (a field added with a default); unknown ids, Glue framing and bad bytes are dead letters', async () => {
    let p = runtimeProject();
    const subject = `${p.user}-value`;
    const v1 = {
      type: 'record',
      name: 'UserEvent',
      namespace: 'com.example',
      fields: [
        { name: 'event_type', type: 'string' },
        { name: 'user_id', type: 'long' },
        { name: 'session_id', type: 'string' },
        { name: 'timestamp_ms', type: 'long' },
      ],
    };
    const v2 = { ...v1, fields: [...v1.fields, { name: 'device_type', type: ['null', 'string'], default: null }] };
    const id1 = await register(subject, v1);
    const id2 = await register(subject, v2);
    expect(id2).not.toBe(id1);
    p = withFormat(p, p.user, `    format: "avro-confluent"
    schema_registry:
      url: "${REGISTRY}"
`);

    // --check finds the registry and resolves the subject's latest version (v2).
    const check = await runToExit(p, ['--check']);
    expect(check.code, check.output).toBe(0);
    expect(check.output).toContain(`subject ${subject} version 2 (schema id ${id2}) resolves against source_schema`);

    const t1 = avroTypeOf(v1);
    const t2 = avroTypeOf(v2);
    const ts = (i: number) => 1706975400000n + BigInt(i);
    await send(p, p.user, [
      confluent(id1, t1.toBuffer({ event_type: 'page_view', user_id: 1n, session_id: 's1', timestamp_ms: ts(1) })), // 0
      confluent(id2, t2.toBuffer({ event_type: 'click', user_id: 2n, session_id: 's2', timestamp_ms: ts(2), device_type: 'ios' })), // 1
      confluent(987654, t1.toBuffer({ event_type: 'x', user_id: 3n, session_id: 's3', timestamp_ms: ts(3) })), // 2: unknown id
      Buffer.concat([Buffer.from([3, 0]), Buffer.alloc(16), Buffer.from([1, 2])]), // 3: Glue framing
      confluent(id2, Buffer.from([0x02])), // 4: truncated
      confluent(id1, t1.toBuffer({ event_type: 'page_view', user_id: 2n ** 60n, session_id: 's5', timestamp_ms: ts(5) })), // 5
    ]);
    await send(p, p.bid, ['{"event_name":"x","user_id":1,"timestamp_ms":1}']);
    const run = await runToExit(p, ['--bounded', '--metrics-port', '0']);
    expect(run.code, run.output).toBe(0);
    const { rows } = await readTable(p, 'user_events_enriched', ['event_type', 'user_id', 'device_type', 'session_id', 'is_mobile', 'event_time']);
    rows.sort((a, b) => String(a.session_id).localeCompare(String(b.session_id)));
    expect(rows).toEqual([
      { event_type: 'page_view', user_id: 1, device_type: null, session_id: 's1', is_mobile: false, event_time: '2024-02-03T15:50:00.001000' },
      { event_type: 'click', user_id: 2, device_type: 'ios', session_id: 's2', is_mobile: true, event_time: '2024-02-03T15:50:00.002000' },
      { event_type: 'page_view', user_id: 2 ** 60, device_type: null, session_id: 's5', is_mobile: false, event_time: '2024-02-03T15:50:00.005000' },
    ]);
    const dlq = await readTable(p, 'user_events_enriched_dlq', ['source_offset', 'error_message']);
    dlq.rows.sort((a, b) => Number(a.source_offset) - Number(b.source_offset));
    expect(dlq.rows.map((r) => r.source_offset)).toEqual([2, 3, 4]);
    expect(dlq.rows[0]!.error_message).toBe('schema id 987654: schema id 987654 is not known to the schema registry');
    expect(dlq.rows[1]!.error_message).toMatch(/AWS Glue Schema Registry wire format \(header byte 3\)/);
    expect(dlq.rows[2]!.error_message).toMatch(/^invalid Avro: /);
  }, 300_000);

  it('--check warns, not fails, when the registry is unreachable, and fails when the latest schema does not resolve', async () => {
    let p = runtimeProject();
    p = withFormat(p, p.user, `    format: "avro-confluent"
    schema_registry:
      url: "http://127.0.0.1:1/apis/ccompat/v7"
      timeout: "2s"
`);
    const unreachable = await runToExit(p, ['--check']);
    expect(unreachable.code, unreachable.output).toBe(0);
    expect(unreachable.output).toMatch(/warning: topic \S+: schema registry http:\/\/127\.0\.0\.1:1\/apis\/ccompat\/v7: not reachable/);

    let q = runtimeProject();
    await register(`${q.user}-value`, { type: 'record', name: 'U', fields: [{ name: 'user_id', type: 'string' }] });
    q = withFormat(q, q.user, `    format: "avro-confluent"
    schema_registry:
      url: "${REGISTRY}"
`);
    const bad = await runToExit(q, ['--check']);
    expect(bad.code, bad.output).toBe(2);
    expect(bad.output).toMatch(/subject \S+-value version 1 \(schema id \d+\): the writer schema does not resolve against source_schema/);
  }, 120_000);

  it('rides out an unreachable registry: degraded, never a dead letter, not counted as a failure; the records land once it answers', async () => {
    // max_failures 1: were the outage counted, the first failed task would end the pipeline.
    const restart = '  restart: { max_failures: 1, initial_backoff: "100ms", max_backoff: "500ms" }';
    let p = runtimeProject({ runtimeExtra: restart });
    const schema = { type: 'record', name: 'UserEvent', fields: [{ name: 'event_type', type: 'string' }, { name: 'user_id', type: 'long' }, { name: 'session_id', type: 'string' }, { name: 'timestamp_ms', type: 'long' }] };
    const id = await register(`${p.user}-value`, schema);
    const type = avroTypeOf(schema);
    await send(p, p.user, [1, 2, 3].map((i) => confluent(id, type.toBuffer({ event_type: 'e', user_id: BigInt(i), session_id: `s${i}`, timestamp_ms: 1n }))));
    await send(p, p.bid, ['{"event_name":"x","user_id":1,"timestamp_ms":1}']);
    // The registry's address answers nothing until a relay to the real registry opens on it.
    const port = await freePort();
    p = withFormat(p, p.user, `    format: "avro-confluent"\n    schema_registry:\n      url: "http://127.0.0.1:${port}/apis/ccompat/v7"\n      timeout: "2s"\n`);
    const run = startRuntime(p, ['--bounded', '--metrics-port', '0']);
    let relay: Server | undefined;
    try {
      await run.waitFor(new RegExp(`"pipeline degraded: SCHEMA_REGISTRY_UNAVAILABLE[^"]*","pipeline":"${p.user}"`), 60_000);
      // Several restarts later it is still there, still degraded, with nothing written.
      await run.waitFor(new RegExp(`"still degraded[^"]*","pipeline":"${p.user}","attempt":4`), 60_000);
      expect(run.child.exitCode).toBeNull();
      expect((await readTable(p, 'user_events_enriched', ['user_id'])).rows).toEqual([]);
      expect((await readTable(p, 'user_events_enriched_dlq', ['source_offset'])).rows).toEqual([]);
      relay = await relayTo(port, REGISTRY_PORT);
      expect(await run.exited, run.output().slice(-4000)).toBe(0);
    } finally {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
      relay?.close();
    }
    const out = run.output();
    expect(logLines(out, /^pipeline degraded/, p.user)).toHaveLength(1);
    expect(logLines(out, /^pipeline recovered/, p.user)).toHaveLength(1);
    expect(logLines(out, /^pipeline failed/, p.user)).toEqual([]);
    const { rows } = await readTable(p, 'user_events_enriched', ['user_id']);
    expect(rows.map((r) => r.user_id).sort()).toEqual([1, 2, 3]);
    expect((await readTable(p, 'user_events_enriched_dlq', ['source_offset'])).rows).toEqual([]);
  }, 300_000);
});
