// The `catalog:` section of topics.yaml resolved: `sql` (a SQLite file and a local warehouse),
// `s3tables` (a table bucket ARN) and `rest` (an Iceberg REST catalog and its authentication).

import path from 'node:path';
import type { ConfigPath } from './issues.js';
import { ACCEPTED_IDENTIFIER, ACCEPTED_S3TABLES_IDENTIFIER, S3TABLES_IDENTIFIER, isIdentifier } from './names.js';
import { CATALOG_KEYS, type RawTopicsFile } from './schema.js';
import type { SourceFile } from './source-file.js';
import type { CatalogConfig, RestAuthConfig } from './types.js';

/** A path or `file://` URI, made absolute against the config folder. */
function localPath(value: string, base: string): string {
  const stripped = value.startsWith('file://') ? value.slice('file://'.length) : value;
  return path.resolve(base, stripped);
}

const S3TABLES_ARN = /^arn:aws[a-z-]*:s3tables:([a-z0-9-]+):(\d{12}):bucket\/([a-z0-9][a-z0-9-]{1,61}[a-z0-9])$/;

export function resolveCatalog(file: SourceFile, raw: RawTopicsFile['catalog'], configDir: string): CatalogConfig | undefined {
  const c = raw ?? {};
  const type = c.type ?? 'sql';
  const namespace = c.namespace ?? 'analytics';
  const at = (key: string): ConfigPath => ['catalog', key];
  let ok = true;
  if (!isIdentifier(namespace)) {
    file.add(at('namespace'), 'not a valid namespace', { accepted: ACCEPTED_IDENTIFIER });
    ok = false;
  }
  const restKeys = ['prefix', 'token', 'credential', 'scope', 'oauth2-server-uri', 'rest.sigv4-enabled', 'rest.signing-region', 'rest.signing-name'] as const;
  const headers: Record<string, string> = {};
  const properties: Record<string, string> = {};
  for (const [key, value] of Object.entries(c)) {
    if (CATALOG_KEYS.includes(key)) continue;
    const open = key.startsWith('header.') ? headers : key.startsWith('s3.') ? properties : undefined;
    if (open === undefined || type !== 'rest') {
      file.add(['catalog'], `unknown key ${JSON.stringify(key)}`, {
        keyOf: key,
        found: undefined,
        accepted: `one of ${CATALOG_KEYS.join(', ')}${type === 'rest' ? ', header.<name>, s3.<property>' : ''}`,
      });
      ok = false;
    } else if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      file.add(at(key), 'wrong type', { accepted: 'a string' });
      ok = false;
    } else {
      open[key.startsWith('header.') ? key.slice('header.'.length) : key] = String(value);
    }
  }
  if (type !== 'rest') {
    for (const key of restKeys) {
      if (c[key] !== undefined) {
        file.add(at(key), 'applies only to type "rest"', { accepted: `no such key with type "${type}"` });
        ok = false;
      }
    }
  }
  switch (type) {
    case 'sql': {
      for (const key of ['region', 'endpoint', 's3_endpoint'] as const) {
        if (c[key] !== undefined) {
          file.add(at(key), 'applies only to type "s3tables"', { accepted: 'no such key with type "sql"' });
          ok = false;
        }
      }
      // Without a catalog section the warehouse lives in ./warehouse of the working directory.
      const base = raw === undefined ? process.cwd() : configDir;
      const warehouseText = c.warehouse ?? 'warehouse';
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(warehouseText) && !warehouseText.startsWith('file://')) {
        file.add(at('warehouse'), 'the sql catalog stores files locally', { accepted: 'a path or a file:// URI' });
        ok = false;
      }
      const warehouseDir = localPath(warehouseText, base);
      let sqlitePath = path.join(warehouseDir, 'catalog.db');
      if (c.uri !== undefined) {
        if (!c.uri.startsWith('sqlite:///')) {
          file.add(at('uri'), 'not a SQLite URI', { accepted: 'sqlite:///relative/path.db or sqlite:////absolute/path.db' });
          ok = false;
        } else {
          // As SQLAlchemy reads it: three slashes then a relative path, four for an absolute one.
          sqlitePath = path.resolve(base, c.uri.slice('sqlite:///'.length));
        }
      }
      if (!ok) return undefined;
      return {
        type: 'sql',
        name: c.name ?? 'local',
        uri: `sqlite:///${sqlitePath}`,
        sqlitePath,
        warehouse: `file://${warehouseDir}`,
        namespace,
      };
    }
    case 's3tables': {
      const arn = c.warehouse === undefined ? undefined : S3TABLES_ARN.exec(c.warehouse);
      if (!arn) {
        file.add(at('warehouse'), c.warehouse === undefined ? 'required for type "s3tables"' : 'not an S3 Tables bucket ARN', {
          accepted: 'arn:aws:s3tables:<region>:<account-id>:bucket/<bucket-name>',
        });
        ok = false;
      }
      if (c.uri !== undefined) {
        file.add(at('uri'), 'applies only to types "sql" and "rest"', { accepted: 'endpoint, to point at another S3 Tables endpoint' });
        ok = false;
      }
      if (!S3TABLES_IDENTIFIER.test(namespace)) {
        file.add(at('namespace'), 'not a valid S3 Tables namespace', { accepted: ACCEPTED_S3TABLES_IDENTIFIER });
        ok = false;
      }
      const region = c.region ?? arn?.[1];
      if (arn && c.region !== undefined && c.region !== arn[1]) {
        file.add(at('region'), `differs from the region in the warehouse ARN (${arn[1]})`, { accepted: JSON.stringify(arn[1]) });
        ok = false;
      }
      if (!ok || !arn || region === undefined) return undefined;
      return { type: 's3tables', name: c.name ?? 's3_tables', warehouse: c.warehouse!, region, namespace, endpoint: c.endpoint, s3Endpoint: c.s3_endpoint };
    }
    case 'rest': {
      for (const key of ['region', 'endpoint', 's3_endpoint'] as const) {
        if (c[key] !== undefined) {
          const instead = key === 'region' ? 'rest.signing-region (SigV4) or s3.region (files)' : key === 's3_endpoint' ? 's3.endpoint' : 'uri';
          file.add(at(key), 'applies only to type "s3tables"', { accepted: instead });
          ok = false;
        }
      }
      if (c.uri === undefined || !/^https?:\/\/[^/]/.test(c.uri)) {
        file.add(at('uri'), c.uri === undefined ? 'required for type "rest"' : 'not an http(s) URL', {
          accepted: 'the REST catalog base URL, e.g. https://glue.us-east-1.amazonaws.com/iceberg or http://localhost:8181',
        });
        ok = false;
      } else if (/^https?:\/\/[^/?#]*@/.test(c.uri)) {
        // fetch refuses a URL with credentials in it, and its refusal quotes the URL whole: the
        // password would reach the log. The value shown here has its password masked.
        file.add(at('uri'), 'holds a user name or password (user:password@), which a REST catalog request cannot carry', {
          accepted: 'the URL without user:password@, and token, credential or header.Authorization to authenticate',
        });
        ok = false;
      }
      const auth = resolveRestAuth(file, c, (key) => at(key));
      if (!ok || auth === undefined) return undefined;
      return {
        type: 'rest',
        name: c.name ?? 'rest',
        uri: c.uri!.replace(/\/+$/, ''),
        warehouse: c.warehouse,
        prefix: c.prefix?.replace(/^\/+|\/+$/g, ''),
        namespace,
        auth,
        headers,
        properties,
      };
    }
  }
}

/**
 * The REST catalog's authentication from pyiceberg's property names: `token` (a bearer token),
 * `credential` (OAuth2 client credentials, with `oauth2-server-uri` and `scope`), or
 * `rest.sigv4-enabled` (AWS SigV4 with `rest.signing-region` and `rest.signing-name`). One at a
 * time: a request carries one Authorization header.
 */
function resolveRestAuth(file: SourceFile, c: NonNullable<RawTopicsFile['catalog']>, at: (key: string) => ConfigPath): RestAuthConfig | undefined {
  const sigv4 = c['rest.sigv4-enabled'] === true;
  const chosen = [c.token !== undefined && 'token', c.credential !== undefined && 'credential', sigv4 && 'rest.sigv4-enabled'].filter((x): x is string => typeof x === 'string');
  if (chosen.length > 1) {
    file.add(at(chosen[1]!), `cannot be combined with ${chosen[0]}`, { accepted: 'one of token, credential, rest.sigv4-enabled: true', showFound: false });
    return undefined;
  }
  let ok = true;
  const only = (keys: string[], what: string): void => {
    for (const key of keys) {
      if ((c as Record<string, unknown>)[key] !== undefined) {
        file.add(at(key), `applies only with ${what}`, { accepted: `${what}, or no ${key}` });
        ok = false;
      }
    }
  };
  if (!c.credential) only(['oauth2-server-uri', 'scope'], 'credential');
  if (!sigv4) only(['rest.signing-region', 'rest.signing-name'], 'rest.sigv4-enabled: true');
  if (!ok) return undefined;
  if (c.token !== undefined) return { kind: 'bearer', token: c.token };
  if (c.credential !== undefined) {
    return { kind: 'oauth2', credential: c.credential, serverUri: c['oauth2-server-uri'], scope: c.scope ?? 'catalog' };
  }
  if (sigv4) {
    // Without rest.signing-region, AWS_REGION (or AWS_DEFAULT_REGION) where the runtime starts.
    const region = c['rest.signing-region'];
    // pyiceberg's and Java's default; Glue's endpoint wants "glue", S3 Tables' "s3tables".
    return { kind: 'sigv4', region, signingName: c['rest.signing-name'] ?? 'execute-api' };
  }
  return { kind: 'none' };
}
