// A client of a Confluent-compatible schema registry (Confluent's REST API, which Apicurio
// Registry also serves under /apis/ccompat/v7), and the per-worker cache of writer schemas by id.
//
// Where fetches happen: in the transform worker that meets an id, before it decodes the chunk
// (`prepare`), so decoding itself stays synchronous and the source thread never waits on HTTP.
// Each worker keeps its own cache: a schema id is immutable in the registry, so workers cannot
// disagree, and a handful of extra fetches (one per id per worker) costs less than a shared cache.
//
// Hazards: an unreachable registry (refused connection, timeout, 5xx) must not turn records into
// dead letters: it is SCHEMA_REGISTRY_UNAVAILABLE, retryable, and the task fails, so the pipeline
// restarts from its last checkpoint and reads the same records again. Only an id the registry
// answers 404 for is the record's own fault (a dead letter naming the id); a 404 is remembered for
// a minute, not forever, because a registry restored from a backup may learn the id later.

import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { maskUserinfo } from '../../config/secrets.js';
import type { SchemaRegistryConfig } from '../../config/types.js';
import { StreamError } from '../../errors.js';

export type SchemaLookup =
  | { kind: 'found'; schema: string }
  | { kind: 'missing'; reason: string };

const MISSING_TTL_MS = 60_000;

interface HttpAnswer {
  status: number;
  body: string;
}

function request(config: SchemaRegistryConfig, path: string): Promise<HttpAnswer> {
  const url = new URL(config.url + path);
  const headers: Record<string, string> = { accept: 'application/vnd.schemaregistry.v1+json, application/json' };
  if (config.basicAuth !== undefined) headers.authorization = `Basic ${Buffer.from(`${config.basicAuth.username}:${config.basicAuth.password}`).toString('base64')}`;
  if (config.bearerToken !== undefined) headers.authorization = `Bearer ${config.bearerToken}`;
  const secure = url.protocol === 'https:';
  const options: https.RequestOptions = { method: 'GET', headers, timeout: config.timeoutMs };
  if (secure) {
    if (config.caFile !== undefined) options.ca = readFileSync(config.caFile);
    if (config.rejectUnauthorized === false) options.rejectUnauthorized = false;
  }
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${config.timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

function unavailable(config: SchemaRegistryConfig, what: string, why: string, cause?: unknown): StreamError {
  return new StreamError('SCHEMA_REGISTRY_UNAVAILABLE', `schema registry ${maskUserinfo(config.url)}: ${what}: ${why}`, { cause });
}

/** GET a registry path as JSON: null on 404, a StreamError on anything but 200. */
async function getJson(config: SchemaRegistryConfig, path: string, what: string): Promise<Record<string, unknown> | null> {
  let answer: HttpAnswer;
  try {
    answer = await request(config, path);
  } catch (e) {
    throw unavailable(config, what, e instanceof Error ? e.message : String(e), e);
  }
  if (answer.status === 404) return null;
  if (answer.status === 401 || answer.status === 403) {
    throw new StreamError('SCHEMA_REGISTRY_REFUSED', `schema registry ${maskUserinfo(config.url)}: ${what}: HTTP ${answer.status}; check schema_registry.basic_auth / bearer_token`);
  }
  if (answer.status !== 200) throw unavailable(config, what, `HTTP ${answer.status} ${answer.body.slice(0, 200)}`);
  try {
    return JSON.parse(answer.body) as Record<string, unknown>;
  } catch (e) {
    throw unavailable(config, what, `the answer is not JSON: ${answer.body.slice(0, 200)}`, e);
  }
}

/** The writer schema (Avro JSON text) registered under `id`. */
export async function fetchSchemaById(config: SchemaRegistryConfig, id: number): Promise<SchemaLookup> {
  const body = await getJson(config, `/schemas/ids/${id}`, `schema id ${id}`);
  if (body === null) return { kind: 'missing', reason: `schema id ${id} is not known to the schema registry` };
  const type = body.schemaType ?? 'AVRO';
  if (type !== 'AVRO') return { kind: 'missing', reason: `schema id ${id} is a ${String(type)} schema, not Avro` };
  if (typeof body.schema !== 'string') throw unavailable(config, `schema id ${id}`, 'the answer carries no schema');
  return { kind: 'found', schema: body.schema };
}

/** The latest version of a subject: its id, version and schema; null when the subject does not exist. */
export async function fetchLatest(config: SchemaRegistryConfig, subject: string): Promise<{ id: number; version: number; schema: string } | null> {
  const body = await getJson(config, `/subjects/${encodeURIComponent(subject)}/versions/latest`, `subject ${subject}`);
  if (body === null) return null;
  return { id: Number(body.id), version: Number(body.version), schema: String(body.schema) };
}

/**
 * Writer schemas by id, for one registry. `ensure` fetches what a chunk needs before it is
 * decoded; `get` then answers synchronously. Concurrent `ensure`s of one id share one fetch.
 */
export class SchemaCache {
  private readonly found = new Map<number, string>();
  private readonly missing = new Map<number, { reason: string; atMs: number }>();
  private readonly pending = new Map<number, Promise<void>>();

  constructor(
    private readonly fetchById: (id: number) => Promise<SchemaLookup>,
    private readonly now: () => number = Date.now,
  ) {}

  get(id: number): SchemaLookup | undefined {
    const schema = this.found.get(id);
    if (schema !== undefined) return { kind: 'found', schema };
    const miss = this.missing.get(id);
    return miss === undefined ? undefined : { kind: 'missing', reason: miss.reason };
  }

  /** Fetches every id not yet known (or whose 404 has aged out); throws SCHEMA_REGISTRY_UNAVAILABLE. */
  async ensure(ids: Iterable<number>): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const id of new Set(ids)) {
      if (this.found.has(id)) continue;
      const miss = this.missing.get(id);
      if (miss !== undefined && this.now() - miss.atMs < MISSING_TTL_MS) continue;
      let p = this.pending.get(id);
      if (p === undefined) {
        p = this.fetchById(id)
          .then((r) => {
            if (r.kind === 'found') {
              this.found.set(id, r.schema);
              this.missing.delete(id);
            } else this.missing.set(id, { reason: r.reason, atMs: this.now() });
          })
          .finally(() => this.pending.delete(id));
        this.pending.set(id, p);
      }
      waits.push(p);
    }
    await Promise.all(waits);
  }
}

const caches = new Map<string, SchemaCache>();

/** This thread's cache for a registry (one per URL and credentials). */
export function schemaCacheFor(config: SchemaRegistryConfig): SchemaCache {
  const key = JSON.stringify([config.url, config.basicAuth, config.bearerToken, config.caFile]);
  let cache = caches.get(key);
  if (cache === undefined) {
    cache = new SchemaCache((id) => fetchSchemaById(config, id));
    caches.set(key, cache);
  }
  return cache;
}
