// HTTP to a REST catalog: JSON with 64-bit integers kept exact (snapshot ids exceed 2^53), the
// authentication of rest-auth.ts, and the status codes of the Iceberg REST OpenAPI spec turned
// into coded errors.
//
// What a status means depends on the route (404: no such namespace, or no such table; 409: the
// namespace exists, or the commit lost its race), so routes read `status` themselves and hand
// the rest to `restError`, which knows what every route shares:
// - no answer at all (refused connection, reset, timeout), 429, 5xx: CATALOG_UNAVAILABLE. For a
//   commit that is "outcome unknown" (the spec's CommitStateUnknownException is a 500, and
//   gateways answer 502/504): the caller reloads and looks for its snapshot before retrying;
// - 401 and 403: CATALOG_AUTH_FAILED, not retried — the same credentials would be refused again;
// - other 4xx: CATALOG_REJECTED, not retried — the server says the request itself is wrong.

import { StreamError } from '../errors.js';
import { parseJsonBig, stringifyJsonBig } from './metadata.js';
import type { RestAuth } from './rest-auth.js';

export interface RestResponse {
  status: number;
  body: unknown;
}

export interface RestRequest {
  query?: Record<string, string | undefined> | undefined;
  body?: unknown;
  headers?: Record<string, string> | undefined;
}

const TIMEOUT_MS = 60_000;

export class RestClient {
  constructor(
    /** Base URL without `/v1`; may change once, by the server's `uri` override. */
    public baseUri: string,
    private readonly headers: Record<string, string>,
    private readonly auth: RestAuth,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /** Sends a request; answers with any status (routes interpret them), throws when none came. */
  async request(method: 'GET' | 'POST' | 'HEAD' | 'DELETE', path: string, req: RestRequest = {}): Promise<RestResponse> {
    const url = new URL(`${this.baseUri}${path}`);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const body = req.body === undefined ? undefined : stringifyJsonBig(req.body, 0);
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { accept: 'application/json' };
      for (const [k, v] of Object.entries({ ...this.headers, ...req.headers })) {
        // An empty `header.<name>` removes a header the client would send by default.
        if (v === '') delete headers[k.toLowerCase()];
        else headers[k.toLowerCase()] = v;
      }
      if (body !== undefined) headers['content-type'] = 'application/json';
      const authHeaders = await this.auth.headers({ method, url, headers, body });
      let res: Response;
      try {
        res = await this.fetchImpl(url, { method, headers: { ...headers, ...authHeaders }, body, signal: AbortSignal.timeout(TIMEOUT_MS) });
      } catch (err) {
        throw new StreamError('CATALOG_UNAVAILABLE', `REST catalog ${method} ${url.pathname}: no answer: ${describeFetchError(err)}`, {
          cause: err,
          details: { method, path: url.pathname },
        });
      }
      const text = method === 'HEAD' ? '' : await res.text().catch(() => '');
      if (res.status === 401 && attempt === 0 && this.auth.renew()) continue;
      let parsed: unknown = undefined;
      if (text !== '') {
        try {
          parsed = parseJsonBig(text);
        } catch {
          parsed = { error: { message: text.slice(0, 500) } };
        }
      }
      return { status: res.status, body: parsed };
    }
  }
}

function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ? `${err.message} (${cause.code})` : err.message;
}

/** The server's ErrorModel (`{"error": {"message", "type", "code"}}`) as one line. */
export function serverMessage(res: RestResponse): string {
  const e = (res.body as { error?: { message?: unknown; type?: unknown } } | undefined)?.error;
  const type = typeof e?.type === 'string' ? `${e.type}: ` : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  return `${type}${message}`.slice(0, 1000) || `HTTP ${res.status}`;
}

/** The error every route shares for a status it does not handle itself. */
export function restError(res: RestResponse, what: string, details: Record<string, unknown> = {}): StreamError {
  const message = `REST catalog: ${what}: HTTP ${res.status}: ${serverMessage(res)}`;
  const d = { ...details, status: res.status };
  if (res.status === 401 || res.status === 403) return new StreamError('CATALOG_AUTH_FAILED', message, { details: d });
  if (res.status === 429 || res.status >= 500) return new StreamError('CATALOG_UNAVAILABLE', message, { details: d });
  return new StreamError('CATALOG_REJECTED', message, { details: d });
}
