import { describe, expect, it } from 'vitest';
import { parseSqlType } from '../../src/schema/sql-types.js';
import { SAMPLE_EPOCH_MS, sampleRecord } from '../../src/tools/sample-events.js';

const schema = [
  ['event_name', 'STRING'],
  ['user_id', 'BIGINT'],
  ['city_id', 'INT'],
  ['platform', 'STRING'],
  ['session_id', 'STRING'],
  ['timestamp_ms', 'BIGINT'],
].map(([name, type]) => ({ name: name!, type: parseSqlType(type!), typeText: type! }));

describe('sample events', () => {
  it('are a pure function of (seed, index)', () => {
    const a = Array.from({ length: 50 }, (_, i) => sampleRecord(schema, i, { seed: 7, malformedRatio: 0.3 }));
    const b = Array.from({ length: 50 }, (_, i) => sampleRecord(schema, i, { seed: 7, malformedRatio: 0.3 }));
    expect(b).toEqual(a);
    const other = Array.from({ length: 50 }, (_, i) => sampleRecord(schema, i, { seed: 8, malformedRatio: 0.3 }));
    expect(other.map((r) => r.value)).not.toEqual(a.map((r) => r.value));
  });

  it('match the source schema when valid', () => {
    const r = sampleRecord(schema, 3, { seed: 1, malformedRatio: 0 });
    expect(r.kind).toBe('valid');
    const parsed = JSON.parse(r.value) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(schema.map((f) => f.name));
    expect(parsed.timestamp_ms).toBe(SAMPLE_EPOCH_MS + 3 * 37);
    expect(['bid_placed', 'bid_won', 'bid_lost', 'auction_view', 'bid_retracted']).toContain(parsed.event_name);
    expect(Number.isInteger(parsed.user_id)).toBe(true);
    expect(r.key).toBe(String(parsed.user_id));
  });

  it('are malformed in roughly the asked proportion, of each kind, and really malformed', () => {
    const records = Array.from({ length: 4000 }, (_, i) => sampleRecord(schema, i, { seed: 42, malformedRatio: 0.1 }));
    const kinds = new Map<string, number>();
    for (const r of records) kinds.set(r.kind, (kinds.get(r.kind) ?? 0) + 1);
    const malformed = 4000 - (kinds.get('valid') ?? 0);
    expect(malformed).toBeGreaterThan(300);
    expect(malformed).toBeLessThan(500);
    for (const r of records) {
      if (r.kind === 'bad-json') expect(() => JSON.parse(r.value)).toThrow();
      if (r.kind === 'wrong-type') expect(typeof (JSON.parse(r.value) as Record<string, unknown>).user_id).toBe('string');
      if (r.kind === 'missing-field') expect(Object.keys(JSON.parse(r.value) as object).length).toBe(schema.length - 1);
    }
    expect([...kinds.keys()].sort()).toEqual(['bad-json', 'missing-field', 'valid', 'wrong-type']);
  });
});
