// The PyFlink job's three transformers, loaded through the registry from transformations/, on batches
// whose expected rows are worked out by hand in the comments.
import { describe, expect, it } from 'vitest';
import { buildTransform } from '../../src/transform/batch-transform.js';
import { packRawBatch } from '../../src/kafka/raw-batch.js';
import { entry, pipeline, rowsOf, us } from './helpers.js';

const BID_SOURCE = { event_name: 'STRING', user_id: 'BIGINT', city_id: 'BIGINT', platform: 'STRING', session_id: 'STRING', timestamp_ms: 'BIGINT' };
const BID_SINK = { event_name: 'STRING', user_id: 'BIGINT', city_id: 'BIGINT', platform: 'STRING', session_id: 'STRING', event_time: 'TIMESTAMP(3)', ingestion_time: 'TIMESTAMP(3)' };
// 2026-01-01 00:00:00 UTC, the batch time CURRENT_TIMESTAMP takes.
const NOW_MS = 1767225600000;

function batch(topic: string, values: string[]) {
  return packRawBatch(topic, 0, values.map((value, k) => ({ offset: 500 + k, timestamp: NOW_MS, key: `k${k}`, value })));
}

describe('bid_events_raw', () => {
  const config = pipeline({ topic: 'bid-events', source: BID_SOURCE, sink: BID_SINK, sinkTable: 'parsed_events', transformation: 'bid_events_raw' });
  const spec = { pipeline: config, entry: entry('bid_events_raw', 'BidEventsRawTransformer', 'transformations.bid_events_raw') };

  it('passes fields through and converts timestamp_ms (UTC session)', async () => {
    const t = await buildTransform(spec);
    expect(t.kind).toBe('sql');
    const out = t.run(batch('bid-events', [
      '{"event_name":"bid","user_id":42,"city_id":7,"platform":"ios","session_id":"s1","timestamp_ms":1706975400000}',
      '{"event_name":"view"}',
      '{"event_name":"click","user_id":"43","timestamp_ms":"1706975400123","extra":true}',
      '{"event_name":',
      '{"user_id":"abc"}',
    ]), NOW_MS);
    // 1706975400 s = 19756 days (2024-02-03) + 57000 s (15:50:00).
    expect(rowsOf(out.rows)).toEqual([
      { event_name: 'bid', user_id: 42n, city_id: 7n, platform: 'ios', session_id: 's1', event_time: us('2024-02-03T15:50:00'), ingestion_time: us('2026-01-01T00:00:00') },
      { event_name: 'view', user_id: null, city_id: null, platform: null, session_id: null, event_time: null, ingestion_time: us('2026-01-01T00:00:00') },
      { event_name: 'click', user_id: 43n, city_id: null, platform: null, session_id: null, event_time: us('2024-02-03T15:50:00.123'), ingestion_time: us('2026-01-01T00:00:00') },
    ]);
    expect(out.rows.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual([
      'event_name:Utf8', 'user_id:Int64', 'city_id:Int64', 'platform:Utf8', 'session_id:Utf8',
      'event_time:Timestamp<MICROSECOND>', 'ingestion_time:Timestamp<MICROSECOND>',
    ]);
    expect(out.stats).toEqual({ records: 5, rows: 3, filtered: 0, tombstones: 0, deadLetters: { RECORD_DECODE_FAILED: 2, RECORD_TOO_LARGE: 0, EXPRESSION_FAILED: 0 }, newestTimestampMs: NOW_MS });
    const dl = rowsOf(out.deadLetters!);
    expect(dl.map((d) => d.source_offset)).toEqual([503n, 504n]);
    expect(new TextDecoder().decode(dl[0]!.record_value as Uint8Array)).toBe('{"event_name":');
    expect(new TextDecoder().decode(dl[1]!.record_key as Uint8Array)).toBe('k4');
    expect(dl[1]!.error_message).toBe('field user_id: "abc" cannot be read as BIGINT');
    expect(new TextDecoder().decode(dl[1]!.record_value as Uint8Array)).toBe('{"user_id":"abc"}');
    expect(dl.map((d) => d.error_code)).toEqual(['RECORD_DECODE_FAILED', 'RECORD_DECODE_FAILED']);
  });

  it('converts the instant to the wall clock of a non-UTC session time zone', async () => {
    const t = await buildTransform({ ...spec, sessionTimeZone: 'Asia/Kolkata' });
    const out = t.run(batch('bid-events', ['{"timestamp_ms":1706975400000}']), NOW_MS);
    // +05:30: 15:50 → 21:20 the same day; 00:00 → 05:30.
    expect(rowsOf(out.rows)[0]!.event_time).toBe(us('2024-02-03T21:20:00'));
    expect(rowsOf(out.rows)[0]!.ingestion_time).toBe(us('2026-01-01T05:30:00'));
  });
});

describe('user_events_enriched', () => {
  const config = pipeline({
    topic: 'user-events',
    source: { event_type: 'STRING', user_id: 'BIGINT', page_url: 'STRING', device_type: 'STRING', session_id: 'STRING', timestamp_ms: 'BIGINT' },
    sink: { event_type: 'STRING', user_id: 'BIGINT', page_url: 'STRING', device_type: 'STRING', session_id: 'STRING', is_mobile: 'BOOLEAN', event_time: 'TIMESTAMP(3)', ingestion_time: 'TIMESTAMP(3)' },
    sinkTable: 'user_events_enriched',
  });

  it('derives is_mobile with LOWER … IN, NULL device type falling to ELSE FALSE', async () => {
    const t = await buildTransform({ pipeline: config, entry: entry('user_events_enriched', 'UserEventsEnrichedTransformer', 'transformations.user_events_enriched') });
    const out = t.run(batch('user-events', [
      '{"event_type":"page_view","user_id":1,"page_url":"/a","device_type":"iOS","session_id":"x","timestamp_ms":0}',
      '{"event_type":"page_view","user_id":2,"device_type":"Desktop","timestamp_ms":86400001}',
      '{"event_type":"tap","device_type":"MOBILE"}',
      '{"event_type":"tap"}',
      '{"device_type":"android "}',
    ]), NOW_MS);
    const rows = rowsOf(out.rows);
    // LOWER('iOS') = 'ios' ∈ list → TRUE; 'desktop' ∉ → FALSE; 'mobile' → TRUE;
    // LOWER(NULL) IN (…) is NULL, not TRUE → ELSE FALSE; 'android ' (trailing blank) ∉ → FALSE.
    expect(rows.map((r) => r.is_mobile)).toEqual([true, false, true, false, false]);
    expect(rows.map((r) => r.event_time)).toEqual([0n, 86400001000n, null, null, null]);
    expect(rows[0]).toMatchObject({ event_type: 'page_view', user_id: 1n, page_url: '/a', device_type: 'iOS', session_id: 'x' });
    expect(out.deadLetters).toBeNull();
  });
});

describe("new_transformation (the PyFlink job's filter example)", () => {
  const config = pipeline({
    topic: 'new-topic',
    source: { field1: 'STRING', field2: 'BIGINT' },
    sink: { field1: 'STRING', processed_time: 'TIMESTAMP(3)' },
    sinkTable: 'new_table',
  });

  it('keeps only records with field2 > 100; NULL field2 is filtered out', async () => {
    const t = await buildTransform({ pipeline: config, entry: entry('new_transformation', 'NewTransformer', 'transformations.new_transformation') });
    const out = t.run(batch('new-topic', [
      '{"field1":"a","field2":100}',
      '{"field1":"b","field2":101}',
      '{"field1":"c"}',
      '{"field1":"d","field2":5000000000}',
      '{"field1":"e","field2":-1}',
    ]), NOW_MS);
    expect(rowsOf(out.rows)).toEqual([
      { field1: 'b', processed_time: us('2026-01-01T00:00:00') },
      { field1: 'd', processed_time: us('2026-01-01T00:00:00') },
    ]);
    expect(out.stats.filtered).toBe(3);
    expect(out.stats.rows).toBe(2);
  });
});
