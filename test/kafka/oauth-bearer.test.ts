// MSK IAM tokens checked by our own SigV4 verifier (test/helpers/sigv4.ts) rather than by the
// signer that made them: a presigned `kafka-cluster:Connect` request for the region's MSK host,
// with the static test credentials' key, scope, session token and expiry, and a signature that
// only the known secret reproduces. No MSK cluster is reachable here; the broker-side half
// (re-authentication before a token expires) is tested against Kafka's own OAUTHBEARER listener
// in test/integration/kafka-auth.test.ts.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isStreamError } from '../../src/errors.js';
import { mskIamTokenSource, oauthBearerProvider } from '../../src/kafka/oauth-bearer.js';
import { EMPTY_PAYLOAD_SHA256, sigv4Signature, type SignedRequest } from '../helpers/sigv4.js';

const REGION = 'ap-south-1';
const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7TESTKEY',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYTESTSECRET+',
  AWS_SESSION_TOKEN: 'FwoGZXIvYXdzEBYaDH/test+session/token==',
};

const saved: Record<string, string | undefined> = {};
const touched = [...Object.keys(CREDENTIALS), 'AWS_CREDENTIAL_EXPIRATION', 'AWS_PROFILE', 'AWS_REGION'];
beforeEach(() => {
  for (const k of touched) saved[k] = process.env[k];
  Object.assign(process.env, CREDENTIALS);
  delete process.env.AWS_CREDENTIAL_EXPIRATION;
  delete process.env.AWS_PROFILE;
});
afterEach(() => {
  for (const k of touched) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

/** X-Amz-Date (YYYYMMDDTHHMMSSZ) as ms since the epoch. */
function amzDateMs(d: string): number {
  return Date.UTC(+d.slice(0, 4), +d.slice(4, 6) - 1, +d.slice(6, 8), +d.slice(9, 11), +d.slice(11, 13), +d.slice(13, 15));
}

interface DecodedToken {
  url: URL;
  params: Map<string, string>;
  request: SignedRequest;
  signature: string;
}

function decode(token: string): DecodedToken {
  // base64url without padding, as the MSK signer libraries write it.
  expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
  const url = new URL(Buffer.from(token, 'base64url').toString('utf8'));
  const params = new Map([...url.searchParams]);
  // The signer appends User-Agent after signing, as MSK's own signers do; it is not signed.
  const signed = [...url.searchParams].filter(([k]) => k !== 'X-Amz-Signature' && k !== 'User-Agent');
  return {
    url,
    params,
    signature: params.get('X-Amz-Signature') ?? '',
    request: { method: 'GET', path: url.pathname, query: signed, headers: { host: url.host }, signedHeaders: ['host'], payloadHash: EMPTY_PAYLOAD_SHA256 },
  };
}

describe('our SigV4 verifier', () => {
  it("reproduces AWS's published test-suite signature (get-vanilla-query-order-key-case)", () => {
    // From AWS's Signature Version 4 test suite: AKIDEXAMPLE, us-east-1, service "service".
    const request: SignedRequest = {
      method: 'GET',
      path: '/',
      query: [['Param2', 'value2'], ['Param1', 'value1']],
      headers: { Host: 'example.amazonaws.com', 'X-Amz-Date': '20150830T123600Z' },
      signedHeaders: ['host', 'x-amz-date'],
      payloadHash: EMPTY_PAYLOAD_SHA256,
    };
    expect(sigv4Signature(request, 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20150830T123600Z', 'us-east-1', 'service')).toBe(
      'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
    );
  });
});

describe('AWS_MSK_IAM tokens', () => {
  it('are a presigned kafka-cluster:Connect request for the region, signed with the static credentials, expiring in 900 s', async () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const token = await mskIamTokenSource(REGION)();
    const after = Date.now();
    const { url, params, request, signature } = decode(token.value);

    expect(url.protocol).toBe('https:');
    expect(url.host).toBe(`kafka.${REGION}.amazonaws.com`);
    expect(url.pathname).toBe('/');
    expect(params.get('Action')).toBe('kafka-cluster:Connect');
    expect(params.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(params.get('X-Amz-SignedHeaders')).toBe('host');
    expect(params.get('X-Amz-Security-Token')).toBe(CREDENTIALS.AWS_SESSION_TOKEN);
    expect(params.get('X-Amz-Expires')).toBe('900');
    expect(params.get('User-Agent')).toMatch(/^aws-msk-iam-sasl-signer-js\//);
    const date = params.get('X-Amz-Date')!;
    expect(date).toMatch(/^\d{8}T\d{6}Z$/);
    const signedAt = amzDateMs(date);
    expect(signedAt).toBeGreaterThanOrEqual(before);
    expect(signedAt).toBeLessThanOrEqual(after);
    expect(params.get('X-Amz-Credential')).toBe(`${CREDENTIALS.AWS_ACCESS_KEY_ID}/${date.slice(0, 8)}/${REGION}/kafka-cluster/aws4_request`);
    expect(token.expiresAtMs).toBe(signedAt + 900_000);

    expect(signature).toMatch(/^[0-9a-f]{64}$/);
    expect(sigv4Signature(request, CREDENTIALS.AWS_SECRET_ACCESS_KEY, date, REGION, 'kafka-cluster')).toBe(signature);
    // The verifier can say no: another secret, another action, another region.
    expect(sigv4Signature(request, `${CREDENTIALS.AWS_SECRET_ACCESS_KEY}x`, date, REGION, 'kafka-cluster')).not.toBe(signature);
    const otherAction = { ...request, query: request.query.map(([k, v]): [string, string] => [k, k === 'Action' ? 'kafka-cluster:AlterCluster' : v]) };
    expect(sigv4Signature(otherAction, CREDENTIALS.AWS_SECRET_ACCESS_KEY, date, REGION, 'kafka-cluster')).not.toBe(signature);
    expect(sigv4Signature(request, CREDENTIALS.AWS_SECRET_ACCESS_KEY, date, 'eu-west-1', 'kafka-cluster')).not.toBe(signature);
  });

  it('with credentials about to expire: a whole-second X-Amz-Expires, and the token expires with the credentials', async () => {
    const credentialsExpire = Date.now() + 30_000;
    process.env.AWS_CREDENTIAL_EXPIRATION = new Date(credentialsExpire).toISOString();
    const token = await mskIamTokenSource(REGION)();
    const { params, request, signature } = decode(token.value);
    expect(params.get('X-Amz-Expires')).toMatch(/^[1-9]\d*$/);
    expect(token.expiresAtMs).toBeLessThanOrEqual(credentialsExpire);
    expect(token.expiresAtMs).toBeGreaterThan(Date.now());
    expect(sigv4Signature(request, CREDENTIALS.AWS_SECRET_ACCESS_KEY, params.get('X-Amz-Date')!, REGION, 'kafka-cluster')).toBe(signature);
  });

  it('the provider makes a new token each time kafkajs authenticates, signed anew', async () => {
    const provider = oauthBearerProvider(mskIamTokenSource(REGION), 'AWS_MSK_IAM');
    const first = await provider();
    await new Promise((r) => setTimeout(r, 1100));
    const second = await provider();
    expect(second.value).not.toBe(first.value);
    const a = decode(first.value).params.get('X-Amz-Date')!;
    const b = decode(second.value).params.get('X-Amz-Date')!;
    expect(amzDateMs(b)).toBeGreaterThan(amzDateMs(a));
  });

  it('expired credentials: KAFKA_AUTH_FAILED, not retried by kafkajs, without any secret in it', async () => {
    process.env.AWS_CREDENTIAL_EXPIRATION = new Date(Date.now() - 60_000).toISOString();
    const provider = oauthBearerProvider(mskIamTokenSource(REGION), `AWS_MSK_IAM (${REGION})`);
    const err = await provider().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isStreamError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'KAFKA_AUTH_FAILED', retryable: false, retriable: false });
    expect((err as Error).message).toMatch(/already expired/);
    const text = JSON.stringify(err) + String((err as Error).message) + String((err as Error).stack);
    for (const secret of Object.values(CREDENTIALS)) expect(text).not.toContain(secret);
  });

  it('no credentials at all: KAFKA_AUTH_FAILED naming the region', async () => {
    for (const k of Object.keys(CREDENTIALS)) delete process.env[k];
    process.env.AWS_PROFILE = 'streamberg-profile-that-does-not-exist';
    const provider = oauthBearerProvider(mskIamTokenSource(REGION), `AWS_MSK_IAM (${REGION})`);
    const err = await provider().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'KAFKA_AUTH_FAILED', retryable: false });
    expect((err as Error).message).toMatch(/AWS_MSK_IAM \(ap-south-1\): no token could be made/);
  }, 30_000);
});
