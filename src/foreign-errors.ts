// What a thrown value that is not ours says about itself, read from its data only: its `name`,
// its `code`, kafkajs' `retriable` flag and `type`, an AWS SDK response's status. errors.ts asks
// this of every link of a foreign error's cause chain and turns the answer into a StreamError's
// code and retry decision; messages are never read.

import type { ErrorCode } from './error-codes.js';

/** Where a network error came from decides its code: the same ECONNREFUSED means a broker or a bucket. */
export type Peer = 'kafka' | 'storage' | 'catalog';

export interface Verdict {
  code: ErrorCode;
  retryable: boolean;
}

/** Network failures of any peer: a restart after the peer is back mends them. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH', 'EHOSTDOWN',
  'ENETUNREACH', 'ENETDOWN', 'ENOTFOUND', 'ESOCKETTIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);

/**
 * File-system failures. EACCES / EPERM / EROFS are how a warehouse made read-only (a remount,
 * `chattr +i`) shows itself, and ENOSPC a full disk: both pass when an operator acts, so they are
 * retried like an outage and bounded by the restart policy.
 */
const STORAGE_CODES = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'EIO', 'EBUSY', 'EMFILE', 'ENFILE', 'ENOENT', 'ENOTDIR', 'EISDIR', 'ESTALE']);

/** kafkajs errors that mean "the cluster is not reachable or not ready", whatever their `retriable` flag. */
const KAFKA_UNAVAILABLE_NAMES = new Set([
  'KafkaJSConnectionError', 'KafkaJSConnectionClosedError', 'KafkaJSRequestTimeoutError', 'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError', 'KafkaJSGroupCoordinatorNotFound', 'KafkaJSTimeout', 'KafkaJSLockTimeout',
  'KafkaJSNumberOfRetriesExceeded', 'KafkaJSMetadataNotLoaded', 'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment', 'KafkaJSFetcherRebalanceError',
]);

/** kafkajs errors a restart cannot mend: the client or the broker lacks a feature (a codec, an API). */
const KAFKA_UNSUPPORTED_NAMES = new Set(['KafkaJSNotImplemented', 'KafkaJSUnsupportedMagicByteInMessageSet', 'KafkaJSServerDoesNotSupportApiKey']);

/** Kafka protocol error types (kafkajs' `type`) that mean the credentials or their rights are refused. */
const KAFKA_AUTH_TYPES = new Set([
  'SASL_AUTHENTICATION_FAILED', 'ILLEGAL_SASL_STATE', 'UNSUPPORTED_SASL_MECHANISM', 'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'DELEGATION_TOKEN_AUTH_DISABLED', 'DELEGATION_TOKEN_AUTHORIZATION_FAILED',
]);

/**
 * A TLS handshake with a Kafka broker that failed on a certificate: ours was refused or missing
 * (the broker's alert, as OpenSSL names it in Node's `code`), or the broker's did not verify
 * against the CA we trust. A restart presents the same certificates again.
 */
const TLS_CERTIFICATE_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_REVOKED', 'CERT_UNTRUSTED', 'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
const TLS_ALERT_CODE = /^ERR_SSL_(SSLV3|TLSV1|TLSV13|SSL\/TLS)_ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|CERTIFICATE_UNKNOWN|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED)$/;

function isTlsCertificateFailure(code: unknown): boolean {
  return typeof code === 'string' && (TLS_CERTIFICATE_CODES.has(code) || TLS_ALERT_CODE.test(code));
}

function unavailable(peer: Peer | undefined): ErrorCode {
  return peer === 'kafka' ? 'KAFKA_UNAVAILABLE' : peer === 'catalog' ? 'CATALOG_UNAVAILABLE' : 'STORAGE_FAILED';
}

/** What one link of a cause chain that is not ours says on its own; null when it says nothing we recognize. */
export function foreignVerdict(v: unknown, peer: Peer | undefined): Verdict | null {
  if (typeof v !== 'object' || v === null) return null;
  const name = read(v, 'name');
  const code = read(v, 'code');
  if (typeof name === 'string' && name.startsWith('KafkaJS')) {
    if (name === 'KafkaJSSASLAuthenticationError') return { code: 'KAFKA_AUTH_FAILED', retryable: false };
    if (isTlsCertificateFailure(code)) return { code: 'KAFKA_AUTH_FAILED', retryable: false };
    const type = read(v, 'type');
    if (typeof type === 'string' && KAFKA_AUTH_TYPES.has(type)) return { code: 'KAFKA_AUTH_FAILED', retryable: false };
    if (KAFKA_UNSUPPORTED_NAMES.has(name)) return { code: 'KAFKA_PROTOCOL', retryable: false };
    if (KAFKA_UNAVAILABLE_NAMES.has(name)) return { code: 'KAFKA_UNAVAILABLE', retryable: true };
    const retriable = read(v, 'retriable');
    return { code: 'KAFKA_PROTOCOL', retryable: typeof retriable === 'boolean' ? retriable : true };
  }
  if (typeof code === 'string') {
    if (peer === 'kafka' && isTlsCertificateFailure(code)) return { code: 'KAFKA_AUTH_FAILED', retryable: false };
    if (NETWORK_CODES.has(code)) return { code: unavailable(peer), retryable: true };
    if (STORAGE_CODES.has(code)) return { code: 'STORAGE_FAILED', retryable: true };
    // better-sqlite3 (the sql catalog): another writer holds the lock, or the file is unwritable.
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return { code: 'CATALOG_UNAVAILABLE', retryable: true };
    if (/^SQLITE_(READONLY|IOERR|FULL|CANTOPEN)/.test(code)) return { code: 'STORAGE_FAILED', retryable: true };
  }
  // AWS SDK v3 service errors carry the HTTP status and the SDK's own retry verdict.
  const status = read(read(v, '$metadata'), 'httpStatusCode');
  const sdkRetryable = read(v, '$retryable');
  if ((typeof sdkRetryable === 'object' && sdkRetryable !== null) || (typeof status === 'number' && (status === 429 || status >= 500))) {
    return { code: peer === 'catalog' ? 'CATALOG_UNAVAILABLE' : 'STORAGE_FAILED', retryable: true };
  }
  return null;
}

/** A property read that survives throwing getters and hostile proxies. */
export function read(obj: unknown, key: string | number): unknown {
  if (typeof obj !== 'object' || obj === null) return undefined;
  return guard(() => (obj as Record<string | number, unknown>)[key], undefined);
}

export function guard<T>(f: () => T, otherwise: T): T {
  try {
    return f();
  } catch {
    return otherwise;
  }
}
