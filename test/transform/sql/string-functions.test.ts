// String built-ins. Expected values are PyFlink 1.19.3's for the same expressions; `s` is the
// non-ASCII 'héllo wörld' there too.
import { describe, expect, it } from 'vitest';
import { evalSql, one } from './eval.js';

const S = { s: 'héllo wörld' };

describe('searching', () => {
  it('POSITION: 1-based, 0 when absent, 1 for the empty string, NULL in NULL out', () => {
    expect(evalSql("POSITION('l' IN s)", [S, {}])).toEqual({ type: 'INT', values: [3, null] });
    expect(one("POSITION('z' IN s)", S)).toBe(0);
    expect(one("POSITION('' IN s)", S)).toBe(1);
    expect(one("POSITION('ö' IN s)", S)).toBe(8);
    expect(one("POSITION('b' IN s)", { s: 'a😀b' })).toBe(3);
    // Columns on both sides (the grammar alone takes a literal before IN).
    expect(one('POSITION(s2 IN s)', { ...S, s2: 'ö' })).toBe(8);
  });
  it('LOCATE: from a start, a start below 1 as 1, past the end 0', () => {
    expect(one("LOCATE('l', s)", S)).toBe(3);
    expect(one("LOCATE('l', s, 4)", S)).toBe(4);
    expect(one("LOCATE('l', s, 0)", S)).toBe(3);
    expect(one("LOCATE('l', s, -1)", S)).toBe(3);
    expect(one("LOCATE('', s, 3)", S)).toBe(1);
    expect(one("LOCATE('l', s, 100)", S)).toBe(0);
  });
  it('REGEXP finds anywhere; an invalid pattern is FALSE', () => {
    expect(one("REGEXP('foobar', 'o+b')")).toBe(true);
    expect(one("REGEXP('foobar', '^o')")).toBe(false);
    expect(one("REGEXP('foobar', '(')")).toBe(false);
    expect(one("REGEXP(s, 'a')", {})).toBeNull();
  });
});

describe('padding, cutting, case', () => {
  it('LPAD / RPAD: cut to the length, NULL for a negative length or an empty pad', () => {
    expect(one("LPAD('hi', 4, '??')")).toBe('??hi');
    expect(one("LPAD('hi', 1, '??')")).toBe('h');
    expect(one("LPAD('hi', -1, '??')")).toBeNull();
    expect(one("LPAD('hi', 5, '')")).toBeNull();
    expect(one("LPAD(s, 13, 'äb')", S)).toBe('äbhéllo wörld');
    expect(one("LPAD(s, 2, 'x')", S)).toBe('hé');
    expect(one("RPAD('hi', 5, 'xy')")).toBe('hixyx');
    expect(one("RPAD('hi', 0, 'xy')")).toBe('');
  });
  it('LEFT / RIGHT: negative is empty, past the end is all', () => {
    expect([one('LEFT(s, 3)', S), one('LEFT(s, -1)', S), one('LEFT(s, 100)', S)]).toEqual(['hél', '', 'héllo wörld']);
    expect([one('RIGHT(s, 3)', S), one('RIGHT(s, -1)', S), one('RIGHT(s, 100)', S)]).toEqual(['rld', '', 'héllo wörld']);
  });
  it('INITCAP: ASCII letters and digits make words; other characters separate them and stay as they are', () => {
    expect(one("INITCAP('hELLO wORLD-foo_bar 1st ünïcode')")).toBe('Hello World-Foo_Bar 1st üNïCode');
    expect(one('INITCAP(s)', S)).toBe('HéLlo WöRld');
  });
  it('REVERSE by code points, REPEAT with n <= 0 empty', () => {
    expect(one('REVERSE(s)', S)).toBe('dlröw olléh');
    expect(one("REVERSE('a😀b')")).toBe('b😀a');
    expect([one("REPEAT('ab', 3)"), one("REPEAT('ab', 0)"), one("REPEAT('ab', -1)")]).toEqual(['ababab', '', '']);
  });
  it('OVERLAY, with the corners Flink has', () => {
    expect(one("OVERLAY('This is an old string' PLACING ' new' FROM 10 FOR 5)")).toBe('This is a new string');
    const cases: Array<[string, string]> = [
      ['FROM 3', 'abXYef'], ['FROM 10', 'abcdef'], ['FROM 7', 'abcdef'], ['FROM 6', 'abcdeXY'], ['FROM 0', 'abcdef'],
      ['FROM 2 FOR 0', 'aXY'], ['FROM 3 FOR -1', 'abXY'], ['FROM 2 FOR 1', 'aXYcdef'], ['FROM 2 FOR 10', 'aXY'],
    ];
    for (const [tail, want] of cases) expect([tail, one(`OVERLAY('abcdef' PLACING 'XY' ${tail})`)]).toEqual([tail, want]);
    expect(one("OVERLAY('abcdef' PLACING '' FROM 3 FOR 2)")).toBe('abef');
  });
});

describe('regular expressions, base64, digests, UUID', () => {
  it('REGEXP_REPLACE: every match, the replacement literal, invalid pattern NULL', () => {
    expect(one("REGEXP_REPLACE('foobar', 'o|a', 'x')")).toBe('fxxbxr');
    expect(one("REGEXP_REPLACE('foobar', '(o+)', '[$1]')")).toBe('f[$1]bar');
    expect(one("REGEXP_REPLACE('foobar', '(', 'x')")).toBeNull();
    expect(one("REGEXP_REPLACE('foobar', '', 'x')")).toBe('xfxoxoxbxaxrx');
  });
  it('TO_BASE64 / FROM_BASE64 over UTF-8; text that is not base64 is the record\'s error', () => {
    expect(one('TO_BASE64(s)', S)).toBe('aMOpbGxvIHfDtnJsZA==');
    expect(one("TO_BASE64('')")).toBe('');
    expect(one("FROM_BASE64('aMOpbGxv')")).toBe('héllo');
    expect(one("FROM_BASE64('!!!')")).toEqual({ error: "FROM_BASE64: '!!!' is not base64 text" });
  });
  it('MD5, SHA1, SHA256 in hex over UTF-8', () => {
    expect(one('MD5(s)', S)).toBe('ed0c22cc110ede12327851863c078138');
    expect(one('SHA1(s)', S)).toBe('24e9f5c07847ff8a2a9fa77456655792f5bc7f9f');
    expect(one('SHA256(s)', S)).toBe('a1003f7d04a4115711d0b48a2eaf1359ce565d2d2a6fd65098dfcffadeeef59f');
    expect(evalSql('MD5(s)', [{}]).values).toEqual([null]);
  });
  it('UUID is a new version-4 text per row, never folded', () => {
    const r = evalSql('UUID()', [{}, {}]);
    expect(r.type).toBe('STRING NOT NULL');
    for (const v of r.values) expect(v).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(r.values[0]).not.toBe(r.values[1]);
  });
});

describe('INSTR', () => {
  // PyFlink 1.19.3 with s = 'héllo'.
  const U = { s: 'héllo' };
  it('the n-th occurrence forward from a start, or backward from the end for a negative start', () => {
    expect(evalSql("INSTR(s, 'l')", [U, {}])).toEqual({ type: 'INT', values: [3, null] });
    expect([one("INSTR(s, 'l', 1, 2)", U), one("INSTR(s, 'l', -1, 1)", U), one("INSTR(s, 'l', -2, 1)", U), one("INSTR(s, 'l', -1, 2)", U)]).toEqual([4, 4, 4, 3]);
    expect([one("INSTR(s, 'z')", U), one("INSTR(s, 'l', 1, 3)", U), one("INSTR(s, 'l', 10)", U), one("INSTR(s, 'l', 4)", U)]).toEqual([0, 0, 0, 4]);
  });
  it('an empty search is 1, a start of 0 is 0, an occurrence of 0 is the record\'s error', () => {
    expect([one("INSTR(s, '')", U), one("INSTR(s, '', 3)", U), one("INSTR(s, 'l', 0, 1)", U)]).toEqual([1, 1, 0]);
    expect(one("INSTR(s, 'l', 1, 0)", U)).toEqual({ error: 'INSTR: the occurrence must be positive, found 0' });
  });
});
