// Checks that need more than one value, and the step from raw YAML to the resolved types:
// SQL types parsed, partition specs checked against the sink schema, references between the two
// files followed, paths made absolute, defaults applied. Each function records its problems on
// the SourceFile and returns undefined when its part is unusable.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { resolveFormat } from './format.js';
import { formatPath, type ConfigPath } from './issues.js';
import { ACCEPTED_IDENTIFIER, ACCEPTED_S3TABLES_IDENTIFIER, ACCEPTED_TABLE_NAME, S3TABLES_IDENTIFIER, deadLetterTableName, isIdentifier, isMeaninglessName, sanitizeTableName } from './names.js';
import { ACCEPTED_PARTITION, parsePartitionField, partitionTypeProblem } from './partition-spec.js';
import { topicSchema, type RawTopicsFile } from './schema.js';
import type { SourceFile } from './source-file.js';
import { ACCEPTED_TYPES, SqlTypeParseError, parseSqlType } from '../schema/sql-types.js';
import type { AppConfig, CatalogConfig, ConfigOverrides, FieldConfig, PartitionFieldConfig, PipelineConfig, RuntimeConfig, ScaleOutConfig, TransformationEntry } from './types.js';
import { ACCEPTED_DURATION, ACCEPTED_SIZE, parseDuration, parseSize } from './units.js';

/**
 * runtime.memory_budget when unset. W1 at --parallelism 2 (benchmarks/README.md, Memory): 512 MB
 * peaked at ~548 MB RSS, 256 MB at ~499 MB, with throughput and CPU the same within the noise.
 */
export const DEFAULT_MEMORY_BUDGET = 256 * 1024 * 1024;

/** Table properties every sink gets unless it sets its own (the PyFlink job's ICEBERG_CONFIG). */
export const DEFAULT_TABLE_PROPERTIES: Readonly<Record<string, string>> = {
  'format-version': '2',
  'write.format.default': 'parquet',
  'write.parquet.compression-codec': 'snappy',
};

export const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;

function duration(file: SourceFile, p: ConfigPath, value: string | number | undefined, fallback: number, min = 1): number | undefined {
  if (value === undefined) return fallback;
  const ms = parseDuration(value);
  if (ms === undefined || ms < min) {
    file.add(p, ms === undefined ? 'not a duration' : 'too short', { accepted: ms === undefined ? ACCEPTED_DURATION : `at least ${min}ms` });
    return undefined;
  }
  return ms;
}

function size(file: SourceFile, p: ConfigPath, value: string | number | undefined, fallback: number): number | undefined {
  if (value === undefined) return fallback;
  const bytes = parseSize(value);
  if (bytes === undefined || bytes < 1) {
    file.add(p, 'not a size', { accepted: ACCEPTED_SIZE });
    return undefined;
  }
  return bytes;
}

/**
 * `runtime.partition_discovery_interval`: Flink's `scan.topic-partition-discovery.interval`,
 * whose default is 5 minutes since FLIP-288 (Flink 1.18 onwards, so 1.19 too); 0, "off" or
 * false disables discovery, as a non-positive interval does there.
 */
function discoveryInterval(file: SourceFile, value: string | number | false | undefined): number | undefined {
  if (value === undefined) return 5 * 60_000;
  if (value === false || (typeof value === 'string' && value.trim().toLowerCase() === 'off')) return 0;
  const ms = parseDuration(value);
  if (ms === undefined) file.add(['runtime', 'partition_discovery_interval'], 'not a duration', { accepted: `${ACCEPTED_DURATION}; 0 or "off" disables discovery` });
  return ms;
}

/**
 * `runtime.scale_out`: undefined when off, null when a value is wrong (reported on `file`). The
 * member name defaults to host, pid and a random part: a restarted process is a new owner, which
 * claims its partitions again (a claim costs one empty snapshot).
 */
function resolveScaleOut(file: SourceFile, raw: NonNullable<RawTopicsFile['runtime']>['scale_out']): ScaleOutConfig | undefined | null {
  if (!raw || raw.enabled !== true) return undefined;
  const session = duration(file, ['runtime', 'scale_out', 'session_timeout'], raw.session_timeout, 45_000, 1000);
  const rebalance = duration(file, ['runtime', 'scale_out', 'rebalance_timeout'], raw.rebalance_timeout, 60_000, 6000);
  if (session === undefined || rebalance === undefined) return null;
  const member = raw.member ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  return { protocol: raw.protocol ?? 'auto', sessionTimeoutMs: session, rebalanceTimeoutMs: rebalance, member };
}

/**
 * `runtime.local_time_zone`: an IANA zone name, as Flink's `table.local-time-zone` takes one
 * (ZoneId.of); checked here, so a misspelt zone is a configuration error rather than a pipeline's.
 */
function localTimeZone(file: SourceFile, value: string | undefined): string | undefined {
  if (value === undefined) return 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return value;
  } catch {
    file.add(['runtime', 'local_time_zone'], `unknown time zone '${value}'`, { accepted: 'an IANA zone name such as UTC, Europe/Berlin or Asia/Kolkata' });
    return undefined;
  }
}

export function resolveRuntime(
  file: SourceFile,
  raw: RawTopicsFile['runtime'],
  overrides: ConfigOverrides,
  cores: number,
): RuntimeConfig | undefined {
  const r = raw ?? {};
  const interval = duration(file, ['runtime', 'checkpoint_interval'], r.checkpoint_interval, 60_000, 100);
  const discovery = discoveryInterval(file, r.partition_discovery_interval);
  const window = duration(file, ['runtime', 'restart', 'window'], r.restart?.window, 10 * 60_000);
  const initialBackoff = duration(file, ['runtime', 'restart', 'initial_backoff'], r.restart?.initial_backoff, 1000);
  const maxBackoff = duration(file, ['runtime', 'restart', 'max_backoff'], r.restart?.max_backoff, 60_000);
  const budget = size(file, ['runtime', 'memory_budget'], r.memory_budget, DEFAULT_MEMORY_BUDGET);
  const expireInterval = duration(file, ['runtime', 'maintenance', 'expire_interval'], r.maintenance?.expire_interval, 15 * 60_000, 1000);
  const compactInterval = duration(file, ['runtime', 'maintenance', 'compact_interval'], r.maintenance?.compact_interval, 60 * 60_000, 1000);
  const orphanInterval = duration(file, ['runtime', 'maintenance', 'orphan_interval'], r.maintenance?.orphan_interval, 86_400_000, 1000);
  const scaleOut = resolveScaleOut(file, r.scale_out);
  const orphanAge = duration(file, ['runtime', 'maintenance', 'orphan_min_age'], r.maintenance?.orphan_min_age, 3 * 86_400_000, 3_600_000);
  if (interval === undefined || discovery === undefined || window === undefined || initialBackoff === undefined || maxBackoff === undefined || budget === undefined)
    return undefined;
  if (expireInterval === undefined || compactInterval === undefined || orphanInterval === undefined || orphanAge === undefined || scaleOut === null) return undefined;
  const zone = localTimeZone(file, r.local_time_zone);
  if (zone === undefined) return undefined;
  // Unset compaction limits stay undefined: their defaults depend on the table (its target file size).
  const m = r.maintenance;
  const minBytes = m?.compact_min_bytes === undefined ? undefined : size(file, ['runtime', 'maintenance', 'compact_min_bytes'], m.compact_min_bytes, 0);
  const maxBytes = m?.compact_max_bytes === undefined ? undefined : size(file, ['runtime', 'maintenance', 'compact_max_bytes'], m.compact_max_bytes, 0);
  if ((m?.compact_min_bytes !== undefined && minBytes === undefined) || (m?.compact_max_bytes !== undefined && maxBytes === undefined)) return undefined;
  return {
    parallelism: overrides.parallelism ?? r.parallelism ?? cores,
    actorThreads: r.actor_threads ?? cores,
    batchRecords: r.batch_size ?? 4096,
    checkpointIntervalMs: overrides.checkpointIntervalMs ?? interval,
    partitionDiscoveryIntervalMs: discovery,
    checkpointMode: r.checkpoint_mode ?? 'EXACTLY_ONCE',
    metricsPort: overrides.metricsPort ?? r.metrics_port ?? 9464,
    memoryBudgetBytes: budget,
    localTimeZone: zone,
    maintenance: { enabled: r.maintenance?.enabled, expireIntervalMs: expireInterval, compactIntervalMs: compactInterval, compactMinFiles: r.maintenance?.compact_min_files ?? 5, compactMinBytes: minBytes, compactMaxBytes: maxBytes, compactMaxFiles: m?.compact_max_files, orphanIntervalMs: orphanInterval, orphanMinAgeMs: orphanAge },
    scaleOut,
    restart: {
      maxFailures: r.restart?.max_failures ?? 5,
      windowMs: window,
      initialBackoffMs: initialBackoff,
      maxBackoffMs: maxBackoff,
    },
  };
}

type Loose = Record<string, unknown>;
const asObject = (v: unknown): Loose | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Loose) : undefined);
const asString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Parses the SQL types of a schema list. Works on unvalidated data, so that a structural mistake
 * elsewhere in the same topic does not hide a bad type; entries that are not {name, type}
 * mappings were already reported by the structural check.
 */
function resolveFields(file: SourceFile, p: ConfigPath, raw: unknown): FieldConfig[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  const out: FieldConfig[] = [];
  const seen = new Map<string, number>();
  let ok = true;
  raw.forEach((entry: unknown, i) => {
    const name = asString(asObject(entry)?.name);
    const typeText = asString(asObject(entry)?.type);
    if (name === undefined || typeText === undefined) {
      ok = false;
      return;
    }
    const prev = seen.get(name);
    if (prev !== undefined) {
      file.add([...p, i, 'name'], `duplicate column (also at ${String(p.at(-1))}[${prev}])`, { accepted: 'unique column names' });
      ok = false;
    }
    seen.set(name, i);
    try {
      out.push({ name, type: parseSqlType(typeText), typeText });
    } catch (err) {
      const where = err instanceof SqlTypeParseError ? ` at character ${err.position + 1}: ${err.message}` : '';
      file.add([...p, i, 'type'], `not a Flink SQL type${where}`, { accepted: ACCEPTED_TYPES });
      ok = false;
    }
  });
  return ok ? out : undefined;
}

function resolvePartitions(file: SourceFile, p: ConfigPath, raw: unknown, schema: FieldConfig[] | undefined): PartitionFieldConfig[] | undefined {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) return undefined;
  const out: PartitionFieldConfig[] = [];
  let ok = true;
  raw.forEach((text: unknown, i) => {
    if (typeof text !== 'string') {
      ok = false;
      return;
    }
    const parsed = parsePartitionField(text);
    if (typeof parsed === 'string') {
      file.add([...p, i], parsed, { accepted: ACCEPTED_PARTITION });
      ok = false;
      return;
    }
    if (schema) {
      const column = schema.find((f) => f.name === parsed.source);
      if (!column) {
        file.add([...p, i], `column ${parsed.source} is not in sink.schema`, { accepted: schema.map((f) => f.name).join(', ') });
        ok = false;
        return;
      }
      const problem = partitionTypeProblem(parsed.transform, column.type);
      if (problem) {
        file.add([...p, i], `${problem} (${parsed.source} is ${column.typeText})`, { accepted: ACCEPTED_PARTITION });
        ok = false;
        return;
      }
    }
    out.push(parsed);
  });
  return ok ? out : undefined;
}

export function resolvePipelines(
  file: SourceFile,
  topics: unknown,
  transformations: Record<string, TransformationEntry> | undefined,
  catalog: CatalogConfig | undefined,
  warnings: string[] = [],
  configDir = '.',
): PipelineConfig[] | undefined {
  const entries = asObject(topics);
  /**
   * A name as written → as used. '-' and '.' become '_' as the PyFlink job's sanitize_table_name
   * did, which existing tables depend on; the change is said aloud, and a name that becomes
   * nothing but underscores is refused. Returns undefined when refused.
   */
  const sanitized = (p: ConfigPath, written: string): string | undefined => {
    const name = sanitizeTableName(written);
    if (isMeaninglessName(name)) {
      file.add(p, `${JSON.stringify(written)} becomes ${JSON.stringify(name)} after replacing '-' and '.' with '_', which names nothing`, { accepted: ACCEPTED_TABLE_NAME, showFound: false });
      return undefined;
    }
    if (name !== written) {
      const pos = file.positionOf(p);
      const where = pos.line === undefined ? file.displayName : `${file.displayName}:${pos.line}:${pos.column ?? 1}`;
      warnings.push(`${where}: ${formatPath(p)}: table ${JSON.stringify(written)} is written as ${JSON.stringify(name)} ('-' and '.' become '_', as the PyFlink job did)`);
    }
    return name;
  };
  if (!entries) return undefined;
  const out: PipelineConfig[] = [];
  const tables = new Map<string, string>();
  const groups = new Map<string, string>();
  let ok = true;
  for (const [topic, value] of Object.entries(entries)) {
    const base: ConfigPath = ['topics', topic];
    const loose = asObject(value);
    if (!loose) {
      ok = false;
      continue;
    }
    if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic)) {
      file.add(base, `${JSON.stringify(topic)} is not a valid Kafka topic name`, { accepted: "letters, digits, '.', '_' and '-', at most 249 characters", showFound: false });
      ok = false;
    }
    const sink = asObject(loose.sink);
    const sourceSchema = resolveFields(file, [...base, 'source_schema'], loose.source_schema);
    const sinkSchema = resolveFields(file, [...base, 'sink', 'schema'], sink?.schema);
    const partitionBy = resolvePartitions(file, [...base, 'sink', 'partition_by'], sink?.partition_by, sinkSchema);
    const enabled = loose.enabled !== false && loose.enabled !== 'false';

    const rawTableName = asString(sink?.table_name);
    const tableName = rawTableName === undefined ? undefined : sanitized([...base, 'sink', 'table_name'], rawTableName);
    if (rawTableName !== undefined && tableName === undefined) ok = false;
    if (tableName !== undefined) {
      const identifierOk = catalog?.type === 's3tables' ? S3TABLES_IDENTIFIER.test(tableName) : isIdentifier(tableName);
      if (!identifierOk) {
        file.add([...base, 'sink', 'table_name'], `${JSON.stringify(tableName)} (after replacing '-' and '.' with '_') is not a valid table name`, {
          accepted: catalog?.type === 's3tables' ? ACCEPTED_S3TABLES_IDENTIFIER : ACCEPTED_IDENTIFIER,
        });
        ok = false;
      }
      const other = tables.get(tableName);
      if (other !== undefined && enabled) {
        file.add([...base, 'sink', 'table_name'], `table ${tableName} is already the sink of topic ${other}`, { accepted: 'one topic per table' });
        ok = false;
      }
      if (enabled) tables.set(tableName, topic);
    }

    // One consumer group per pipeline: a group's members share its partitions, so two pipelines
    // in one group would each miss part of their topic.
    const groupId = asString(loose.kafka_group_id) ?? `streamberg-${topic}`;
    const sharing = groups.get(groupId);
    if (sharing !== undefined && enabled) {
      file.add([...base, 'kafka_group_id'], `consumer group ${groupId} is already used by topic ${sharing}`, { accepted: 'a group id of its own for each enabled topic' });
      ok = false;
    }
    if (enabled) groups.set(groupId, topic);

    const transformation = asString(loose.transformation);
    if (transformations && transformation !== undefined && !(transformation in transformations)) {
      const names = Object.keys(transformations);
      file.add([...base, 'transformation'], 'no such entry in transformations.yaml', {
        accepted: names.length > 0 ? `one of ${names.join(', ')}` : 'an entry defined in transformations.yaml',
      });
      ok = false;
    }

    const parsed = topicSchema.safeParse(value);
    if (!parsed.success) {
      ok = false; // reported by the structural check
      continue;
    }
    const raw = parsed.data;
    const scanMode = raw.scan_mode ?? 'group-offsets';
    if (scanMode === 'timestamp' && raw.scan_timestamp_ms === undefined) {
      file.add([...base, 'scan_timestamp_ms'], 'required when scan_mode is "timestamp"', { accepted: 'epoch milliseconds' });
      ok = false;
    }
    if (scanMode !== 'timestamp' && raw.scan_timestamp_ms !== undefined) {
      file.add([...base, 'scan_timestamp_ms'], `has no effect with scan_mode ${JSON.stringify(scanMode)}`, { accepted: 'scan_mode "timestamp"' });
      ok = false;
    }

    const dl = raw.dead_letter;
    if (dl && dl.table !== undefined && dl.topic !== undefined) {
      file.add([...base, 'dead_letter'], 'names both a table and a topic', { accepted: 'either table or topic', showFound: false });
      ok = false;
    }
    const dlqTable = dl?.table !== undefined ? sanitized([...base, 'dead_letter', 'table'], dl.table) ?? '' : deadLetterTableName(tableName ?? '');
    if (dl?.table !== undefined && dlqTable === '') ok = false;
    else if (dl?.table !== undefined && !isIdentifier(dlqTable)) {
      file.add([...base, 'dead_letter', 'table'], 'not a valid table name', { accepted: ACCEPTED_IDENTIFIER });
      ok = false;
    }

    let maxRecordBytes = DEFAULT_MAX_RECORD_BYTES;
    if (raw.max_record_bytes !== undefined) {
      const bytes = parseSize(raw.max_record_bytes);
      if (bytes === undefined || bytes < 1) {
        file.add([...base, 'max_record_bytes'], 'not a size', { accepted: ACCEPTED_SIZE });
        ok = false;
      } else maxRecordBytes = bytes;
    }

    const format = resolveFormat(file, base, raw, topic, sourceSchema, configDir);
    if (!sourceSchema || !sinkSchema || !partitionBy || tableName === undefined || format === undefined) {
      ok = false;
      continue;
    }
    out.push({
      topic,
      enabled,
      groupId: raw.kafka_group_id ?? `streamberg-${topic}`,
      scanMode,
      scanTimestampMs: raw.scan_timestamp_ms,
      ...format,
      sourceSchema,
      sink: {
        tableNameRaw: raw.sink.table_name,
        tableName,
        schema: sinkSchema,
        partitionBy,
        properties: { ...DEFAULT_TABLE_PROPERTIES, ...(raw.sink.properties ?? {}) },
      },
      transformation: raw.transformation,
      onError: raw.on_error ?? 'dlq',
      deadLetter: dl?.topic !== undefined ? { kind: 'topic', topic: dl.topic } : { kind: 'table', tableName: dlqTable },
      maxRecordBytes,
      isolationLevel: raw.isolation_level ?? 'read_committed',
    });
  }
  return ok ? out : undefined;
}

export type { AppConfig };
