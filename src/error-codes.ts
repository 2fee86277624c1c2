// The error vocabulary: every code the runtime raises, with who has to act (its domain) and
// whether a restart can mend it. errors.ts builds and serializes errors from it, and
// foreign-errors.ts maps foreign errors onto it; neither needs the other to name a code.

/**
 * Who has to act for the error to go away.
 * - `user`: the configuration, a transformer or the input data is wrong; retrying cannot help.
 * - `external`: a peer (Kafka, the catalog, S3) failed or refused; often passes.
 * - `internal`: a bug or a broken invariant in this runtime.
 */
export type ErrorDomain = 'user' | 'external' | 'internal';

export const ERROR_CODES = {
  // configuration and start-up
  CONFIG_INVALID: { domain: 'user', retryable: false },
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
  // a topic the broker does not know: deleted, not yet created, or another cluster at the address;
  // ridden out as an outage, as Kafka's own consumer waits for a topic to appear
  KAFKA_TOPIC_MISSING: { domain: 'external', retryable: true },
  KAFKA_PROTOCOL: { domain: 'external', retryable: true },
  KAFKA_BATCH_CORRUPT: { domain: 'external', retryable: false },
  KAFKA_CODEC_UNSUPPORTED: { domain: 'user', retryable: false },
  // schema registry: unreachable is an outage (records wait, never dead letters); refused is set-up
  SCHEMA_REGISTRY_UNAVAILABLE: { domain: 'external', retryable: true },
  SCHEMA_REGISTRY_REFUSED: { domain: 'user', retryable: false },
  // Iceberg and catalogs
  COMMIT_CONFLICT: { domain: 'external', retryable: true },
  COMMIT_FAILED: { domain: 'external', retryable: true },
  COMMIT_RETRIES_EXHAUSTED: { domain: 'external', retryable: true },
  CATALOG_UNAVAILABLE: { domain: 'external', retryable: true },
  TABLE_NOT_FOUND: { domain: 'user', retryable: false },
  NAMESPACE_NOT_FOUND: { domain: 'user', retryable: false },
  STORAGE_FAILED: { domain: 'external', retryable: true },
  METADATA_INVALID: { domain: 'internal', retryable: false },
  // a table shows a pipeline's history but no position to resume from (its snapshots expired
  // and its position property gone, or kept for another topic): an operator must choose
  POSITION_LOST: { domain: 'user', retryable: false },
  // another process claimed the partition at a higher ownership epoch: this one must never commit
  // for it again (drop what it buffered); a restart would not make the claim its own again
  PARTITION_FENCED: { domain: 'external', retryable: false },
  // runtime
  WORKER_CRASHED: { domain: 'internal', retryable: true },
  ACTOR_FAILED: { domain: 'internal', retryable: true },
  CHECKPOINT_FAILED: { domain: 'external', retryable: true },
  PIPELINE_FAILED: { domain: 'internal', retryable: false },
  NOT_IMPLEMENTED: { domain: 'internal', retryable: false },
  // credentials a peer refused: a restart presents the same ones again
  KAFKA_AUTH_FAILED: { domain: 'user', retryable: false },
  CATALOG_AUTH_FAILED: { domain: 'user', retryable: false },
  // a catalog answered that the request itself is wrong (HTTP 400, 406, 422): sending it again
  // gets the same answer
  CATALOG_REJECTED: { domain: 'external', retryable: false },
} as const satisfies Record<string, { domain: ErrorDomain; retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;
