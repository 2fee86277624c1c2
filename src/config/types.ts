// The resolved configuration: what `loadConfig` returns after reading `topics.yaml` and
// `transformations.yaml`, interpolating `${ENV}`, validating, applying defaults and CLI overrides.
// Everything downstream reads these types, never the raw YAML.

import type { SqlType } from '../schema/sql-types.js';

export interface FieldConfig {
  name: string;
  type: SqlType;
  /** The type as written in the YAML, for messages. */
  typeText: string;
}

export type ScanMode = 'earliest-offset' | 'latest-offset' | 'group-offsets' | 'timestamp';
export type OnError = 'dlq' | 'skip' | 'fail';

/** Iceberg partition transforms (Iceberg spec, "Partition Transforms"). */
export type PartitionTransform =
  | { kind: 'identity' }
  | { kind: 'year' }
  | { kind: 'month' }
  | { kind: 'day' }
  | { kind: 'hour' }
  | { kind: 'bucket'; n: number }
  | { kind: 'truncate'; width: number };

export interface PartitionFieldConfig {
  /** Sink column the transform reads. */
  source: string;
  transform: PartitionTransform;
  /** As written, e.g. `bucket(16, user_id)`. */
  text: string;
}

export interface SinkConfig {
  /** As written in the YAML. */
  tableNameRaw: string;
  /** Sanitized as the PyFlink job did (`my-topic.v1` → `my_topic_v1`); a valid identifier. */
  tableName: string;
  schema: FieldConfig[];
  partitionBy: PartitionFieldConfig[];
  /** Iceberg table properties, merged over the defaults (format v2, Parquet, Snappy). */
  properties: Record<string, string>;
}

export type DeadLetterConfig =
  | { kind: 'table'; tableName: string }
  | { kind: 'topic'; topic: string };

export type SourceFormatName = 'json' | 'avro' | 'avro-confluent' | 'csv';

/** Flink's CSV format options (`csv.field-delimiter` …), resolved to characters and flags. */
export interface CsvOptions {
  fieldDelimiter: string;
  /** null: quoting disabled (`csv.disable-quote-character: true`). */
  quoteCharacter: string | null;
  allowComments: boolean;
  /** Accepted as Flink spells it; a record that cannot be parsed is a dead letter either way. */
  ignoreParseErrors: boolean;
  /** A field with exactly this text is null; null: no null literal. */
  nullLiteral: string | null;
  /** null: no escape character (Flink's default). */
  escapeCharacter: string | null;
  /** Separates the elements of an ARRAY field. */
  arrayElementDelimiter: string;
}

/** A Confluent-compatible schema registry (Confluent's REST API: `/schemas/ids/{id}`, `/subjects/…`). */
export interface SchemaRegistryConfig {
  /** Base URL, e.g. `http://127.0.0.1:8081` or Apicurio's `http://host/apis/ccompat/v7`. */
  url: string;
  /** Subject `--check` resolves the latest version of; default `<topic>-value` (TopicNameStrategy). */
  subject: string;
  basicAuth?: { username: string; password: string } | undefined;
  bearerToken?: string | undefined;
  /** PEM file of the CA that signs the registry's certificate; default: the system's. */
  caFile?: string | undefined;
  /** false accepts any certificate (test set-ups only). Default true. */
  rejectUnauthorized?: boolean | undefined;
  /** Milliseconds one registry request may take before it counts as unreachable. */
  timeoutMs: number;
}

export interface AvroOptions {
  /** `format: avro`: the writer schema as Avro JSON; null: the schema derived from source_schema. */
  schema: unknown;
  /** `format: avro-confluent` only. */
  registry?: SchemaRegistryConfig | undefined;
}

export interface PipelineConfig {
  topic: string;
  enabled: boolean;
  groupId: string;
  scanMode: ScanMode;
  /** Only with scanMode `timestamp`: epoch milliseconds. */
  scanTimestampMs?: number | undefined;
  /** How record values are read: see src/config/format.ts. */
  format: SourceFormatName;
  /** Options of `format: csv`, Flink's `csv.*` names resolved. */
  csv?: CsvOptions | undefined;
  /** Options of `format: avro` and `format: avro-confluent`. */
  avro?: AvroOptions | undefined;
  sourceSchema: FieldConfig[];
  sink: SinkConfig;
  /** Name of an entry in transformations.yaml. */
  transformation: string;
  onError: OnError;
  deadLetter: DeadLetterConfig;
  /** A record value larger than this is a dead letter (RECORD_TOO_LARGE). */
  maxRecordBytes: number;
  /** Kafka's isolation.level, as Flink's `properties.isolation.level`; default read_committed. */
  isolationLevel: 'read_committed' | 'read_uncommitted';
}

/**
 * One transformations.yaml entry. Either a class in a module — the project's `transformations/`
 * (compiled with the project) or a `file:` beside the configuration (plain `.js`/`.mjs`, or `.ts`
 * that Node.js runs by stripping its types, no build) — or a SQL SELECT, inline (`sql:`) or in a
 * `.sql` file (`sql_file:`), with `{source_table}` standing for the topic's source table.
 */
export interface TransformationEntry {
  name: string;
  /** '' for a SQL entry. */
  className: string;
  /** As written: dotted (`transformations.bid_events_raw`) or a relative path; '' for `file:` and SQL entries. */
  module: string;
  /** Absolute path of the module's source file; '' for a SQL entry. */
  modulePath: string;
  /** A module named by `file:` must stay inside this folder (the configuration's); absent for `transformations/` modules. */
  moduleRoot?: string;
  /** A SQL entry's SELECT, as written. */
  sql?: string;
  /** Where that SQL's first line is, so a compile error can name the file and line. */
  sqlOrigin?: { file: string; line: number };
  description: string;
}

export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
export type SaslMechanism = 'AWS_MSK_IAM' | 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

export interface KafkaConfig {
  bootstrapServers: string[];
  clientId: string;
  security: {
    protocol: SecurityProtocol;
    saslMechanism?: SaslMechanism | undefined;
    /** AWS region for MSK IAM signing; falls back to AWS_REGION. */
    region?: string | undefined;
    username?: string | undefined;
    password?: string | undefined;
    /**
     * TLS (protocols SSL and SASL_SSL), as absolute paths of PEM files: the CA certificates to
     * trust instead of Node.js' bundled ones, and a client certificate and its key for brokers
     * that ask for one (`ssl.client.auth=required`), the key optionally encrypted.
     */
    sslCaLocation?: string | undefined;
    sslCertificateLocation?: string | undefined;
    sslKeyLocation?: string | undefined;
    sslKeyPassword?: string | undefined;
  };
}

export type CheckpointMode = 'EXACTLY_ONCE' | 'AT_LEAST_ONCE';

export interface RestartPolicy {
  /** A pipeline failing this many times within `windowMs` is marked failed. */
  maxFailures: number;
  windowMs: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

/** `runtime.maintenance`: what the runtime does to keep its tables healthy between checkpoints. */
export interface MaintenanceConfig {
  /**
   * Compaction, snapshot expiry and orphan removal by the runtime, after a commit; undefined: the catalog's default (on for
   * sql and rest, off for s3tables, whose managed maintenance does it).
   */
  enabled: boolean | undefined;
  /** Least time between two expiries of one table. */
  expireIntervalMs: number;
  /** Least time between two compactions of one table. */
  compactIntervalMs: number;
  /** A partition is compacted once it holds this many files smaller than `write.target-file-size-bytes`. */
  compactMinFiles: number;
  /** ...or once they total this many bytes; undefined: the table's `write.target-file-size-bytes`. */
  compactMinBytes?: number | undefined;
  /** At most this many bytes / files rewritten in one round (undefined: 512 MiB / 1000 files). */
  compactMaxBytes?: number | undefined;
  compactMaxFiles?: number | undefined;
  /** Least time between two orphan removals of one table by the runtime. */
  orphanIntervalMs: number;
  /** Orphan removal (the runtime's and `maintain`'s) takes only files older than this. */
  orphanMinAgeMs: number;
}

export interface RuntimeConfig {
  /** Transform pool size. */
  parallelism: number;
  /**
   * Most threads hosting source actors, and as many hosting sink actors, shared by every
   * pipeline (an actor is not a thread); default: the core count.
   */
  actorThreads: number;
  /** Most records in one transform task; a larger fetch is split. */
  batchRecords: number;
  checkpointIntervalMs: number;
  /** How often each source topic's partition count is read again while running; 0: never. */
  partitionDiscoveryIntervalMs: number;
  checkpointMode: CheckpointMode;
  metricsPort: number;
  restart: RestartPolicy;
  /** Upper bound for buffered batches across the process, in bytes. */
  memoryBudgetBytes: number;
  maintenance: MaintenanceConfig;
  /** Absent: one process reads every partition of its topics. */
  scaleOut: ScaleOutConfig | undefined;
}

/**
 * Several processes with the same configuration share each topic's partitions: each pipeline
 * joins its topic's consumer group (`kafka_group_id`) and reads what the group assigns it; the
 * table decides who may commit (iceberg/partition-claims.ts).
 */
export interface ScaleOutConfig {
  protocol: 'auto' | 'consumer' | 'classic';
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  /** This process's owner name in the table; unique among the processes. */
  member: string;
}

export type CatalogConfig =
  | {
      type: 'sql';
      name: string;
      /** `sqlite:///abs/path/catalog.db` as pyiceberg takes it, made absolute. */
      uri: string;
      /** Absolute filesystem path of the SQLite file. */
      sqlitePath: string;
      /** `file:///abs/path` */
      warehouse: string;
      namespace: string;
    }
  | {
      type: 's3tables';
      name: string;
      /** Table bucket ARN, `arn:aws:s3tables:<region>:<account>:bucket/<name>`. */
      warehouse: string;
      region: string;
      namespace: string;
      /** Overrides the S3 Tables endpoint (tests point it at a local server). */
      endpoint?: string | undefined;
      /** Overrides the S3 endpoint for data and metadata files. */
      s3Endpoint?: string | undefined;
    }
  | RestCatalogConfig;

/** How the REST catalog's requests are authenticated. */
export type RestAuthConfig =
  | { kind: 'none' }
  | { kind: 'bearer'; token: string }
  /** OAuth2 client credentials: `credential` is `<client-id>:<client-secret>` (or a secret alone). */
  | { kind: 'oauth2'; credential: string; serverUri?: string | undefined; scope: string }
  /** AWS Signature V4 with the default credential chain; region default: AWS_REGION. */
  | { kind: 'sigv4'; region?: string | undefined; signingName: string };

export interface RestCatalogConfig {
  type: 'rest';
  name: string;
  /** The catalog's base URL, without `/v1`. */
  uri: string;
  warehouse?: string | undefined;
  /** The path prefix after `/v1/`; the server's `/v1/config` may set or override it. */
  prefix?: string | undefined;
  namespace: string;
  auth: RestAuthConfig;
  /** `header.<name>` settings: extra HTTP headers on every request. */
  headers: Record<string, string>;
  /** `s3.*` settings for the table files (endpoint, region, keys), under what the server vends. */
  properties: Record<string, string>;
}

export interface AppConfig {
  configDir: string;
  files: { topics: string; transformations: string };
  kafka: KafkaConfig;
  runtime: RuntimeConfig;
  catalog: CatalogConfig;
  /** Every topic in the file, enabled or not, in file order. */
  pipelines: PipelineConfig[];
  transformations: Record<string, TransformationEntry>;
}

/** Settings given on the command line, which win over the files' (`loadConfig`'s `overrides`). */
export interface ConfigOverrides {
  parallelism?: number | undefined;
  checkpointIntervalMs?: number | undefined;
  metricsPort?: number | undefined;
}
