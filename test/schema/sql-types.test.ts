import { describe, expect, it } from 'vitest';
import { SqlTypeParseError, formatSqlType, parseSqlType } from '../../src/schema/sql-types.js';

describe('parseSqlType', () => {
  it.each([
    ['STRING', { kind: 'string', nullable: true }],
    ['varchar(20)', { kind: 'string', nullable: true }],
    ['INT', { kind: 'int', nullable: true }],
    ['SMALLINT', { kind: 'int', nullable: true }],
    ['BIGINT NOT NULL', { kind: 'bigint', nullable: false }],
    ['DOUBLE PRECISION', { kind: 'double', nullable: true }],
    ['DECIMAL(10, 2)', { kind: 'decimal', precision: 10, scale: 2, nullable: true }],
    ['DECIMAL', { kind: 'decimal', precision: 10, scale: 0, nullable: true }],
    ['TIMESTAMP(3)', { kind: 'timestamp', precision: 3, nullable: true }],
    ['TIMESTAMP', { kind: 'timestamp', precision: 6, nullable: true }],
    ['TIMESTAMP(3) WITHOUT TIME ZONE', { kind: 'timestamp', precision: 3, nullable: true }],
    ['TIMESTAMP(3) WITH LOCAL TIME ZONE', { kind: 'timestamp_ltz', precision: 3, nullable: true }],
    ['TIMESTAMP_LTZ(3)', { kind: 'timestamp_ltz', precision: 3, nullable: true }],
    ['BYTES', { kind: 'bytes', nullable: true }],
    ['BINARY(16)', { kind: 'fixed', length: 16, nullable: true }],
  ])('%s', (text, expected) => {
    expect(parseSqlType(text)).toEqual(expected);
  });

  it('parses nested types with nullability at every level', () => {
    expect(parseSqlType("ROW<id BIGINT NOT NULL, `the tags` ARRAY<STRING NOT NULL> 'tags', m MAP<STRING, DOUBLE>>")).toEqual({
      kind: 'row',
      nullable: true,
      fields: [
        { name: 'id', type: { kind: 'bigint', nullable: false } },
        { name: 'the tags', type: { kind: 'array', nullable: true, element: { kind: 'string', nullable: false } } },
        { name: 'm', type: { kind: 'map', nullable: true, key: { kind: 'string', nullable: true }, value: { kind: 'double', nullable: true } } },
      ],
    });
  });

  it('round-trips through formatSqlType', () => {
    for (const text of ['ARRAY<ROW<a INT, `b c` DECIMAL(5, 1) NOT NULL>>', 'MAP<STRING, TIMESTAMP_LTZ(3)> NOT NULL', 'BINARY(4)']) {
      expect(parseSqlType(formatSqlType(parseSqlType(text)))).toEqual(parseSqlType(text));
    }
  });

  it.each([
    ['BIGNT', 0, /unknown type BIGNT/],
    ['DECIMAL(40, 2)', 0, /precision must be between 1 and 38/],
    ['DECIMAL(5, 6)', 0, /scale must not exceed/],
    ['ARRAY<STRING', 12, /expected '>'/],
    ['ROW<a INT, a STRING>', 11, /duplicate field a/],
    ['STRING garbage', 7, /unexpected text/],
    ['TIMESTAMP(12)', 0, /precision must be between 0 and 9/],
  ])('rejects %s with the position', (text, position, message) => {
    let caught: unknown;
    try {
      parseSqlType(text);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SqlTypeParseError);
    expect((caught as SqlTypeParseError).position).toBe(position);
    expect((caught as Error).message).toMatch(message);
  });
});
