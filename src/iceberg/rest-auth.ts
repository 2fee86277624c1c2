// How a REST catalog request proves who sends it: nothing, a bearer token, an OAuth2 token
// obtained with client credentials, or an AWS Signature V4 over the request (AWS Glue's and S3
// Tables' Iceberg endpoints).
//
// Secrets (the token, the client secret, AWS keys) go into request headers and the token
// request's body only: never into an error message, a log line or `details`.
//
// OAuth2 (RFC 6749 §4.4, client credentials; the REST spec's `/v1/oauth/tokens` by default, as
// pyiceberg and Java's RESTCatalog use it): the token is fetched on first use and again before it
// expires (at 80% of `expires_in`), and once more when the catalog answers 401 — a token revoked
// early. A refused credential is CATALOG_AUTH_FAILED, which no restart mends.

import { createHash, createHmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { RestAuthConfig } from '../config/types.js';
import { StreamError } from '../errors.js';

export interface OutgoingRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string | undefined;
}

export interface RestAuth {
  /** The headers that authenticate this request (computed per request: SigV4 signs it whole). */
  headers(req: OutgoingRequest): Promise<Record<string, string>>;
  /** After a 401: true when a fresh credential may help (a new OAuth2 token), so retry once. */
  renew(): boolean;
}

export function restAuth(config: RestAuthConfig, catalogUri: string, fetchImpl: typeof fetch = fetch): RestAuth {
  switch (config.kind) {
    case 'none':
      return { headers: async () => ({}), renew: () => false };
    case 'bearer':
      return { headers: async () => ({ authorization: `Bearer ${config.token}` }), renew: () => false };
    case 'oauth2':
      return new OAuth2ClientCredentials(config.credential, config.serverUri ?? `${catalogUri}/v1/oauth/tokens`, config.scope, fetchImpl);
    case 'sigv4': {
      const region = config.region ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'];
      if (region === undefined) {
        throw new StreamError('CONFIG_INVALID', 'catalog.rest.signing-region: required with rest.sigv4-enabled when AWS_REGION is not set');
      }
      return new SigV4Auth(region, config.signingName);
    }
  }
}

class OAuth2ClientCredentials implements RestAuth {
  private token: Promise<{ value: string; refreshAt: number }> | undefined;

  constructor(
    private readonly credential: string,
    private readonly tokenUri: string,
    private readonly scope: string,
    private readonly fetchImpl: typeof fetch,
  ) {}

  async headers(): Promise<Record<string, string>> {
    let current = this.token ? await this.token.catch(() => undefined) : undefined;
    if (!current || Date.now() >= current.refreshAt) {
      this.token = this.fetchToken();
      current = await this.token;
    }
    return { authorization: `Bearer ${current.value}` };
  }

  renew(): boolean {
    this.token = undefined;
    return true;
  }

  private async fetchToken(): Promise<{ value: string; refreshAt: number }> {
    // "<client-id>:<client-secret>", or the secret alone (pyiceberg's reading of `credential`).
    const colon = this.credential.indexOf(':');
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (colon >= 0) form.set('client_id', this.credential.slice(0, colon));
    form.set('client_secret', colon >= 0 ? this.credential.slice(colon + 1) : this.credential);
    form.set('scope', this.scope);
    const started = Date.now();
    let res: Response;
    try {
      res = await this.fetchImpl(this.tokenUri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new StreamError('CATALOG_UNAVAILABLE', `OAuth2 token request to ${this.tokenUri} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const text = await res.text().catch(() => '');
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // Reported below by what is missing.
    }
    if (!res.ok) {
      const reason = [body['error'], body['error_description']].filter((x) => typeof x === 'string').join(': ') || `HTTP ${res.status}`;
      const code = res.status >= 500 || res.status === 429 ? 'CATALOG_UNAVAILABLE' : 'CATALOG_AUTH_FAILED';
      throw new StreamError(code, `OAuth2 token request to ${this.tokenUri} refused (HTTP ${res.status}): ${reason}`, { details: { status: res.status } });
    }
    const value = body['access_token'];
    if (typeof value !== 'string' || value === '') {
      throw new StreamError('CATALOG_AUTH_FAILED', `OAuth2 token response from ${this.tokenUri} has no access_token`, { details: { status: res.status } });
    }
    const expiresIn = typeof body['expires_in'] === 'number' ? body['expires_in'] : Number(body['expires_in']);
    // Without expires_in the token is kept until the catalog refuses it (renew after a 401).
    const refreshAt = Number.isFinite(expiresIn) && expiresIn > 0 ? started + expiresIn * 800 : Number.POSITIVE_INFINITY;
    return { value, refreshAt };
  }
}

/** SHA-256 and HMAC-SHA-256 from node:crypto, in the shape the smithy signer takes. */
class Sha256 {
  private hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.make();
  }
  private make(): ReturnType<typeof createHash> | ReturnType<typeof createHmac> {
    if (this.secret === undefined) return createHash('sha256');
    const key = typeof this.secret === 'string' ? this.secret : ArrayBuffer.isView(this.secret) ? Buffer.from(this.secret.buffer, this.secret.byteOffset, this.secret.byteLength) : Buffer.from(this.secret);
    return createHmac('sha256', key);
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(typeof data === 'string' ? data : ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.make();
  }
}

class SigV4Auth implements RestAuth {
  private readonly signer: SignatureV4;

  constructor(region: string, service: string) {
    // The default chain: environment, shared config/credentials files, SSO, web identity, ECS and
    // EC2 instance roles — the same as the AWS SDK's clients elsewhere in the runtime.
    this.signer = new SignatureV4({ service, region, credentials: defaultProvider(), sha256: Sha256 });
  }

  async headers(req: OutgoingRequest): Promise<Record<string, string>> {
    const body = req.body ?? '';
    const query: Record<string, string> = {};
    for (const [k, v] of req.url.searchParams) query[k] = v;
    let signed;
    try {
      signed = await this.signer.sign({
        method: req.method,
        protocol: req.url.protocol,
        hostname: req.url.hostname,
        ...(req.url.port ? { port: Number(req.url.port) } : {}),
        path: req.url.pathname,
        query,
        headers: { ...req.headers, host: req.url.host, 'x-amz-content-sha256': createHash('sha256').update(body).digest('hex') },
        body,
      });
    } catch (err) {
      // No credentials anywhere in the chain is a configuration matter, not an outage.
      throw new StreamError('CATALOG_AUTH_FAILED', `AWS SigV4: no credentials to sign with: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(signed.headers)) if (!(k in req.headers) && k !== 'host') out[k] = String(v);
    return out;
  }

  renew(): boolean {
    return false;
  }
}
