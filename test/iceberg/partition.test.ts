import { describe, expect, it } from 'vitest';
import { applyTransform, bucket, buildPartitionSpec, murmur3x86_32, partitionPath, resultType, truncate } from '../../src/iceberg/partition.js';
import { buildSchema } from '../../src/iceberg/schema.js';
import { days, fields, micros } from '../helpers/iceberg-fixtures.js';

const enc = new TextEncoder();

// Hash vectors from the Iceberg table spec, Appendix B ("32-bit Hash Requirements").
describe('bucket hash (spec Appendix B vectors)', () => {
  it('hashes ints and longs as 8-byte little-endian longs', () => {
    expect(murmur3x86_32(Uint8Array.from([34, 0, 0, 0, 0, 0, 0, 0]))).toBe(2017239379);
    expect(bucket('int', 34, 1 << 30)).toBe(2017239379 % (1 << 30));
    expect(bucket('long', 34n, 1 << 30)).toBe(2017239379 % (1 << 30));
  });
  it('matches the decimal, date, time and timestamp vectors', () => {
    const hash = (type: string, v: bigint | number): number => {
      // bucket(N) with N = 2^31 - 1 leaves the masked hash; compare masked values.
      return bucket(type, v, 0x7fffffff);
    };
    const masked = (h: number): number => (h & 0x7fffffff) % 0x7fffffff;
    expect(hash('decimal(4, 2)', 1420n)).toBe(masked(-500754589));
    expect(hash('date', days('2017-11-16'))).toBe(masked(-653330422));
    expect(hash('time', ((22n * 60n + 31n) * 60n + 8n) * 1_000_000n)).toBe(masked(-662762989));
    expect(hash('timestamp', micros('2017-11-16T22:31:08Z'))).toBe(masked(-2047944441));
    expect(hash('timestamptz', micros('2017-11-16T22:31:08Z'))).toBe(masked(-2047944441));
  });
  it('matches the string and binary vectors', () => {
    expect(murmur3x86_32(enc.encode('iceberg'))).toBe(1210000089);
    expect(murmur3x86_32(Uint8Array.from([0, 1, 2, 3]))).toBe(-188683207);
    expect(bucket('string', 'iceberg', 16)).toBe(1210000089 % 16);
  });
  it('is the same for every tail length', () => {
    // Vectors from the mmh3 package (the hash pyiceberg buckets with), seed 0, 1..3 tail bytes.
    expect(murmur3x86_32(enc.encode('a'))).toBe(1009084850);
    expect(murmur3x86_32(enc.encode('ab'))).toBe(-1681926305);
    expect(murmur3x86_32(enc.encode('abc'))).toBe(-1277324294);
    expect(murmur3x86_32(enc.encode('abcde'))).toBe(-392455434);
  });
});

describe('truncate (spec examples)', () => {
  it('truncates ints, longs and decimals towards negative infinity', () => {
    expect(truncate('int', 1, 10)).toBe(0);
    expect(truncate('int', -1, 10)).toBe(-10);
    expect(truncate('long', 1n, 10)).toBe(0n);
    expect(truncate('long', -1n, 10)).toBe(-10n);
    expect(truncate('decimal(9, 2)', 1065n, 50)).toBe(1050n);
  });
  it('truncates strings by code points and binary by bytes', () => {
    expect(truncate('string', 'iceberg', 3)).toBe('ice');
    expect(truncate('string', '😀😁😂x', 2)).toBe('😀😁');
    expect(truncate('binary', Uint8Array.from([1, 2, 3, 4]), 3)).toEqual(Uint8Array.from([1, 2, 3]));
  });
});

describe('time transforms', () => {
  it('computes years, months, days and hours since the epoch, flooring before 1970', () => {
    const ts = micros('2017-11-16T22:31:08Z');
    expect(applyTransform('year', 'timestamp', ts)).toBe(47);
    expect(applyTransform('month', 'timestamp', ts)).toBe(47 * 12 + 10);
    expect(applyTransform('day', 'timestamp', ts)).toBe(days('2017-11-16'));
    expect(applyTransform('hour', 'timestamptz', ts)).toBe(Math.floor(Date.parse('2017-11-16T22:00:00Z') / 3_600_000));
    expect(applyTransform('day', 'timestamp', micros('1969-12-31T23:59:59.999Z'))).toBe(-1);
    expect(applyTransform('hour', 'timestamp', -1n)).toBe(-1);
    expect(applyTransform('month', 'date', days('1969-12-15'))).toBe(-1);
    expect(applyTransform('year', 'date', days('1969-12-15'))).toBe(-1);
  });
  it('never throws on a timestamp or date far from 1970: years 0000 and 9999, year 280000, the int64 extremes', () => {
    // A JavaScript Date ends at year 275760; these used to throw RangeError ("Invalid time value").
    const last9999 = 253402300799999999n;
    expect([applyTransform('year', 'timestamp', last9999), applyTransform('month', 'timestamp', last9999), applyTransform('day', 'timestamp', last9999), applyTransform('hour', 'timestamp', last9999)]).toEqual([8029, 96359, 2932896, 70389527]);
    const first0000 = -62167219200000000n;
    expect([applyTransform('year', 'timestamptz', first0000), applyTransform('month', 'timestamptz', first0000), applyTransform('day', 'timestamptz', first0000), applyTransform('hour', 'timestamptz', first0000)]).toEqual([-1970, -23640, -719528, -17268672]);
    const year280000 = 8773779340800000000n;
    expect([applyTransform('year', 'timestamp', year280000), applyTransform('month', 'timestamp', year280000), applyTransform('day', 'timestamp', year280000)]).toEqual([278030, 3336360, 101548372]);
    // 294247-01-10T04:00:54.775807 and -290308-12-21T19:59:05.224192, the ends of an int64 of micros.
    expect(applyTransform('year', 'timestamp', 9223372036854775807n)).toBe(294247 - 1970);
    expect(applyTransform('month', 'timestamp', 9223372036854775807n)).toBe((294247 - 1970) * 12);
    expect(applyTransform('year', 'timestamp', -9223372036854775808n)).toBe(-290308 - 1970);
    expect(applyTransform('month', 'timestamp', -9223372036854775808n)).toBe((-290308 - 1970) * 12 + 11);
    expect(applyTransform('year', 'date', 2147483647)).toBe(5881580 - 1970); // +5881580-07-11, as java.time's LocalDate.ofEpochDay gives it
    expect(applyTransform('month', 'date', -2147483648)).toBe((-5877641 - 1970) * 12 + 5);
  });
  it('lays out partition directories of any year without Date', () => {
    const spec = { 'spec-id': 0, fields: [{ 'source-id': 1, 'field-id': 1000, name: 'ts_day', transform: 'day' }, { 'source-id': 1, 'field-id': 1001, name: 'ts_hour', transform: 'hour' }] };
    expect(partitionPath(spec, [101548372, 2437160928])).toBe('ts_day=280000-01-01/ts_hour=280000-01-01-00');
    expect(partitionPath(spec, [-719528, -17268649])).toBe('ts_day=0000-01-01/ts_hour=0000-01-01-23');
    expect(partitionPath(spec, [-719529, -17268673])).toBe('ts_day=-0001-12-31/ts_hour=-0001-12-31-23');
  });
  it('rejects transforms that do not apply to the source type', () => {
    expect(() => resultType('hour', 'date')).toThrow(/does not apply/);
    expect(() => resultType('day', 'string')).toThrow(/does not apply/);
    expect(resultType('day', 'timestamp')).toBe('date');
    expect(resultType('bucket[16]', 'string')).toBe('int');
  });
});

describe('partition spec', () => {
  it('takes source ids from the schema and names fields as Iceberg does', () => {
    const { schema } = buildSchema(fields({ event_time: 'TIMESTAMP(3)', user_id: 'BIGINT', platform: 'STRING', session_id: 'STRING' }));
    const spec = buildPartitionSpec(schema, [
      { source: 'event_time', transform: { kind: 'day' }, text: 'day(event_time)' },
      { source: 'user_id', transform: { kind: 'bucket', n: 16 }, text: 'bucket(16, user_id)' },
      { source: 'platform', transform: { kind: 'identity' }, text: 'platform' },
      { source: 'session_id', transform: { kind: 'truncate', width: 4 }, text: 'truncate(4, session_id)' },
    ]);
    expect(spec.fields).toEqual([
      { 'source-id': 1, 'field-id': 1000, name: 'event_time_day', transform: 'day' },
      { 'source-id': 2, 'field-id': 1001, name: 'user_id_bucket', transform: 'bucket[16]' },
      { 'source-id': 3, 'field-id': 1002, name: 'platform', transform: 'identity' },
      { 'source-id': 4, 'field-id': 1003, name: 'session_id_trunc', transform: 'truncate[4]' },
    ]);
    expect(partitionPath(spec, [days('2024-01-02'), 3, 'ios', null])).toBe('event_time_day=2024-01-02/user_id_bucket=3/platform=ios/session_id_trunc=null');
    expect(() => buildPartitionSpec(schema, [{ source: 'nope', transform: { kind: 'identity' }, text: 'nope' }])).toThrow(/no column named nope/);
  });
});
