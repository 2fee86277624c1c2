// The decoder of a pipeline's format: JSON, CSV, plain Avro or Confluent-framed Avro, each
// writing the same columns (one JS array per source_schema field), so the SQL and TypeScript
// transformers see the same values whatever the format.

import type { PipelineConfig } from '../../config/types.js';
import { confluentSchemaId, createAvroDecoder, createConfluentAvroDecoder } from './avro-decoder.js';
import { createCsvDecoder } from './csv-decoder.js';
import { createJsonDecoder, type DecodedBatch } from './json-decoder.js';
import type { RawBatch } from '../../kafka/raw-batch.js';
import { schemaCacheFor } from './schema-registry.js';

export interface RecordDecoder {
  decode(raw: RawBatch): DecodedBatch;
}

export function createDecoder(pipeline: PipelineConfig): RecordDecoder {
  const options = { maxRecordBytes: pipeline.maxRecordBytes };
  switch (pipeline.format) {
    case 'json':
      return createJsonDecoder(pipeline.sourceSchema, options);
    case 'csv':
      return createCsvDecoder(pipeline.sourceSchema, pipeline.csv, options);
    case 'avro':
      return createAvroDecoder(pipeline.sourceSchema, pipeline.avro, options);
    case 'avro-confluent':
      return createConfluentAvroDecoder(pipeline.sourceSchema, pipeline.avro!, options);
  }
}

/**
 * What must happen, asynchronously, before a batch can be decoded: for avro-confluent, fetching
 * the writer schemas of the ids it carries into this thread's cache. Null for formats that need
 * nothing. Throws SCHEMA_REGISTRY_UNAVAILABLE (retryable) when the registry cannot be reached.
 */
export function preparerFor(pipeline: PipelineConfig): ((raw: RawBatch) => Promise<void>) | null {
  if (pipeline.format !== 'avro-confluent') return null;
  const cache = schemaCacheFor(pipeline.avro!.registry!);
  return async (raw) => {
    const ids: number[] = [];
    for (let i = 0; i < raw.count; i++) {
      if (raw.valueNulls !== null && raw.valueNulls[i] === 1) continue;
      const id = confluentSchemaId(raw.values.subarray(raw.valueOffsets[i]!, raw.valueOffsets[i + 1]!));
      if (typeof id === 'number') ids.push(id);
    }
    await cache.ensure(ids);
  };
}
