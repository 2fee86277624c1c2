import { describe, expect, it } from 'vitest';
import { deadLetterTableName } from '../../src/config/names.js';
import { buildDeadLetterBatch, DEAD_LETTER_SCHEMA } from '../../src/transform/dead-letter.js';
import { packRawBatch } from '../../src/kafka/raw-batch.js';
import { DataFileWriter } from '../../src/iceberg/data-file-writer.js';
import { buildSchema } from '../../src/iceberg/schema.js';
import { DEAD_LETTER_COLUMNS } from '../../src/schema/dead-letter-columns.js';

describe('dead-letter batch', () => {
  it('carries source position, key and the original value bytes, ordered by offset', () => {
    const value = new Uint8Array([0x7b, 0xff, 0x00, 0x7d]);
    const raw = packRawBatch('bid-events', 4, [
      { offset: 10n, timestamp: 1000, key: 'k0', value: '{}' },
      { offset: 11n, timestamp: -1, key: null, value },
      { offset: 12n, timestamp: 2000, key: new Uint8Array([1, 2]), value: 'not json' },
    ]);
    const batch = buildDeadLetterBatch(raw, [
      { index: 2, code: 'RECORD_DECODE_FAILED', message: 'invalid JSON' },
      { index: 1, code: 'RECORD_TOO_LARGE', message: 'too big' },
    ], 5000);
    expect(batch.schema.fields.map((f) => String(f.type))).toEqual(DEAD_LETTER_SCHEMA.fields.map((f) => String(f.type)));
    expect(batch.numRows).toBe(2);
    const rows = batch.toArray().map((r) => r.toJSON());
    expect(rows[0]!.source_topic).toBe('bid-events');
    expect(rows[0]!.source_partition).toBe(4);
    expect(rows[0]!.source_offset).toBe(11n);
    expect(rows[0]!.source_timestamp).toBeNull();
    expect(rows[0]!.record_key).toBeNull();
    expect([...(rows[0]!.record_value as Uint8Array)]).toEqual([0x7b, 0xff, 0x00, 0x7d]);
    expect(rows[0]!.error_code).toBe('RECORD_TOO_LARGE');
    expect(rows[1]!.source_offset).toBe(12n);
    expect(new TextDecoder().decode(rows[1]!.record_value as Uint8Array)).toBe('not json');
    expect([...(rows[1]!.record_key as Uint8Array)]).toEqual([1, 2]);
    expect(rows[1]!.error_message).toBe('invalid JSON');
    expect(batch.getChild('source_timestamp')!.data[0]!.values[1]).toBe(2_000_000n);
    expect(batch.getChild('failed_at')!.data[0]!.values[0]).toBe(5_000_000n);
  });

  it('leaves out a Kafka timestamp past year 9999, which the dead-letter table could not hold', async () => {
    const raw = packRawBatch('t', 0, [{ offset: 1n, timestamp: 8773779340800000, key: null, value: '{}' }, { offset: 2n, timestamp: 253402300799000, key: null, value: '{}' }]);
    const batch = buildDeadLetterBatch(raw, [{ index: 0, code: 'RECORD_DECODE_FAILED', message: 'x' }, { index: 1, code: 'RECORD_DECODE_FAILED', message: 'y' }], 5000);
    const ts = batch.getChild('source_timestamp')!;
    expect(ts.isValid(0)).toBe(false);
    expect(ts.data[0]!.values[1]).toBe(253402300799000000n);
    const { schema } = buildSchema(DEAD_LETTER_COLUMNS);
    const writer = new DataFileWriter({ location: 'memory:///dlq', schema, spec: { 'spec-id': 0, fields: [] }, properties: {}, inputSchema: DEAD_LETTER_SCHEMA, io: { write: async () => {}, read: async () => new Uint8Array(), delete: async () => {}, list: async () => [] } });
    await writer.write(batch);
    expect((await writer.close()).map((f) => f.recordCount)).toEqual([2]);
  });

  it('names the table <sink>_dlq', () => {
    expect(deadLetterTableName('parsed_events')).toBe('parsed_events_dlq');
    expect(DEAD_LETTER_SCHEMA.fields.map((f) => f.name)).toEqual([
      'source_topic', 'source_partition', 'source_offset', 'source_timestamp', 'record_key', 'record_value', 'error_code', 'error_message', 'failed_at',
    ]);
  });
});
