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
  it('a path from a column is read per record; one that does not compile is an error (ON ERROR), a NULL one gives NULL', () => {
    const doc = '{"k": "v", "o": {"x": 1}, "arr": [1, 2]}';
    const rows = [{ s: doc, s2: '$.k' }, { s: doc, s2: '$.o.x' }, { s: doc, s2: 'strict $.nope' }, { s: doc, s2: 'o' }, { s: doc }, { s: 'not json', s2: '$.k' }];
    expect(evalSql('JSON_VALUE(s, s2)', rows).values).toEqual(['v', '1', null, null, null, null]);
    expect(evalSql("JSON_VALUE(s, s2 DEFAULT 'bad' ON ERROR)", rows).values).toEqual(['v', '1', 'bad', 'bad', null, 'bad']);
    expect(evalSql('JSON_EXISTS(s, s2)', rows).values).toEqual([true, true, false, false, null, false]);
    expect(evalSql("JSON_QUERY(s, CONCAT('$.', s2))", [{ s: doc, s2: 'o' }, { s: doc, s2: 'arr' }]).values).toEqual(['{"x":1}', '[1,2]']);
    expect(compileError('JSON_EXISTS(s, i)').message).toMatch(/JSON_EXISTS/);
  });
});

// Clauses, with PyFlink 1.19.3's answers on column input (its answers on literal input differ:
// constant folding takes another path there).
describe('JSON clauses', () => {
  it('JSON_VALUE RETURNING BOOLEAN / INT / DOUBLE; a value of another kind is the record\'s error (Flink: ClassCastException)', () => {
    expect(evalSql("JSON_VALUE(s, '$.a' RETURNING INT)", [J('{"a": 7}')])).toEqual({ type: 'INT', values: [7] });
    expect(evalSql("JSON_VALUE(s, '$.a' RETURNING DOUBLE)", [J('{"a": 7.25}')])).toEqual({ type: 'DOUBLE', values: [7.25] });
    expect(evalSql("JSON_VALUE(s, '$.a' RETURNING BOOLEAN)", [J('{"a": true}')])).toEqual({ type: 'BOOLEAN', values: [true] });
    expect(one("JSON_VALUE(s, '$.a' RETURNING INT)", J('{"a": "x7"}'))).toEqual({ error: 'JSON_VALUE: "x7" cannot be RETURNING INT' });
    expect(one("JSON_VALUE(s, '$.a' RETURNING INT DEFAULT -1 ON ERROR)", J('{"a": 7.5}'))).toEqual({ error: 'JSON_VALUE: 7.5 cannot be RETURNING INT' });
    expect(compileError("JSON_VALUE(s, '$.a' RETURNING DECIMAL(5, 1))").message).toMatch(/JSON_VALUE … RETURNING DECIMAL\(5,1\) at line 1, column 8 is not supported/);
  });
  it('JSON_VALUE ON ERROR takes bad JSON, a strict miss and an object or array; ON EMPTY a lax miss; JSON null is NULL', () => {
    expect(one("JSON_VALUE(s, '$.a' DEFAULT 'd' ON ERROR)", J('{"a": [7]}'))).toBe('d');
    expect(one("JSON_VALUE(s, '$.a' DEFAULT 'd' ON EMPTY)", J('{"a": [7]}'))).toBeNull();
    expect(one("JSON_VALUE(s, '$.a' DEFAULT 'd' ON EMPTY)", J('{"a": null, "i": 7}'))).toBeNull();
    expect(one("JSON_VALUE(s, '$.a' DEFAULT 'd' ON ERROR)", J('not json7'))).toBe('d');
    expect(one("JSON_VALUE(s, '$.a' DEFAULT 'd' ON EMPTY)", J('not json7'))).toBeNull();
    expect(one("JSON_VALUE(s, 'strict $.b' DEFAULT 'e' ON ERROR)", J('{"a": 7}'))).toBe('e');
    expect(one("JSON_VALUE(s, 'lax $.b' DEFAULT 'e' ON EMPTY)", J('{"a": 7}'))).toBe('e');
    expect(one("JSON_VALUE(s, 'strict $.b' NULL ON EMPTY ERROR ON ERROR)", J('{"a": 7}'))).toHaveProperty('error');
  });
  it('JSON_QUERY wrappers and ON ERROR; JSON_EXISTS ON ERROR', () => {
    expect(one("JSON_QUERY(s, '$.a' WITH ARRAY WRAPPER)", J('{"a": 7}'))).toBe('[7]');
    expect(one("JSON_QUERY(s, '$.a' WITH ARRAY WRAPPER)", J('{"a": [1,2]}'))).toBe('[[1,2]]');
    expect(one("JSON_QUERY(s, '$.a' WITH CONDITIONAL ARRAY WRAPPER)", J('{"a": [7]}'))).toBe('[7]');
    expect(one("JSON_QUERY(s, '$.a' WITH CONDITIONAL ARRAY WRAPPER)", J('{"a": 1}'))).toBe('[1]');
    // JSON null is never wrapped, and no ON EMPTY clause applies to it (PyFlink 1.19.3).
    expect(one("JSON_QUERY(s, '$.a' WITH CONDITIONAL ARRAY WRAPPER)", J('{"a": null}'))).toBeNull();
    expect(one("JSON_QUERY(s, '$.a' WITH UNCONDITIONAL ARRAY WRAPPER)", J('{"a": null}'))).toBeNull();
    expect(one("JSON_QUERY(s, '$.a' WITH CONDITIONAL ARRAY WRAPPER EMPTY ARRAY ON EMPTY)", J('{"a": null}'))).toBeNull();
    expect(one("JSON_QUERY(s, '$.a' EMPTY OBJECT ON ERROR)", J('{"a": 7}'))).toBe('{}');
    expect(one("JSON_QUERY(s, '$.a' EMPTY ARRAY ON ERROR)", J('{"a": 1}'))).toBe('[]');
    expect(one("JSON_EXISTS(s, 'strict $.b' TRUE ON ERROR)", J('{"a": 7}'))).toBe(true);
    expect(one("JSON_EXISTS(s, 'lax $.b' TRUE ON ERROR)", J('{"a": 7}'))).toBe(false);
    expect(evalSql("JSON_EXISTS(s, 'strict $.b' UNKNOWN ON ERROR)", [J('{"a": 1}')])).toEqual({ type: 'BOOLEAN', values: [null] });
  });
  it('error positions after a clause still point into the SQL as written', () => {
    // SELECT JSON_VALUE(s, '$.a' RETURNING INT) + LOWER(i) …: LOWER is at column 45 as written.
    expect(compileError("JSON_VALUE(s, '$.a' RETURNING INT) + LOWER(i)").message).toMatch(/LOWER: argument must be STRING, found INT at line 1, column 45$/);
  });
});
