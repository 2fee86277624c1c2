// JSON_VALUE, JSON_QUERY, JSON_EXISTS in their default forms. Expected text is PyFlink 1.19.3's
// for the same documents (Jackson's number text: a number with a point or exponent is a Java
// double, an integer keeps all its digits).
import { describe, expect, it } from 'vitest';
import { compileError, evalSql, one } from './eval.js';

const J = (s: string) => ({ s });

describe('JSON_VALUE', () => {
  it('numbers come back as Jackson writes them', () => {
    expect(one("JSON_VALUE(s, '$.a')", J('{"a": 1.5}'))).toBe('1.5');
    expect(one("JSON_VALUE(s, '$.a')", J('{"a": 1e2}'))).toBe('100.0');
    expect(one("JSON_VALUE(s, '$.a')", J('{"a": 700e0}'))).toBe('700.0');
    expect(one("JSON_VALUE(s, '$.a')", J('{"a": 10000000000.0}'))).toBe('1.0E10');
    expect(one("JSON_VALUE(s, '$.a')", J('{"a": 123456789012345678901234}'))).toBe('123456789012345678901234');
  });
  it('scalars as text; missing, JSON null, containers and bad JSON are NULL', () => {
    expect(one("JSON_VALUE(s, '$.a')", J('{"a": true}'))).toBe('true');
    expect(one("JSON_VALUE(s, 'strict $.a')", J('{"a": "héllo"}'))).toBe('héllo');
    expect(one("JSON_VALUE(s, '$[1]')", J('[10, 20]'))).toBe('20');
    for (const doc of ['{"a": [1,2]}', '{"a": null}', '{"b": 1}', 'not json']) expect([doc, one("JSON_VALUE(s, '$.a')", J(doc))]).toEqual([doc, null]);
  });
  it('a path step named like a member of the number holder reads nothing', () => {
    expect(one("JSON_VALUE(s, '$.a.text')", J('{"a": 1.5}'))).toBeNull();
  });
});

describe('JSON_QUERY', () => {
  it('an object or array as compact JSON; a scalar, JSON null, a missing path and bad JSON are NULL', () => {
    expect(evalSql("JSON_QUERY(s, '$.a')", [J('{"a": {"b": [1, "x", null]}}')])).toEqual({ type: 'STRING', values: ['{"b":[1,"x",null]}'] });
    expect(one("JSON_QUERY(s, '$.a')", J('{"a": {"x": "é", "y": 1.50, "z": 1e2}}'))).toBe('{"x":"é","y":1.5,"z":100.0}');
    expect(one("JSON_QUERY(s, '$.a')", J('{"a":{"k":10000000000.50, "z": 1e2, "big": 123456789012345678901234}}'))).toBe('{"k":1.00000000005E10,"z":100.0,"big":123456789012345678901234}');
    expect(one("JSON_QUERY(s, '$')", J('[7, "é\\u00e9", true]'))).toBe('[7,"éé",true]');
    for (const doc of ['{"a": 1}', '{"a": "s"}', '{"a": null}', '{"b": 1}', 'bad']) expect([doc, one("JSON_QUERY(s, '$.a')", J(doc))]).toEqual([doc, null]);
  });
});

describe('JSON_EXISTS', () => {
  it('TRUE for a value other than JSON null; FALSE for null, missing, out of range and bad JSON; NULL for NULL', () => {
    const cases: Array<[string, string, boolean | null]> = [
      ['{"a": 1}', '$.a', true], ['{"a": 1}', '$.b', false], ['bad', '$.a', false], ['{"a": null}', '$.a', false],
      ['{"a": [1]}', '$.a[0]', true], ['{"a": [1]}', '$.a[3]', false], ['{"a": 1}', 'strict $.b', false],
    ];
    for (const [doc, path, want] of cases) expect([doc, path, one(`JSON_EXISTS(s, '${path}')`, J(doc))]).toEqual([doc, path, want]);
    expect(evalSql("JSON_EXISTS(s, '$.a')", [{}])).toEqual({ type: 'BOOLEAN', values: [null] });
  });
  it('the path must be a constant', () => {
    expect(compileError('JSON_EXISTS(s, s2)').message).toMatch(/JSON_EXISTS: the path must be a constant/);
  });
});
