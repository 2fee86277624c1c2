// The shape of topics.yaml and transformations.yaml, as zod schemas over the parsed and
// interpolated YAML. Structure, enums and ranges live here; checks that need more than one value
// (types, partition specs, references between the files) live in `resolve.ts`.
// Objects are strict: an unknown key is almost always a typo, and silently ignoring it would hide
// a setting the user believes is in force.

import { z } from 'zod';

/** Env interpolation yields strings; numbers and booleans written as `${VAR:-2}` become typed. */
const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.preprocess(
    (v) => (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v),
    z.number().int().min(min).max(max),
  );
const bool = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());
const durationLike = z.union([z.string(), z.number()]);
const scalarString = z.preprocess((v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v), z.string());

export const fieldSchema = z
  .object({
    name: z.string().min(1),
    type: z.string().min(1),
    // Accepted for documentation; ignored by the runtime.
    description: z.string().optional(),
    comment: z.string().optional(),
  })
  .strict();

export const sinkSchema = z
  .object({
    table_name: z.string().min(1),
    schema: z.array(fieldSchema).min(1),
    partition_by: z.array(z.string().min(1)).optional(),
    properties: z.record(z.string(), scalarString).optional(),
  })
  .strict();

export const deadLetterSchema = z
  .object({
    table: z.string().min(1).optional(),
    topic: z.string().min(1).optional(),
  })
  .strict();

export const schemaRegistrySchema = z
  .object({
    url: z.string().url(),
    subject: z.string().min(1).optional(),
    basic_auth: z.object({ username: z.string(), password: z.string() }).strict().optional(),
    bearer_token: z.string().min(1).optional(),
    ssl: z
      .object({
        ca_file: z.string().min(1).optional(),
        reject_unauthorized: bool.optional(),
      })
      .strict()
      .optional(),
    timeout: durationLike.optional(),
  })
  .strict();

export const SCAN_MODES = ['earliest-offset', 'latest-offset', 'group-offsets', 'timestamp'] as const;
export const ON_ERROR = ['dlq', 'skip', 'fail'] as const;
/** Kafka's isolation.level: read_committed hides records of aborted transactions. */
export const ISOLATION_LEVELS = ['read_committed', 'read_uncommitted'] as const;

export const topicSchema = z
  .object({
    enabled: bool.optional(),
    kafka_group_id: z.string().min(1).optional(),
    scan_mode: z.enum(SCAN_MODES).optional(),
    scan_timestamp_ms: int(0).optional(),
    format: z.enum(['json', 'avro', 'avro-confluent', 'csv']).optional(),
    // Flink's format option names (`csv.field-delimiter`, …): checked in format.ts.
    format_options: z.record(z.string(), scalarString).optional(),
    avro_schema: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
    schema_registry: schemaRegistrySchema.optional(),
    source_schema: z.array(fieldSchema).min(1),
    sink: sinkSchema,
    transformation: z.string().min(1),
    on_error: z.enum(ON_ERROR).optional(),
    dead_letter: deadLetterSchema.optional(),
    max_record_bytes: z.union([z.string(), z.number()]).optional(),
    isolation_level: z.enum(ISOLATION_LEVELS).optional(),
  })
  .strict();

export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export const SASL_MECHANISMS = ['AWS_MSK_IAM', 'PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

export const kafkaSchema = z
  .object({
    bootstrap_servers: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    client_id: z.string().min(1).optional(),
    security: z
      .object({
        protocol: z.enum(SECURITY_PROTOCOLS).optional(),
        sasl_mechanism: z.enum(SASL_MECHANISMS).optional(),
        region: z.string().min(1).optional(),
        username: z.string().optional(),
        password: z.string().optional(),
        // librdkafka's names for PEM files (ssl.ca.location, ...); Java's keystores are not read.
        ssl_ca_location: z.string().min(1).optional(),
        ssl_certificate_location: z.string().min(1).optional(),
        ssl_key_location: z.string().min(1).optional(),
        ssl_key_password: z.string().optional(),
        // The Java client's IAM settings, accepted so the PyFlink job's file loads unchanged;
        // IAM signing here needs only the mechanism and the region.
        sasl_jaas_config: z.string().optional(),
        sasl_client_callback_handler_class: z.string().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/**
 * Transform worker threads. The one check of the range: `runtime.parallelism` in the file and
 * the CLI's `--parallelism` both go through it, so they cannot drift apart.
 */
export const PARALLELISM = { min: 1, max: 256 } as const;
export const parallelismSchema = int(PARALLELISM.min, PARALLELISM.max);

export const runtimeSchema = z
  .object({
    parallelism: parallelismSchema.optional(),
    actor_threads: int(1, 256).optional(),
    batch_size: int(1, 1_000_000).optional(),
    checkpoint_interval: durationLike.optional(),
    // A duration, or 0 / "off" / false to disable (resolve.ts).
    partition_discovery_interval: z.union([durationLike, z.literal(false)]).optional(),
    checkpoint_mode: z.enum(['EXACTLY_ONCE', 'AT_LEAST_ONCE']).optional(),
    // Several processes share each topic's partitions through its Kafka consumer group.
    scale_out: z
      .object({
        enabled: z.boolean().optional(),
        protocol: z.enum(['auto', 'consumer', 'classic']).optional(),
        session_timeout: durationLike.optional(),
        rebalance_timeout: durationLike.optional(),
        member: z.string().min(1).max(200).optional(),
      })
      .strict()
      .optional(),
    metrics_port: int(0, 65535).optional(),
    memory_budget: z.union([z.string(), z.number()]).optional(),
    restart: z
      .object({
        max_failures: int(1, 1000).optional(),
        window: durationLike.optional(),
        initial_backoff: durationLike.optional(),
        max_backoff: durationLike.optional(),
      })
      .strict()
      .optional(),
    maintenance: z
      .object({
        enabled: z.boolean().optional(),
        expire_interval: durationLike.optional(),
        compact_interval: durationLike.optional(),
        compact_min_files: int(2, 100_000).optional(),
        compact_min_bytes: z.union([z.string(), z.number()]).optional(),
        compact_max_bytes: z.union([z.string(), z.number()]).optional(),
        compact_max_files: int(2, 10_000_000).optional(),
        orphan_interval: durationLike.optional(),
        orphan_min_age: durationLike.optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export const CATALOG_TYPES = ['sql', 's3tables', 'rest'] as const;

export const catalogSchema = z
  .object({
    type: z.enum(CATALOG_TYPES).optional(),
    name: z.string().min(1).optional(),
    uri: z.string().min(1).optional(),
    warehouse: z.string().min(1).optional(),
    region: z.string().min(1).optional(),
    namespace: z.string().min(1).optional(),
    endpoint: z.string().url().optional(),
    s3_endpoint: z.string().url().optional(),
    // The REST catalog's settings, spelled as pyiceberg's and Java's RESTCatalog properties so
    // that existing catalog settings can be copied over.
    prefix: z.string().min(1).optional(),
    token: z.string().min(1).optional(),
    credential: z.string().min(1).optional(),
    scope: z.string().min(1).optional(),
    'oauth2-server-uri': z.string().url().optional(),
    'rest.sigv4-enabled': bool.optional(),
    'rest.signing-region': z.string().min(1).optional(),
    'rest.signing-name': z.string().min(1).optional(),
  })
  // `header.<name>` and `s3.<property>` keys (REST only) are open-ended: they are checked in
  // resolve.ts, which reports any other unknown key as strict objects do.
  .catchall(z.unknown());

/** The fixed keys of the catalog section, for the unknown-key message. */
export const CATALOG_KEYS = Object.keys(catalogSchema.shape);

export const topicsFileSchema = z
  .object({
    kafka: kafkaSchema,
    topics: z.record(z.string().min(1), topicSchema),
    runtime: runtimeSchema.optional(),
    catalog: catalogSchema.optional(),
  })
  .strict();

export const transformationEntrySchema = z
  .object({
    class: z.string().min(1).optional(),
    module: z.string().min(1).optional(),
    file: z.string().min(1).optional(),
    sql: z.string().min(1).optional(),
    sql_file: z.string().min(1).optional(),
    description: z.string().optional(),
  })
  .strict();

export const transformationsFileSchema = z
  .object({
    transformations: z.record(z.string().min(1), transformationEntrySchema),
  })
  .strict();

export type RawTopicsFile = z.infer<typeof topicsFileSchema>;
export type RawTopic = z.infer<typeof topicSchema>;
export type RawTransformationsFile = z.infer<typeof transformationsFileSchema>;
