import { describe, expect, it } from 'vitest';
import { compileError, evalSql, one, NOW_US } from './eval.js';

const T = (iso: string) => Date.parse(iso + 'Z') * 1000;

describe('string functions', () => {
  it('LOWER / UPPER', () => {
    expect(evalSql('LOWER(s)', [{ s: 'AbÇ' }, {}]).values).toEqual(['abç', null]);
    expect(evalSql('UPPER(s)', [{ s: 'abç' }, {}]).values).toEqual(['ABÇ', null]);
  });
  it('TRIM forms remove blanks or the given characters', () => {
    const rows = [{ s: '  a b  ' }, {}];
    expect(evalSql('TRIM(s)', rows).values).toEqual(['a b', null]);
    expect(evalSql('TRIM(LEADING FROM s)', rows).values).toEqual(['a b  ', null]);
    expect(evalSql('TRIM(TRAILING FROM s)', rows).values).toEqual(['  a b', null]);
    expect(one("TRIM(BOTH 'xy' FROM s)", { s: 'xyaxy' })).toBe('a');
    expect(one('TRIM(s)', { s: '\tx ' })).toBe('\tx');
  });
  it('CONCAT and || are NULL when any argument is NULL', () => {
    expect(evalSql("CONCAT(s, '-', s2)", [{ s: 'a', s2: 'b' }, { s: 'a' }]).values).toEqual(['a-b', null]);
    expect(evalSql("s || '!' || s2", [{ s: 'a', s2: 'b' }, { s2: 'b' }]).values).toEqual(['a!b', null]);
    expect(compileError('CONCAT(s, i)').message).toMatch(/CONCAT: argument must be STRING, found INT/);
  });
  it('SUBSTRING: 1-based, FROM/FOR form, start 0 as 1, negative from the end, NULLs', () => {
    const r = { s: 'hello' };
    expect(one('SUBSTRING(s FROM 2 FOR 3)', r)).toBe('ell');
    expect(one('SUBSTRING(s, 2, 3)', r)).toBe('ell');
    expect(one('SUBSTRING(s, 2)', r)).toBe('ello');
    expect(one('SUBSTRING(s, 0, 2)', r)).toBe('he');
    expect(one('SUBSTRING(s, -3)', r)).toBe('llo');
    expect(one('SUBSTRING(s, 9)', r)).toBe('');
    expect(one('SUBSTRING(s, 2, -1)', r)).toBeNull();
    expect(one('SUBSTRING(s, i)', r)).toBeNull();
    expect(one('SUBSTR(s, 2, 2)', { s: 'a😀b' })).toBe('😀b');
  });
  it('CHAR_LENGTH counts code points', () => {
    expect(evalSql('CHAR_LENGTH(s)', [{ s: 'abc' }, { s: 'a😀' }, { s: '' }, {}]).values).toEqual([3, 2, 0, null]);
  });
  it('REPLACE replaces every occurrence', () => {
    expect(evalSql("REPLACE(s, 'a', 'xy')", [{ s: 'banana' }, {}]).values).toEqual(['bxynxynxy', null]);
    expect(one("REPLACE(s, s2, 'z')", { s: 'abc' })).toBeNull();
  });
  it('REGEXP_EXTRACT: group index default 0, no match / bad group / bad regex NULL', () => {
    const r = { s: 'user=42;id=7' };
    expect(one("REGEXP_EXTRACT(s, 'id=(\\d+)', 1)", r)).toBe('7');
    expect(one("REGEXP_EXTRACT(s, 'user=(\\d+)')", r)).toBe('user=42');
    expect(one("REGEXP_EXTRACT(s, 'zzz(\\d)', 1)", r)).toBeNull();
    expect(one("REGEXP_EXTRACT(s, 'id=(\\d+)', 2)", r)).toBeNull();
    expect(one("REGEXP_EXTRACT(s, s2, 1)", { s: 'a', s2: '(' })).toBeNull();
    expect(one("REGEXP_EXTRACT(s, 'a', 0)", {})).toBeNull();
  });
  it('SPLIT_INDEX: 0-based, out of range or negative NULL, empty tokens kept', () => {
    const r = { s: 'a,b,,c' };
    expect(one("SPLIT_INDEX(s, ',', 0)", r)).toBe('a');
    expect(one("SPLIT_INDEX(s, ',', 2)", r)).toBe('');
    expect(one("SPLIT_INDEX(s, ',', 3)", r)).toBe('c');
    expect(one("SPLIT_INDEX(s, ',', 4)", r)).toBeNull();
    expect(one("SPLIT_INDEX(s, ',', -1)", r)).toBeNull();
    expect(one("SPLIT_INDEX(s, ',', 0)", {})).toBeNull();
    expect(one("SPLIT_INDEX(s, '::', 1)", { s: 'x::y' })).toBe('y');
  });
});

describe('NULL handling functions', () => {
  it('COALESCE returns the first non-NULL and is NOT NULL when any argument is', () => {
    expect(evalSql('COALESCE(i, j, 0)', [{ i: 1, j: 2 }, { j: 2 }, {}]).values).toEqual([1, 2, 0]);
    expect(evalSql('COALESCE(i, 0)').type).toBe('INT NOT NULL');
    expect(evalSql('COALESCE(i, j)').type).toBe('INT');
  });
  it('NULLIF', () => {
    expect(evalSql('NULLIF(i, 0)', [{ i: 0 }, { i: 3 }, {}]).values).toEqual([null, 3, null]);
  });
  it('IF takes the else branch for a NULL condition', () => {
    expect(evalSql("IF(i > 1, 'big', 'small')", [{ i: 2 }, { i: 1 }, {}]).values).toEqual(['big', 'small', 'small']);
  });
});

describe('time functions', () => {
  it('TO_TIMESTAMP_LTZ from seconds (0) and milliseconds (3)', () => {
    expect(evalSql('TO_TIMESTAMP_LTZ(b, 3)', [{ b: 1706975400123 }, {}]).values).toEqual([1706975400123000, null]);
    expect(one('TO_TIMESTAMP_LTZ(b, 0)', { b: 1706975400 })).toBe(1706975400000000);
    expect(evalSql('TO_TIMESTAMP_LTZ(b, 3)').type).toBe('TIMESTAMP_LTZ(3)');
    expect(compileError('TO_TIMESTAMP_LTZ(b, 6)').message).toMatch(/precision must be 0 \(seconds\) or 3 \(milliseconds\), found 6; Flink 1.19 accepts other precisions in SQL but fails the job on them at run time/);
  });
  it('TO_TIMESTAMP parses text, NULL when it does not match', () => {
    expect(one("TO_TIMESTAMP(s)", { s: '2024-02-03 15:50:00.5' })).toBe(T('2024-02-03T15:50:00.500'));
    expect(one("TO_TIMESTAMP(s, 'dd/MM/yyyy HH:mm')", { s: '03/02/2024 15:50' })).toBe(T('2024-02-03T15:50:00'));
    expect(one('TO_TIMESTAMP(s)', { s: 'garbage' })).toBeNull();
    expect(one('TO_TIMESTAMP(s)', {})).toBeNull();
  });
  it('FROM_UNIXTIME formats seconds in the session time zone', () => {
    expect(one('FROM_UNIXTIME(b)', { b: 1706975400 })).toBe('2024-02-03 15:50:00');
    expect(one("FROM_UNIXTIME(b, 'yyyy/MM/dd')", { b: 1706975400 }, 'America/New_York')).toBe('2024/02/03');
    expect(one('FROM_UNIXTIME(b)', { b: 1706975400 }, 'America/New_York')).toBe('2024-02-03 10:50:00');
    expect(one('FROM_UNIXTIME(b)', {})).toBeNull();
    // Past year 9999 the record fails with the reason, rather than with Intl's RangeError.
    expect(one('FROM_UNIXTIME(b)', { b: 1e16 }, 'America/New_York')).toEqual({ error: expect.stringMatching(/^FROM_UNIXTIME\(10000000000000000\): .* is outside the TIMESTAMP range/) });
  });
  it('UNIX_TIMESTAMP: batch time without arguments, parsed text in the session zone', () => {
    expect(one('UNIX_TIMESTAMP()')).toBe(NOW_US / 1e6);
    expect(one('UNIX_TIMESTAMP(s)', { s: '2024-02-03 15:50:00' })).toBe(1706975400);
    expect(one('UNIX_TIMESTAMP(s)', { s: '2024-02-03 10:50:00' }, 'America/New_York')).toBe(1706975400);
    expect(one("UNIX_TIMESTAMP(s, 'yyyyMMdd')", { s: '20240203' })).toBe(1706918400);
    // Flink's Long.MIN_VALUE for text SimpleDateFormat cannot read (java-date-text.test.ts).
    expect(one('UNIX_TIMESTAMP(s)', { s: 'nope' })).toBe(-9223372036854775808n);
  });
  it('CURRENT_TIMESTAMP is the batch time, the same for every row', () => {
    const r = evalSql('CURRENT_TIMESTAMP', [{}, {}]);
    expect(r.values).toEqual([NOW_US, NOW_US]);
    expect(r.type).toBe('TIMESTAMP_LTZ(3) NOT NULL');
  });
  it('DATE_FORMAT on TIMESTAMP, TIMESTAMP_LTZ (session zone) and text', () => {
    const ts = T('2024-02-03T05:06:07.089');
    expect(one("DATE_FORMAT(ts, 'yyyy-MM-dd HH:mm:ss.SSS')", { ts })).toBe('2024-02-03 05:06:07.089');
    expect(one("DATE_FORMAT(ts, 'EEE d MMM yy, h a')", { ts })).toBe('Sat 3 Feb 24, 5 AM');
    expect(one("DATE_FORMAT(lt, 'HH:mm')", { lt: ts }, 'Asia/Kolkata')).toBe('10:36');
    expect(one("DATE_FORMAT(s, 'yyyyMMdd')", { s: '2024-02-03 00:00:00' })).toBe('20240203');
    expect(one("DATE_FORMAT(ts, 'yyyy')", {})).toBeNull();
    expect(compileError("DATE_FORMAT(ts, 'yyyy QQ')").message).toMatch(/letter 'Q' is not supported/);
  });
  it('EXTRACT fields of TIMESTAMP and DATE', () => {
    const r = { ts: T('2024-02-03T05:06:07.089'), dt: 19756 };
    expect(one('EXTRACT(YEAR FROM ts)', r)).toBe(2024);
    expect(one('EXTRACT(QUARTER FROM ts)', r)).toBe(1);
    expect(one('EXTRACT(MONTH FROM ts)', r)).toBe(2);
    expect(one('EXTRACT(DAY FROM dt)', r)).toBe(3);
    expect(one('EXTRACT(HOUR FROM ts)', r)).toBe(5);
    expect(one('EXTRACT(MINUTE FROM ts)', r)).toBe(6);
    expect(one('EXTRACT(SECOND FROM ts)', r)).toBe(7);
    expect(one('EXTRACT(DOW FROM ts)', r)).toBe(7); // Saturday
    expect(one('EXTRACT(DOY FROM ts)', r)).toBe(34);
    expect(one('EXTRACT(WEEK FROM ts)', r)).toBe(5);
    expect(one('EXTRACT(WEEK FROM dt)', { dt: 19723 })).toBe(1); // 2024-01-01, a Monday
    expect(one('EXTRACT(YEAR FROM ts)', {})).toBeNull();
    expect(evalSql('EXTRACT(YEAR FROM ts)').type).toBe('BIGINT');
  });
});

describe('JSON_VALUE', () => {
  const doc = { s: '{"a":{"b":[10,{"c":"x"}]},"n":1.5,"t":true,"z":null,"k y":"v"}' };
  it('returns scalars as text and NULL for missing paths, containers, JSON null and bad JSON', () => {
    expect(one("JSON_VALUE(s, '$.a.b[0]')", doc)).toBe('10');
    expect(one("JSON_VALUE(s, '$.a.b[1].c')", doc)).toBe('x');
    expect(one("JSON_VALUE(s, '$.n')", doc)).toBe('1.5');
    expect(one("JSON_VALUE(s, '$.t')", doc)).toBe('true');
    expect(one("JSON_VALUE(s, '$[''k y'']')", doc)).toBe('v');
    expect(one("JSON_VALUE(s, 'lax $.missing')", doc)).toBeNull();
    expect(one("JSON_VALUE(s, '$.a')", doc)).toBeNull();
    expect(one("JSON_VALUE(s, '$.z')", doc)).toBeNull();
    expect(one("JSON_VALUE(s, '$.a')", { s: '{broken' })).toBeNull();
    expect(one("JSON_VALUE(s, '$.a')", {})).toBeNull();
    expect(compileError("JSON_VALUE(s, 'a.b')").message).toMatch(/must start with \$/);
  });
});

describe('function errors', () => {
  it('names an unknown function and wrong argument counts', () => {
    const e = compileError('SOUNDEX_X(s)');
    expect(e.code).toBe('SQL_UNSUPPORTED');
    expect(e.message).toMatch(/^function SOUNDEX_X at line 1, column 8 is not supported/);
    // Names with digits are listed too.
    expect(e.message).toMatch(/\bLOG10\b.*\bSHA256\b|\bSHA256\b.*\bLOG10\b/);
    expect(compileError('LOWER(s, s2)').message).toMatch(/LOWER takes 1 argument\(s\), found 2/);
  });
});

describe('GREATEST, LEAST, IFNULL (values and types from PyFlink 1.19.3)', () => {
  it('GREATEST / LEAST at the common type, NULL when any argument is', () => {
    expect(evalSql('GREATEST(i, 3, 9)', [{ i: 7 }])).toEqual({ type: 'INT', values: [9] });
    expect(one('GREATEST(i, j)', { i: 7 })).toBeNull();
    expect(evalSql('GREATEST(i, b)', [{ i: 7, b: 10000000000 }])).toEqual({ type: 'BIGINT', values: [10000000000] });
    expect(evalSql('GREATEST(i, d)', [{ i: 7, d: 2.5 }])).toEqual({ type: 'DOUBLE', values: [7] });
    expect(evalSql("LEAST(s, 'a')", [{ s: 'héllo wörld' }])).toEqual({ type: 'STRING', values: ['a'] });
    expect(evalSql('LEAST(i, 2.5)', [{ i: 7 }])).toEqual({ type: 'DECIMAL(11, 1)', values: [25n] });
    expect(one("GREATEST(ts, TIMESTAMP '2025-01-01 00:00:00')", { ts: 0 })).toBe(Date.parse('2025-01-01T00:00:00Z') * 1000);
    expect(compileError('GREATEST(i, s)').message).toMatch(/GREATEST arguments have incompatible types INT, STRING/);
  });
  it('IFNULL is NOT NULL when its second argument is', () => {
    expect(evalSql('IFNULL(i, 5)', [{}, { i: 7 }])).toEqual({ type: 'INT NOT NULL', values: [5, 7] });
    expect(evalSql('IFNULL(i, b)', [{ b: 10000000000 }])).toEqual({ type: 'BIGINT', values: [10000000000] });
    expect(one("IFNULL(s, 'x')", {})).toBe('x');
  });
});

describe('forms the grammar spells otherwise', () => {
  it('SUBSTRING(s FROM n) without FOR is SUBSTRING(s, n)', () => {
    expect(one('SUBSTRING(s FROM 2)', { s: 'hello' })).toBe('ello');
    expect(one('SUBSTRING(s FROM i)', { s: 'hello', i: 3 })).toBe('llo');
    expect(one('SUBSTRING(s FROM 2 FOR 3)', { s: 'hello' })).toBe('ell');
  });
  it('IS [NOT] UNKNOWN tests a BOOLEAN for NULL', () => {
    expect(evalSql('f IS UNKNOWN', [{ f: true }, { f: false }, {}]).values).toEqual([false, false, true]);
    expect(evalSql('f IS NOT UNKNOWN', [{ f: true }, {}]).values).toEqual([true, false]);
  });
  it('LOCALTIMESTAMP without parentheses', () => {
    expect(evalSql('LOCALTIMESTAMP').values).toEqual(evalSql('LOCALTIMESTAMP()').values);
  });
  it("REPLACE with an empty search string puts the replacement around every character, as Java's String.replace", () => {
    expect(evalSql("REPLACE(s, '', '_')", [{ s: '' }, { s: 'ab' }, { s: 'a😀' }]).values).toEqual(['_', '_a_b_', '_a_😀_']);
  });
});
