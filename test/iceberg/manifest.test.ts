import { describe, expect, it } from 'vitest';
import { decodeAvro } from '../../src/iceberg/avro.js';
import { decodeManifestList, encodeManifest, encodeManifestList, type ManifestFile } from '../../src/iceberg/manifest.js';
import { buildPartitionSpec } from '../../src/iceberg/partition.js';
import { buildSchema } from '../../src/iceberg/schema.js';
import { fields } from '../helpers/iceberg-fixtures.js';

describe('manifest list', () => {
  it('round-trips entries with 63-bit ids and keeps field ids in the header schema', async () => {
    const entry: ManifestFile = {
      manifest_path: 'file:///m.avro', manifest_length: 123n, partition_spec_id: 0, content: 0, sequence_number: 4n, min_sequence_number: 3n,
      added_snapshot_id: 9_000_000_000_000_000_001n, added_files_count: 2, existing_files_count: 0, deleted_files_count: 0,
      added_rows_count: 10n, existing_rows_count: 0n, deleted_rows_count: 0n,
      partitions: [{ contains_null: true, contains_nan: false, lower_bound: Buffer.from([1, 0, 0, 0]), upper_bound: Buffer.from([9, 0, 0, 0]) }],
      key_metadata: null,
    };
    const bytes = await encodeManifestList([entry], { snapshotId: 9_000_000_000_000_000_001n, parentSnapshotId: null, sequenceNumber: 4n });
    const header = Buffer.from(bytes).toString('latin1');
    expect(header).toContain('"field-id":500');
    expect(header).toContain('"element-id":508');
    expect(header).toContain('9000000000000000001');
    const [back] = await decodeManifestList(bytes);
    expect(back).toEqual(entry);
  });
});

describe('manifest', () => {
  it('writes data files with the partition struct and map key/value ids', async () => {
    const { schema } = buildSchema(fields({ ts: 'TIMESTAMP(3)', id: 'BIGINT' }));
    const spec = buildPartitionSpec(schema, [{ source: 'ts', transform: { kind: 'day' }, text: 'day(ts)' }]);
    const bytes = await encodeManifest(schema, spec, 42n, [
      {
        content: 'data', filePath: 'file:///d.parquet', fileFormat: 'PARQUET', specId: 0, partition: [19000], recordCount: 5, fileSizeInBytes: 100,
        columnSizes: { 1: 10 }, valueCounts: { 1: 5, 2: 5 }, nullValueCounts: { 1: 0, 2: 1 }, nanValueCounts: {},
        lowerBounds: { 2: Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0]) }, upperBounds: { 2: Uint8Array.from([5, 0, 0, 0, 0, 0, 0, 0]) }, splitOffsets: [4],
      },
    ]);
    const header = Buffer.from(bytes).toString('latin1');
    for (const s of ['"field-id":117', '"field-id":126', '"field-id":1000', '"logicalType":"date"', 'partition-spec', 'format-version']) {
      expect(header, s).toContain(s);
    }
    const [rec] = await decodeAvro(bytes);
    const df = rec!.record['data_file'] as Record<string, unknown>;
    expect(rec!.record['status']).toBe(1);
    expect(rec!.record['snapshot_id']).toBe(42n);
    expect(df['partition']).toEqual({ ts_day: 19000 });
    expect(df['record_count']).toBe(5n);
    expect(df['null_value_counts']).toEqual([{ key: 1, value: 0n }, { key: 2, value: 1n }]);
  });
});
