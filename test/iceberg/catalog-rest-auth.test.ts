// The REST catalog's authentication against a small local endpoint that checks it: the OAuth2
// client-credentials exchange (form fields, scope, token expiry and refresh, a revoked token),
// bearer tokens refused, and AWS SigV4 signatures verified — recomputed here from the request as
// received with the known test secret, by an implementation of AWS's published algorithm
// (checked first against AWS's own worked example), not by the signer under test.

import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RestCatalogConfig } from '../../src/config/types.js';
import { isStreamError } from '../../src/errors.js';
import { RestCatalog } from '../../src/iceberg/catalog-rest.js';
import { restAuth } from '../../src/iceberg/rest-auth.js';

// --- AWS Signature Version 4, recomputed (AWS General Reference, "Signature Version 4 signing process")

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();
/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters. */
const rfc3986 = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

interface ReceivedRequest {
  method: string;
  /** The path and query as they came on the wire (still percent-encoded). */
  rawUrl: string;
  headers: Record<string, string>;
  body: string;
}

function expectedSignature(req: ReceivedRequest, secret: string, signedHeaders: string[], scope: string, amzDate: string, doubleEncodePath: boolean): string {
  const [rawPath, rawQuery = ''] = req.rawUrl.split('?', 2) as [string, string?];
  // Services other than S3 encode each (already encoded) path segment once more.
  const canonicalUri = doubleEncodePath ? rawPath.split('/').map(rfc3986).join('/') : rawPath;
  const query = rawQuery === '' ? [] : rawQuery.split('&').map((kv) => kv.split('=', 2).map((x) => rfc3986(decodeURIComponent((x ?? '').replace(/\+/g, ' ')))) as [string, string]);
  query.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x! < y! ? -1 : x! > y! ? 1 : 0));
  const canonicalQuery = query.map(([k, v]) => `${k}=${v ?? ''}`).join('&');
  const canonicalHeaders = signedHeaders.map((h) => `${h}:${(req.headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonicalRequest = [req.method, canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders.join(';'), sha256(req.body)].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const [date, region, service] = scope.split('/') as [string, string, string];
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

/** Checks a request's Authorization header; returns why it fails, or undefined when it holds. */
function verifySigV4(req: ReceivedRequest, keys: { accessKeyId: string; secret: string }, want: { region: string; service: string }): string | undefined {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(req.headers['authorization'] ?? '');
  if (!m) return 'no SigV4 Authorization header';
  const [, akid, date, region, service, signed, signature] = m as unknown as [string, string, string, string, string, string, string];
  if (akid !== keys.accessKeyId) return `unknown access key ${akid}`;
  if (region !== want.region || service !== want.service) return `scope ${region}/${service}, expected ${want.region}/${want.service}`;
  const amzDate = req.headers['x-amz-date'] ?? '';
  if (!amzDate.startsWith(date)) return 'x-amz-date does not match the credential scope';
  const signedHeaders = signed.split(';');
  if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date')) return 'host and x-amz-date must be signed';
  const contentHash = req.headers['x-amz-content-sha256'];
  if (contentHash !== undefined && contentHash !== sha256(req.body)) return 'x-amz-content-sha256 does not match the body';
  const expected = expectedSignature(req, keys.secret, signedHeaders, `${date}/${region}/${service}/aws4_request`, amzDate, true);
  return expected === signature ? undefined : 'signature mismatch';
}

// --- a small catalog endpoint that checks credentials

interface Endpoint {
  uri: string;
  log: Array<{ method: string; path: string; status: number; why?: string | undefined }>;
  tokens: string[];
  revoke(): void;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    req.on('data', (c: Buffer) => (s += c.toString()));
    req.on('end', () => resolve(s));
  });
}

async function startEndpoint(check: (req: ReceivedRequest, tokens: Map<string, number>) => string | undefined, tokenLifetimeS = 1): Promise<Endpoint> {
  const log: Endpoint['log'] = [];
  const tokens = new Map<string, number>();
  const issued: string[] = [];
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(',') : (v ?? '');
    const r: ReceivedRequest = { method: req.method!, rawUrl: req.url!, headers, body };
    const path = req.url!.split('?')[0]!;
    const send = (status: number, json: unknown, why?: string): void => {
      log.push({ method: r.method, path, status, why });
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    };
    if (path === '/v1/oauth/tokens') {
      const form = new URLSearchParams(body);
      const ok = headers['content-type']?.startsWith('application/x-www-form-urlencoded') && form.get('grant_type') === 'client_credentials' && form.get('client_id') === 'app' && form.get('client_secret') === 's3cr3t-value' && form.get('scope') === 'catalog';
      if (!ok) return send(401, { error: 'invalid_client', error_description: 'client authentication failed' });
      const token = `tok-${issued.length + 1}`;
      issued.push(token);
      tokens.set(token, Date.now() + tokenLifetimeS * 1000);
      return send(200, { access_token: token, token_type: 'bearer', expires_in: tokenLifetimeS, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' });
    }
    const why = check(r, tokens);
    if (why !== undefined) return send(why.startsWith('forbidden') ? 403 : 401, { error: { message: why, type: 'NotAuthorizedException', code: 401 } }, why);
    if (path === '/v1/config') return send(200, { defaults: { 's3.region': 'eu-west-1' }, overrides: { prefix: 'p1' } });
    if (r.method === 'GET' && path === '/v1/p1/namespaces/ns') return send(404, { error: { message: 'no such namespace', type: 'NoSuchNamespaceException', code: 404 } });
    if (r.method === 'POST' && path === '/v1/p1/namespaces') return send(200, { namespace: JSON.parse(body).namespace, properties: {} });
    return send(400, { error: { message: `unexpected ${r.method} ${path}`, type: 'BadRequestException', code: 400 } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    uri: `http://127.0.0.1:${port}`,
    log,
    tokens: issued,
    revoke: () => tokens.clear(),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const bearerCheck = (r: ReceivedRequest, tokens: Map<string, number>): string | undefined => {
  const token = /^Bearer (.+)$/.exec(r.headers['authorization'] ?? '')?.[1];
  if (token === undefined) return 'no bearer token';
  const expires = tokens.get(token);
  if (expires === undefined) return 'unknown or revoked token';
  if (Date.now() > expires) return 'expired token';
  return undefined;
};

function restConfig(uri: string, auth: RestCatalogConfig['auth']): RestCatalogConfig {
  return { type: 'rest', name: 'r', uri, namespace: 'ns', auth, headers: {}, properties: {} };
}

describe('SigV4 verifier', () => {
  it('reproduces the signature of AWS’s worked example (IAM ListUsers, 2015-08-30)', () => {
    const req: ReceivedRequest = {
      method: 'GET',
      rawUrl: '/?Action=ListUsers&Version=2010-05-08',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', host: 'iam.amazonaws.com', 'x-amz-date': '20150830T123600Z' },
      body: '',
    };
    const sig = expectedSignature(req, 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', ['content-type', 'host', 'x-amz-date'], '20150830/us-east-1/iam/aws4_request', '20150830T123600Z', true);
    expect(sig).toBe('5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7');
  });
});

describe('REST catalog authentication', () => {
  const endpoints: Endpoint[] = [];
  afterEach(async () => {
    while (endpoints.length > 0) await endpoints.pop()!.close();
  });

  it('OAuth2: exchanges the client credentials, sends the token, refreshes it before it expires, and renews a revoked one', async () => {
    const ep = await startEndpoint(bearerCheck, 1);
    endpoints.push(ep);
    const catalog = await RestCatalog.connect(restConfig(ep.uri, { kind: 'oauth2', credential: 'app:s3cr3t-value', scope: 'catalog' }));
    await catalog.createNamespace('ns');
    expect(ep.tokens).toEqual(['tok-1']);
    // Past 80% of the token's 1 s lifetime: a new token before the old one is refused.
    await new Promise((r) => setTimeout(r, 900));
    await catalog.createNamespace('ns');
    expect(ep.tokens).toEqual(['tok-1', 'tok-2']);
    // Revoked early: one 401, a new token, the request repeated.
    ep.revoke();
    await catalog.createNamespace('ns');
    expect(ep.tokens).toEqual(['tok-1', 'tok-2', 'tok-3']);
    expect(ep.log.filter((l) => l.status === 401).map((l) => l.why)).toEqual(['unknown or revoked token']);
    // Every catalog request went to the prefix the server's config set.
    expect(ep.log.filter((l) => l.path !== '/v1/oauth/tokens' && l.path !== '/v1/config').every((l) => l.path.startsWith('/v1/p1/'))).toBe(true);
  });

  it('OAuth2: a refused client secret is CATALOG_AUTH_FAILED, not retried, and the secret is in no message', async () => {
    const ep = await startEndpoint(bearerCheck);
    endpoints.push(ep);
    const err = await RestCatalog.connect(restConfig(ep.uri, { kind: 'oauth2', credential: 'app:wrong-secret-value', scope: 'catalog' })).catch((e: unknown) => e);
    expect(isStreamError(err) && [err.code, err.retryable]).toEqual(['CATALOG_AUTH_FAILED', false]);
    expect(String((err as Error).message)).toContain('invalid_client');
    expect(JSON.stringify((err as { toJSON(): unknown }).toJSON())).not.toContain('wrong-secret-value');
    expect(ep.log.map((l) => l.path)).toEqual(['/v1/oauth/tokens']);
  });

  it('a bearer token the catalog refuses (403) is CATALOG_AUTH_FAILED after one request', async () => {
    const ep = await startEndpoint(() => 'forbidden: token lacks the catalog role');
    endpoints.push(ep);
    const err = await RestCatalog.connect(restConfig(ep.uri, { kind: 'bearer', token: 'static-token-value' })).catch((e: unknown) => e);
    expect(isStreamError(err) && [err.code, err.retryable, err.domain]).toEqual(['CATALOG_AUTH_FAILED', false, 'user']);
    expect(String((err as Error).message)).not.toContain('static-token-value');
    expect(ep.log).toHaveLength(1);
  });

  describe('SigV4', () => {
    const keys = { accessKeyId: 'AKIDSTREAMBERGTEST', secret: 'streamberg/test+secret/key' };
    const saved = { ...process.env };
    beforeAll(() => {
      process.env['AWS_ACCESS_KEY_ID'] = keys.accessKeyId;
      process.env['AWS_SECRET_ACCESS_KEY'] = keys.secret;
      process.env['AWS_SESSION_TOKEN'] = 'session-token-value';
    });
    afterAll(() => {
      for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    });

    const sigv4Check = (r: ReceivedRequest): string | undefined => {
      if (r.headers['x-amz-security-token'] !== 'session-token-value') return 'no session token';
      if (!(r.headers['authorization'] ?? '').includes('x-amz-security-token')) return 'session token not signed';
      return verifySigV4(r, keys, { region: 'us-east-1', service: 'glue' });
    };

    it('signs every request (GET with a query, POST with a body) so that the signature verifies', async () => {
      const ep = await startEndpoint(sigv4Check);
      endpoints.push(ep);
      const config = { ...restConfig(ep.uri, { kind: 'sigv4', region: 'us-east-1', signingName: 'glue' }), warehouse: '123456789012' };
      const catalog = await RestCatalog.connect(config);
      await catalog.createNamespace('ns');
      expect(ep.log.map((l) => `${l.method} ${l.path} ${l.status}${l.why ? ` ${l.why}` : ''}`)).toEqual([
        'GET /v1/config 200',
        'GET /v1/p1/namespaces/ns 404',
        'POST /v1/p1/namespaces 200',
      ]);
    });

    it('the endpoint refuses a request whose body or query changed after signing, and one signed for another service', async () => {
      const ep = await startEndpoint(sigv4Check);
      endpoints.push(ep);
      const url = new URL(`${ep.uri}/v1/p1/namespaces`);
      const send = async (service: string, signedBody: string, sentBody: string, sentUrl = url): Promise<number> => {
        const headers = { 'content-type': 'application/json' };
        const auth = await restAuth({ kind: 'sigv4', region: 'us-east-1', signingName: service }, ep.uri).headers({ method: 'POST', url, headers, body: signedBody });
        return (await fetch(sentUrl, { method: 'POST', headers: { ...headers, ...auth }, body: sentBody })).status;
      };
      const body = '{"namespace":["ns"],"properties":{}}';
      expect(await send('glue', body, body)).toBe(200);
      expect(await send('glue', body, body.replace('ns', 'nz'))).toBe(401);
      expect(await send('s3tables', body, body)).toBe(401);
      // Same body and headers, another query: only the recomputed signature can tell.
      expect(await send('glue', body, body, new URL(`${url.href}?page=2`))).toBe(401);
      expect(ep.log.map((l) => l.why ?? 'ok')).toEqual([
        'ok',
        'x-amz-content-sha256 does not match the body',
        'scope us-east-1/s3tables, expected us-east-1/glue',
        'signature mismatch',
      ]);
    });
  });
});
