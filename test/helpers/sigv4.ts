// Our own AWS Signature Version 4 verifier, to check MSK IAM tokens independently of the signer
// that made them. It follows AWS's description of SigV4 ("Create a signed AWS API request", IAM
// User Guide; "Authenticating Requests: Using Query Parameters", S3 API Reference): a canonical
// request (method, URI, sorted and RFC 3986-encoded query, lower-cased sorted headers, signed
// header names, payload hash), a string to sign over its SHA-256, and an HMAC-SHA256 key derived
// from the secret through the date, region, service and "aws4_request".

import { createHash, createHmac } from 'node:crypto';

const hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** RFC 3986 percent-encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ is encoded. */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export interface SignedRequest {
  method: string;
  path: string;
  /** Query parameters, decoded, in any order; the signature parameter must not be among them. */
  query: Array<[string, string]>;
  /** Headers as sent; names are lower-cased and values trimmed here. */
  headers: Record<string, string>;
  signedHeaders: string[];
  payloadHash: string;
}

export function canonicalRequest(r: SignedRequest): string {
  const query = r.query
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const lower = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), v.trim().replace(/\s+/g, ' ')]));
  const names = [...r.signedHeaders].map((h) => h.toLowerCase()).sort();
  const headers = names.map((h) => `${h}:${lower[h] ?? ''}\n`).join('');
  return [r.method, r.path, query, headers, names.join(';'), r.payloadHash].join('\n');
}

/** The hex signature of a request at `amzDate` (YYYYMMDDTHHMMSSZ) for a credential scope. */
export function sigv4Signature(r: SignedRequest, secret: string, amzDate: string, region: string, service: string): string {
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, hex(canonicalRequest(r))].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), 'aws4_request');
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

export const EMPTY_PAYLOAD_SHA256 = hex('');
