import { describe, expect, it } from 'vitest';
import { latestSnapshotWithSummaryKey } from '../../src/iceberg/commit.js';
import { newTableMetadata, nextMetadataLocation, parseJsonBig, parseTableMetadata, serializeTableMetadata } from '../../src/iceberg/metadata.js';
import { buildSchema } from '../../src/iceberg/schema.js';
import { fields } from '../helpers/iceberg-fixtures.js';

describe('JSON with 63-bit integers', () => {
  it('keeps integers beyond 2^53 exact, leaves strings and small numbers alone', () => {
    const text = '{"a": 9223372036854775807, "b": -4611686018427387904, "c": 12, "d": "9223372036854775807", "e": [1.5e300, "x\\"1234567890123456789"]}';
    expect(parseJsonBig(text)).toEqual({ a: 9223372036854775807n, b: -4611686018427387904n, c: 12, d: '9223372036854775807', e: [1.5e300, 'x"1234567890123456789'] });
  });

  it('round-trips table metadata with big snapshot ids', () => {
    const { schema, lastColumnId } = buildSchema(fields({ id: 'BIGINT' }));
    const m = newTableMetadata({ location: 'file:///w/t/', schema, lastColumnId, spec: { 'spec-id': 0, fields: [] }, properties: { k: 'v' } });
    expect(m.location).toBe('file:///w/t');
    expect(m.properties).toEqual({
      'write.format.default': 'parquet',
      'write.parquet.compression-codec': 'snappy',
      'write.metadata.delete-after-commit.enabled': 'true',
      'write.metadata.previous-versions-max': '20',
      k: 'v',
    });
    const big = 8_000_000_000_000_000_123n;
    m.snapshots.push({ 'snapshot-id': big, 'sequence-number': 1, 'timestamp-ms': 1, 'manifest-list': 'x', summary: { operation: 'append', 'kafka.offsets.g': '{"t":{"0":5}}' } });
    m.snapshots.push({ 'snapshot-id': 7n, 'parent-snapshot-id': big, 'sequence-number': 2, 'timestamp-ms': 2, 'manifest-list': 'y', summary: { operation: 'replace' } });
    m.refs['main'] = { 'snapshot-id': 7n, type: 'branch' };
    m['current-snapshot-id'] = 7n;
    const text = serializeTableMetadata(m);
    expect(text).toContain('"snapshot-id": 8000000000000000123');
    const back = parseTableMetadata(text, 'mem');
    expect(back.snapshots[0]!['snapshot-id']).toBe(big);
    expect(back.snapshots[1]!['parent-snapshot-id']).toBe(big);
    expect(back.snapshots[1]!['snapshot-id']).toBe(7n);
    expect(latestSnapshotWithSummaryKey(back, 'kafka.offsets.g')?.['snapshot-id']).toBe(big);
  });

  it('numbers metadata files after the previous one', () => {
    const { schema, lastColumnId } = buildSchema(fields({ id: 'BIGINT' }));
    const m = newTableMetadata({ location: 'file:///w/t', schema, lastColumnId, spec: { 'spec-id': 0, fields: [] }, properties: {} });
    expect(nextMetadataLocation(m, undefined)).toMatch(/^file:\/\/\/w\/t\/metadata\/00000-[0-9a-f-]{36}\.metadata\.json$/);
    expect(nextMetadataLocation(m, 'file:///w/t/metadata/00041-abc.metadata.json')).toMatch(/\/00042-[0-9a-f-]{36}\.metadata\.json$/);
  });

  it('rejects metadata that is not format v2', () => {
    expect(() => parseTableMetadata('{"format-version": 1}', 'x')).toThrow(/format-version 1/);
    expect(() => parseTableMetadata('nope', 'x')).toThrow(/not JSON/);
  });
});
