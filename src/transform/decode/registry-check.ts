// `--check` for avro-confluent pipelines: is the schema registry reachable, and does the latest
// schema of the pipeline's subject resolve against source_schema? An unreachable registry is a
// warning (the pipeline would wait for it, not lose records); a latest schema that cannot resolve
// is an error, because every record written with it would become a dead letter.

import type { PipelineConfig } from '../../config/types.js';
import { isStreamError } from '../../errors.js';
import { planFor } from './avro-decoder.js';
import { fetchLatest } from './schema-registry.js';

export interface RegistryReport {
  notes: string[];
  warnings: string[];
  errors: string[];
}

export async function checkRegistries(pipelines: readonly PipelineConfig[]): Promise<RegistryReport> {
  const report: RegistryReport = { notes: [], warnings: [], errors: [] };
  for (const p of pipelines) {
    if (!p.enabled || p.format !== 'avro-confluent') continue;
    const registry = p.avro!.registry!;
    const where = `topic ${p.topic}: schema registry ${registry.url}`;
    let latest;
    try {
      latest = await fetchLatest(registry, registry.subject);
    } catch (e) {
      if (!isStreamError(e)) throw e;
      (e.code === 'SCHEMA_REGISTRY_REFUSED' ? report.errors : report.warnings).push(`${where}: not reachable: ${e.message}`);
      continue;
    }
    if (latest === null) {
      report.warnings.push(`${where}: reachable, but subject ${registry.subject} has no schema yet`);
      continue;
    }
    let schema: unknown;
    try {
      schema = JSON.parse(latest.schema);
    } catch {
      schema = latest.schema;
    }
    const plan = planFor(p.sourceSchema, schema);
    if (typeof plan === 'string') report.errors.push(`${where}: subject ${registry.subject} version ${latest.version} (schema id ${latest.id}): ${plan}`);
    else report.notes.push(`${where}: subject ${registry.subject} version ${latest.version} (schema id ${latest.id}) resolves against source_schema`);
  }
  return report;
}
