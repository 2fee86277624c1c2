// The human-readable account of a resolved configuration that `--check` prints.

import { formatSqlType } from '../schema/sql-types.js';
import type { AppConfig, CatalogConfig, FieldConfig, PipelineConfig, RestAuthConfig } from './types.js';
import { formatDuration } from './units.js';

function restAuth(a: RestAuthConfig): string {
  switch (a.kind) {
    case 'none':
      return 'none';
    case 'bearer':
      return 'bearer token';
    case 'oauth2':
      return `OAuth2 client credentials${a.serverUri ? ` via ${a.serverUri}` : ''}, scope ${a.scope}`;
    case 'sigv4':
      return `AWS SigV4 (${a.signingName}, ${a.region ?? 'region from AWS_REGION'})`;
  }
}

function describeCatalog(c: CatalogConfig): string {
  switch (c.type) {
    case 'sql':
      return `sql "${c.name}" (${c.uri}), warehouse ${c.warehouse}, namespace ${c.namespace}`;
    case 's3tables':
      return `s3tables "${c.name}" (${c.warehouse}, ${c.region}${c.endpoint ? `, endpoint ${c.endpoint}` : ''}), namespace ${c.namespace}`;
    case 'rest':
      // The authentication's kind only: tokens and secrets are never printed.
      return `rest "${c.name}" (${c.uri}${c.prefix ? `, prefix ${c.prefix}` : ''}${c.warehouse ? `, warehouse ${c.warehouse}` : ''}, auth ${restAuth(c.auth)}), namespace ${c.namespace}`;
  }
}

function columns(fields: FieldConfig[]): string[] {
  const width = Math.max(...fields.map((f) => f.name.length));
  return fields.map((f) => `      ${f.name.padEnd(width)}  ${formatSqlType(f.type)}`);
}

function transformationSource(t: AppConfig['transformations'][string]): string {
  if (t.sql !== undefined) return `SQL from ${t.sqlOrigin ? `${t.sqlOrigin.file}:${t.sqlOrigin.line}` : 'transformations.yaml'}`;
  return `${t.className} from ${t.module !== '' ? t.module : t.modulePath}`;
}

function describePipeline(p: PipelineConfig, config: AppConfig): string[] {
  const t = config.transformations[p.transformation];
  const table = `${config.catalog.namespace}.${p.sink.tableName}`;
  const lines = [
    `  ${p.topic} → ${p.transformation} → ${table}${p.enabled ? '' : '   (disabled)'}`,
    `    group ${p.groupId}, scan ${p.scanMode}${p.scanTimestampMs !== undefined ? ` from ${new Date(p.scanTimestampMs).toISOString()}` : ''}, format ${p.format}`,
    `    transformation: ${t ? `${transformationSource(t)} — ${t.description}` : '(unknown)'}`,
    `    source schema:`,
    ...columns(p.sourceSchema),
    `    sink schema${p.sink.tableName !== p.sink.tableNameRaw ? ` (table_name ${p.sink.tableNameRaw} sanitized)` : ''}:`,
    ...columns(p.sink.schema),
  ];
  if (p.sink.partitionBy.length > 0) lines.push(`    partitioned by: ${p.sink.partitionBy.map((f) => f.text).join(', ')}`);
  const dl = p.deadLetter.kind === 'table' ? `table ${config.catalog.namespace}.${p.deadLetter.tableName}` : `topic ${p.deadLetter.topic}`;
  lines.push(`    on error: ${p.onError}${p.onError === 'dlq' ? ` → ${dl}` : ''}; records over ${p.maxRecordBytes} bytes are rejected`);
  return lines;
}

export function describeConfig(config: AppConfig): string {
  const r = config.runtime;
  const k = config.kafka;
  const enabled = config.pipelines.filter((p) => p.enabled).length;
  return [
    `Configuration ${config.configDir}: OK`,
    `  kafka: ${k.bootstrapServers.join(',')} (${k.security.protocol}${k.security.saslMechanism ? `, ${k.security.saslMechanism}` : ''})`,
    `  catalog: ${describeCatalog(config.catalog)}`,
    `  runtime: parallelism ${r.parallelism}, checkpoint every ${formatDuration(r.checkpointIntervalMs)} (${r.checkpointMode}), metrics on :${r.metricsPort}`,
    ...(r.scaleOut
      ? [`  scale-out: member ${r.scaleOut.member}, ${r.scaleOut.protocol} group protocol, session ${formatDuration(r.scaleOut.sessionTimeoutMs)}, rebalance ${formatDuration(r.scaleOut.rebalanceTimeoutMs)}; each topic's partitions shared through its kafka_group_id`]
      : []),
    '',
    `Pipelines (${enabled} enabled of ${config.pipelines.length}):`,
    ...config.pipelines.flatMap((p) => [...describePipeline(p, config), '']),
  ].join('\n');
}
