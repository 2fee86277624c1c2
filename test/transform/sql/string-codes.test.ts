// ASCII, CHR, HEX, BIN, ENCODE, DECODE, SPLIT_INDEX, STR_TO_MAP. Expected values and types are
// PyFlink 1.19.3's for the same expressions (s = 'a,b,c', u = 'héllo', c = 97, b = 1700000000123).
import { describe, expect, it } from 'vitest';
import { compileError, evalSql, one } from './eval.js';

const ROW = { s: 'a,b,c', s2: 'héllo', i: 97, b: 1700000000123 };

describe('character codes', () => {
  it('ASCII: the first UTF-8 byte as a signed byte, 0 for empty text, INT', () => {
    expect(evalSql('ASCII(s)', [ROW, {}])).toEqual({ type: 'INT', values: [97, null] });
    expect(one('ASCII(s2)', ROW)).toBe(104);
    expect(one("ASCII('')")).toBe(0);
    expect(one("ASCII('é')")).toBe(-61);
    expect(one("ASCII('😀x')")).toBe(-16);
  });
  it('CHR: the code mod 256, empty for a negative code, a nullable STRING', () => {
    expect(evalSql('CHR(i)', [ROW, {}])).toEqual({ type: 'STRING', values: ['a', null] });
    expect([one('CHR(256)'), one('CHR(-1)'), one('CHR(353)'), one('CHR(0)'), one('CHR(200)'), one('CHR(127)')]).toEqual(['\0', '', 'a', '\0', 'È', '\x7f']);
  });
  it('HEX and BIN: 64-bit two\'s complement for integers, UTF-8 bytes for text', () => {
    expect(evalSql('HEX(i)', [ROW, {}])).toEqual({ type: 'STRING', values: ['61', null] });
    expect(one('HEX(s2)', ROW)).toBe('68C3A96C6C6F');
    expect([one('HEX(-1)'), one('HEX(b)', ROW), one("HEX('')"), one('HEX(CAST(255 AS INT))')]).toEqual(['FFFFFFFFFFFFFFFF', '18BCFE5687B', '', 'FF']);
    expect([one('BIN(i)', ROW), one('BIN(-1)'), one('BIN(b)', ROW), one('BIN(0)')]).toEqual(['1100001', '1'.repeat(64), '11000101111001111111001010110100001111011', '0']);
    expect(compileError("HEX(ENCODE(s, 'UTF-8'))").message).toMatch(/HEX: argument must be INT or BIGINT or STRING, found BYTES/);
  });
  it('ENCODE to BYTES and DECODE back; an unknown charset is refused', () => {
    expect(evalSql("DECODE(ENCODE(s2, 'UTF-8'), 'UTF-8')", [ROW, {}])).toEqual({ type: 'STRING', values: ['héllo', null] });
    expect(Buffer.from(one("ENCODE(s2, 'UTF-8')", ROW) as Uint8Array).toString('hex')).toBe('68c3a96c6c6f');
    expect(compileError("ENCODE(s, 'BOGUS')").message).toMatch(/ENCODE: charset 'BOGUS' is not one this runtime has; it takes UTF-8/);
  });
});

describe('fields of text', () => {
  // SPLIT_INDEX was compiled before; these are PyFlink 1.19.3's answers for its corners.
  it('SPLIT_INDEX: 0-based, empty fields kept, NULL past the end or for a negative index', () => {
    expect(evalSql("SPLIT_INDEX(s, ',', 1)", [ROW, {}])).toEqual({ type: 'STRING', values: ['b', null] });
    expect([one("SPLIT_INDEX(s, ',', 5)", ROW), one("SPLIT_INDEX(s, ',', -1)", ROW)]).toEqual([null, null]);
    expect([one("SPLIT_INDEX(s, '', 0)", ROW), one("SPLIT_INDEX(s, ',,', 0)", ROW)]).toEqual(['a,b,c', 'a,b,c']);
    // An empty separator splits on whitespace (commons-lang), keeping the empty field between two blanks.
    expect(one("SPLIT_INDEX('a b  c', '', 2)")).toBe('');
    expect([one("SPLIT_INDEX('a,,b', ',', 1)"), one("SPLIT_INDEX('', ',', 0)"), one("SPLIT_INDEX('a.b', '.', 1)")]).toEqual(['', null, 'b']);
  });
  it('STR_TO_MAP: MAP<STRING, STRING>, a missing value NULL, the last key wins, delimiters are regular expressions', () => {
    const r = evalSql('STR_TO_MAP(s)', [ROW, {}]);
    expect(r.type).toBe('MAP<STRING, STRING>');
    expect(r.values).toEqual([new Map([['a', null], ['b', null], ['c', null]]), null]);
    expect(one("STR_TO_MAP('a=1,b=2')")).toEqual(new Map([['a', '1'], ['b', '2']]));
    expect(one("STR_TO_MAP('a:1;b', ';', ':')")).toEqual(new Map([['a', '1'], ['b', null]]));
    expect(one("STR_TO_MAP('a=1,a=2')")).toEqual(new Map([['a', '2']]));
    expect(one("STR_TO_MAP('')")).toEqual(new Map());
    expect(one("STR_TO_MAP('k=v=w')")).toEqual(new Map([['k', 'v=w']]));
    expect(one("STR_TO_MAP('a.1|b.2', '|', '.')")).toEqual(new Map([['', '']]));
  });
});
