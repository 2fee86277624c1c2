// SASL/OAUTHBEARER tokens for kafkajs, and the one source of them this runtime ships: AWS MSK IAM.
//
// How a token lives: the broker makes the SASL session last as long as the token it was given
// (KIP-368 re-authentication; MSK does the same with its IAM tokens), and tells the client the
// session's lifetime. kafkajs re-authenticates a connection on its next request once less than
// `reauthenticationThreshold` (10 s) of that lifetime is left, asking the provider for a token
// again. So the provider hands out a fresh token on every call: a cached one with less of its
// life left would give the next session a shorter lifetime, and kafkajs would re-authenticate
// sooner each time until the token expired under it.

import { StreamError, serializeError } from '../errors.js';

export interface BearerToken {
  /** The token as sent in the SASL/OAUTHBEARER initial response. */
  value: string;
  /** When the token stops being accepted, in ms since the epoch. */
  expiresAtMs: number;
}

/** What the AWS credential chain gives: keys, and when they stop being valid. */
type AwsCredentials = Awaited<ReturnType<ReturnType<typeof import('@aws-sdk/credential-providers').fromNodeProviderChain>>>;

/** Makes a new token; called whenever kafkajs authenticates a connection. */
export type TokenSource = () => Promise<BearerToken>;

/** What kafkajs' `sasl.oauthBearerProvider` takes. */
export type OauthBearerProvider = () => Promise<{ value: string }>;

/**
 * MSK IAM tokens: a SigV4-presigned `kafka-cluster:Connect` request for
 * `kafka.<region>.amazonaws.com`, base64url-encoded, made by aws-msk-iam-sasl-signer-js from
 * the AWS default credential chain (environment, profile, web identity, container or instance
 * role; the chain renews credentials that are about to expire).
 *
 * The token is signed for the signer's 900 s, and its expiry here is the earlier of that and the
 * credentials' own. The signer would instead shorten the signature to the credentials' remaining
 * life, but writes that as fractional seconds (`X-Amz-Expires=29.995`, signer 1.0.3), which is
 * not a SigV4 expiry; so it is given the credentials without their expiration.
 */
export function mskIamTokenSource(region: string): TokenSource {
  // The AWS SDK is loaded at the first token, not with this file: every thread that talks to
  // Kafka imports it, and only MSK IAM needs it (~10 MB of heap per thread otherwise).
  let aws: Promise<{ credentials: () => Promise<AwsCredentials>; sign: typeof import('aws-msk-iam-sasl-signer-js').generateAuthTokenFromCredentialsProvider }> | undefined;
  return async () => {
    aws ??= Promise.all([import('@aws-sdk/credential-providers'), import('aws-msk-iam-sasl-signer-js')]).then(([providers, signer]) => ({
      credentials: providers.fromNodeProviderChain({ clientConfig: { region } }),
      sign: signer.generateAuthTokenFromCredentialsProvider,
    }));
    const { credentials, sign } = await aws;
    const c = await credentials();
    const t = await sign({
      region,
      awsCredentialsProvider: () => Promise.resolve({ ...c, expiration: undefined }),
    });
    return { value: t.token, expiresAtMs: Math.min(t.expiryTime, c.expiration?.getTime() ?? Infinity) };
  };
}

/**
 * The provider kafkajs calls. A failure to make a token (no credentials, an unreachable
 * credential endpoint) is a refused credential: kafkajs must not retry it eight times per
 * connection, and the supervisor must not restart the pipeline onto it. Only the cause's name,
 * code and message are kept, never the token.
 */
export function oauthBearerProvider(source: TokenSource, describe: string): OauthBearerProvider {
  return async () => {
    let token: BearerToken;
    try {
      token = await source();
    } catch (cause) {
      const s = serializeError(cause);
      throw notRetriedByKafkajs(new StreamError('KAFKA_AUTH_FAILED', `${describe}: no token could be made: ${s.message}`, { cause }));
    }
    if (!(token.expiresAtMs > Date.now())) {
      throw notRetriedByKafkajs(new StreamError('KAFKA_AUTH_FAILED', `${describe}: the token made has already expired (at ${new Date(token.expiresAtMs).toISOString()}); check the credentials' expiry and the clock`));
    }
    return { value: token.value };
  };
}

/** kafkajs' retrier gives up at once on an error whose `retriable` is false. */
function notRetriedByKafkajs(err: StreamError): StreamError {
  Object.defineProperty(err, 'retriable', { value: false, enumerable: false });
  return err;
}
