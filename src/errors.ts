// Every error the runtime raises on purpose is a StreamError with a stable code. The supervisor's
// restart policy reads `domain` and `retryable`, never the message text: messages are for people.

/**
 * Who has to act for the error to go away.
 * - `user`: the configuration, a transformer or the input data is wrong; retrying cannot help.
 * - `external`: a peer (Kafka, the catalog, S3) failed or refused; often passes.
 * - `internal`: a bug or a broken invariant in this runtime.
 */
export type ErrorDomain = 'user' | 'external' | 'internal';

export const ERROR_CODES = {
  // configuration and start-up
  CONFIG_NOT_FOUND: { domain: 'user', retryable: false },
  CONFIG_INVALID: { domain: 'user', retryable: false },
  CLI_USAGE: { domain: 'user', retryable: false },
  TRANSFORMER_LOAD_FAILED: { domain: 'user', retryable: false },
  SQL_UNSUPPORTED: { domain: 'user', retryable: false },
  SQL_INVALID: { domain: 'user', retryable: false },
  SCHEMA_MISMATCH: { domain: 'user', retryable: false },
  SCHEMA_INCOMPATIBLE_CHANGE: { domain: 'user', retryable: false },
  // data
  RECORD_DECODE_FAILED: { domain: 'user', retryable: false },
  RECORD_TOO_LARGE: { domain: 'user', retryable: false },
  EXPRESSION_FAILED: { domain: 'user', retryable: false },
  // Kafka
  KAFKA_UNAVAILABLE: { domain: 'external', retryable: true },
  KAFKA_TOPIC_MISSING: { domain: 'user', retryable: false },
  KAFKA_PROTOCOL: { domain: 'external', retryable: true },
  KAFKA_BATCH_CORRUPT: { domain: 'external', retryable: false },
  KAFKA_CODEC_UNSUPPORTED: { domain: 'user', retryable: false },
  // Iceberg and catalogs
  COMMIT_CONFLICT: { domain: 'external', retryable: true },
  COMMIT_FAILED: { domain: 'external', retryable: true },
  COMMIT_RETRIES_EXHAUSTED: { domain: 'external', retryable: true },
  CATALOG_UNAVAILABLE: { domain: 'external', retryable: true },
  TABLE_NOT_FOUND: { domain: 'user', retryable: false },
  NAMESPACE_NOT_FOUND: { domain: 'user', retryable: false },
  STORAGE_FAILED: { domain: 'external', retryable: true },
  METADATA_INVALID: { domain: 'internal', retryable: false },
  // runtime
  WORKER_CRASHED: { domain: 'internal', retryable: true },
  ACTOR_FAILED: { domain: 'internal', retryable: true },
  CHECKPOINT_FAILED: { domain: 'external', retryable: true },
  PIPELINE_FAILED: { domain: 'internal', retryable: false },
  NOT_IMPLEMENTED: { domain: 'internal', retryable: false },
} as const satisfies Record<string, { domain: ErrorDomain; retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface StreamErrorOptions {
  cause?: unknown;
  /** Overrides the code's default, e.g. a conflict that is known to be final. */
  retryable?: boolean;
  /** Machine-readable context: file, path, topic, partition, offset, table... */
  details?: Record<string, unknown>;
}

export class StreamError extends Error {
  readonly code: ErrorCode;
  readonly domain: ErrorDomain;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: StreamErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StreamError';
    this.code = code;
    this.domain = ERROR_CODES[code].domain;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
    this.details = options.details ?? {};
  }

  /** A plain object that survives structured clone (worker → main thread). */
  toJSON(): SerializedError {
    return {
      code: this.code,
      message: this.message,
      domain: this.domain,
      retryable: this.retryable,
      details: this.details,
      stack: this.stack,
      cause: this.cause === undefined ? undefined : serializeError(this.cause),
    };
  }
}

export interface SerializedError {
  code: ErrorCode;
  message: string;
  domain: ErrorDomain;
  retryable: boolean;
  details: Record<string, unknown>;
  stack?: string | undefined;
  cause?: SerializedError | undefined;
}

export function isStreamError(value: unknown): value is StreamError {
  return value instanceof StreamError;
}

/**
 * Classifies any thrown value. Errors that are not ours are internal and retryable once by
 * default: a restart from the last checkpoint is safe, and a real bug will exhaust the policy.
 */
export function toStreamError(value: unknown, fallback: ErrorCode = 'ACTOR_FAILED'): StreamError {
  if (value instanceof StreamError) return value;
  if (isSerializedError(value)) return deserializeError(value);
  const message = value instanceof Error ? value.message : String(value);
  return new StreamError(fallback, message, { cause: value });
}

export function serializeError(value: unknown): SerializedError {
  return toStreamError(value).toJSON();
}

export function deserializeError(value: SerializedError): StreamError {
  const code = value.code in ERROR_CODES ? value.code : 'ACTOR_FAILED';
  const err = new StreamError(code, value.message, {
    retryable: value.retryable,
    details: value.details,
    cause: value.cause === undefined ? undefined : deserializeError(value.cause),
  });
  if (value.stack !== undefined) err.stack = value.stack;
  return err;
}

function isSerializedError(value: unknown): value is SerializedError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as SerializedError).code === 'string' &&
    typeof (value as SerializedError).message === 'string' &&
    typeof (value as SerializedError).domain === 'string'
  );
}
