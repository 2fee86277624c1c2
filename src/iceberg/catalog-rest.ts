// An Iceberg REST catalog (the Iceberg REST OpenAPI spec): AWS Glue's and S3 Tables' Iceberg
// endpoints, Apache Polaris, Nessie, Unity Catalog, Lakekeeper, Gravitino, Iceberg's own
// reference server. Unlike the other catalogs, the server writes the metadata files: a commit
// sends the change as updates with requirements (rest-updates.ts), and the server applies them
// only if every requirement holds on the table as it is then — its compare-and-swap. Our
// snapshot's manifests and manifest list are written by us, to the table's location, before.
//
// Hazards:
// - 409 on a commit: a requirement failed (another writer moved `main`): COMMIT_CONFLICT, and
//   commit.ts reloads, rebuilds on the new head and retries, re-checking its fence each time.
// - 500/502/503/504 or no answer on a commit: the server may have applied it. CATALOG_UNAVAILABLE
//   tells commit.ts so; it reloads and looks for its snapshot id in `main`'s ancestry before
//   trying again, so a commit that landed is never applied twice.
// - Vended credentials expire. They are taken afresh from every load (commit.ts loads before
//   each attempt); a sink thread keeps those of the pipeline's start, and an expired one fails
//   the pipeline (STORAGE_FAILED, retryable), whose restart loads the table and gets new ones.

import type { RestCatalogConfig } from '../config/types.js';
import { StreamError } from '../errors.js';
import type { Catalog, CommitRequirement, LoadedTable, TableIdentifier } from './catalog.js';
import type { FileIO } from './file-io.js';
import { LocationFileIO, fileIOFromProperties } from './file-io.js';
import type { TableMetadata } from './metadata.js';
import { currentSchema, defaultSpec, tableMetadataFromJson } from './metadata.js';
import { restAuth } from './rest-auth.js';
import type { RestResponse } from './rest-client.js';
import { RestClient, restError, serverMessage } from './rest-client.js';
import { tableChanges, withCallerRequirements } from './rest-updates.js';

/** pyiceberg's default: ask the server to vend storage credentials with each table. */
const ACCESS_DELEGATION = { 'x-iceberg-access-delegation': 'vended-credentials' };

type Json = Record<string, unknown>;
const asObject = (v: unknown): Json | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(asObject(v) ?? {})) if (typeof x === 'string') out[k] = x;
  return out;
}

export class RestCatalog implements Catalog {
  readonly name: string;
  readonly io: FileIO;
  private readonly files: LocationFileIO;
  /** `/v1` or `/v1/<prefix>`. */
  private readonly root: string;
  /** The catalog's FileIO properties: the server's defaults, ours, then the server's overrides. */
  private readonly properties: Record<string, string>;
  private readonly signingRegion: string | undefined;

  private constructor(
    config: RestCatalogConfig,
    private readonly client: RestClient,
    merged: Record<string, string>,
  ) {
    this.name = config.name;
    const prefix = merged['prefix']?.replace(/^\/+|\/+$/g, '');
    this.root = prefix ? `/v1/${prefix}` : '/v1';
    this.properties = Object.fromEntries(Object.entries(merged).filter(([k]) => k.startsWith('s3.') || k === 'client.region'));
    this.signingRegion = config.auth.kind === 'sigv4' ? (config.auth.region ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION']) : undefined;
    this.files = new LocationFileIO(fileIOFromProperties(this.properties, this.signingRegion));
    this.io = this.files;
  }

  /**
   * Asks the server for its configuration (`GET /v1/config`, with the warehouse) and merges it
   * as the spec says: its defaults under our settings, its overrides over them. Fails when the
   * server does not answer or refuses our credentials, so a wrong URI or secret shows at start.
   */
  static async connect(config: RestCatalogConfig, fetchImpl: typeof fetch = fetch): Promise<RestCatalog> {
    const client = new RestClient(config.uri, config.headers, restAuth(config.auth, config.uri, fetchImpl), fetchImpl);
    const res = await client.request('GET', '/v1/config', { query: { warehouse: config.warehouse } });
    if (res.status !== 200) throw restError(res, `GET /v1/config of ${config.uri}`);
    const body = asObject(res.body) ?? {};
    const ours: Record<string, string> = { ...config.properties };
    if (config.prefix !== undefined) ours['prefix'] = config.prefix;
    const merged = { ...stringMap(body['defaults']), ...ours, ...stringMap(body['overrides']) };
    // The spec lets the server move its clients to another base URI.
    const uri = merged['uri'];
    if (uri !== undefined && /^https?:\/\//.test(uri)) client.baseUri = uri.replace(/\/+$/, '');
    return new RestCatalog(config, client, merged);
  }

  private namespacePath(namespace: string): string {
    // Multi-level namespaces join their parts with U+001F; ours have one level.
    return `${this.root}/namespaces/${encodeURIComponent(namespace)}`;
  }

  private tablePath(ident: TableIdentifier): string {
    return `${this.namespacePath(ident.namespace)}/tables/${encodeURIComponent(ident.name)}`;
  }

  async createNamespace(namespace: string): Promise<void> {
    // Look first: a catalog may let a writer use a namespace it may not create.
    const found = await this.client.request('GET', this.namespacePath(namespace));
    if (found.status === 200) return;
    if (found.status !== 404) throw restError(found, `loading namespace ${namespace}`, { namespace });
    const res = await this.client.request('POST', `${this.root}/namespaces`, { body: { namespace: [namespace], properties: {} } });
    // 409: another process created it meanwhile.
    if (res.status === 200 || res.status === 409) return;
    throw restError(res, `creating namespace ${namespace}`, { namespace });
  }

  async loadTable(ident: TableIdentifier): Promise<LoadedTable> {
    const res = await this.client.request('GET', this.tablePath(ident), { headers: ACCESS_DELEGATION });
    if (res.status === 404) {
      throw new StreamError('TABLE_NOT_FOUND', `table ${ident.namespace}.${ident.name} does not exist in REST catalog ${this.name}: ${serverMessage(res)}`, {
        details: { ...ident },
      });
    }
    if (res.status !== 200) throw restError(res, `loading ${ident.namespace}.${ident.name}`, { ...ident });
    return this.loaded(ident, res, undefined);
  }

  async createTable(ident: TableIdentifier, build: (location: string) => TableMetadata): Promise<{ table: LoadedTable; created: boolean }> {
    try {
      return { table: await this.loadTable(ident), created: false };
    } catch (err) {
      if (!(err instanceof StreamError && err.code === 'TABLE_NOT_FOUND')) throw err;
    }
    // The server chooses the location and assigns field ids afresh; only the shape is ours.
    const m = build('');
    const res = await this.client.request('POST', `${this.namespacePath(ident.namespace)}/tables`, {
      headers: ACCESS_DELEGATION,
      body: {
        name: ident.name,
        schema: currentSchema(m),
        'partition-spec': defaultSpec(m),
        'write-order': { 'order-id': 0, fields: [] },
        'stage-create': false,
        properties: { ...m.properties, 'format-version': String(m['format-version']) },
      },
    });
    if (res.status === 200) return { table: this.loaded(ident, res, undefined), created: true };
    // 409: another process created it first; go on with theirs.
    if (res.status === 409) return { table: await this.loadTable(ident), created: false };
    if (res.status === 404) {
      throw new StreamError('NAMESPACE_NOT_FOUND', `namespace ${ident.namespace} does not exist in REST catalog ${this.name}: ${serverMessage(res)}`, {
        details: { namespace: ident.namespace },
      });
    }
    throw restError(res, `creating ${ident.namespace}.${ident.name}`, { ...ident });
  }

  async commit(base: LoadedTable, next: TableMetadata, callerRequirements: readonly CommitRequirement[] = []): Promise<LoadedTable> {
    const { ident } = base;
    const changes = tableChanges(base.metadata, next);
    const { updates } = changes;
    const requirements = withCallerRequirements(changes.requirements, callerRequirements);
    if (updates.length === 0) return base;
    const res = await this.client.request('POST', this.tablePath(ident), {
      body: { identifier: { namespace: [ident.namespace], name: ident.name }, requirements, updates },
    });
    if (res.status === 200) return this.loaded(ident, res, base.fileIO);
    if (res.status === 409) {
      throw new StreamError('COMMIT_CONFLICT', `table ${ident.namespace}.${ident.name} changed since ${base.metadataLocation}: ${serverMessage(res)}`, {
        details: { ...ident, base: base.metadataLocation },
      });
    }
    if (res.status === 404) {
      throw new StreamError('TABLE_NOT_FOUND', `table ${ident.namespace}.${ident.name} was dropped during the commit: ${serverMessage(res)}`, { details: { ...ident } });
    }
    // 500, 502, 503, 504: the commit may or may not have been applied (restError makes them
    // CATALOG_UNAVAILABLE, which commit.ts treats as "reload and look before retrying").
    throw restError(res, `committing ${ident.namespace}.${ident.name}`, { ...ident, base: base.metadataLocation });
  }

  /**
   * A LoadTableResult (or CommitTableResponse) as a LoadedTable. Its `config` and
   * `storage-credentials` (the newer field, per location prefix) carry the table's FileIO
   * properties, vended credentials among them; a commit's answer has none, and keeps `keep`.
   */
  private loaded(ident: TableIdentifier, res: RestResponse, keep: Record<string, string> | undefined): LoadedTable {
    const body = asObject(res.body) ?? {};
    const metadataLocation = body['metadata-location'];
    if (typeof metadataLocation !== 'string') {
      throw new StreamError('CATALOG_REJECTED', `REST catalog: the answer for ${ident.namespace}.${ident.name} has no metadata-location`, { details: { ...ident } });
    }
    const metadata = tableMetadataFromJson(body['metadata'], metadataLocation);
    let fileIO: Record<string, string> | undefined = keep;
    if ('config' in body || 'storage-credentials' in body) {
      fileIO = { ...stringMap(body['config']) };
      let best = -1;
      for (const c of Array.isArray(body['storage-credentials']) ? body['storage-credentials'] : []) {
        const prefix = asObject(c)?.['prefix'];
        if (typeof prefix === 'string' && metadata.location.startsWith(prefix) && prefix.length > best) {
          best = prefix.length;
          Object.assign(fileIO, stringMap(asObject(c)?.['config']));
        }
      }
      fileIO = Object.fromEntries(Object.entries(fileIO).filter(([k]) => k.startsWith('s3.') || k === 'client.region'));
    }
    const props = { ...this.properties, ...fileIO };
    this.files.set(metadata.location, JSON.stringify(props), () => fileIOFromProperties(props, this.signingRegion));
    return { ident, metadata, metadataLocation, versionToken: metadataLocation, ...(fileIO ? { fileIO } : {}) };
  }

  async close(): Promise<void> {}
}
