// DATE_FORMAT pattern letters. Expected text is PyFlink 1.19.3's for ts = TIMESTAMP
// '2024-01-31 10:00:00.123' and the literals shown.
import { describe, expect, it } from 'vitest';
import { compileError, one } from './eval.js';

const ts = Date.parse('2024-01-31T10:00:00.123Z') * 1000;

describe('DATE_FORMAT letters', () => {
  it('numbers, names, and the fraction cut to its width', () => {
    expect(one("DATE_FORMAT(ts, 'yyyy-MM-dd HH:mm:ss.SSS')", { ts })).toBe('2024-01-31 10:00:00.123');
    expect(one("DATE_FORMAT(ts, 'S SS SSSSSS')", { ts })).toBe('1 12 123000');
    expect(one("DATE_FORMAT(ts, 'yyyy-MM-dd''T''HH:mm')", { ts })).toBe('2024-01-31T10:00');
    expect(one("DATE_FORMAT(ts, 'G')", { ts })).toBe('AD');
  });
  it('hours K (0-11) and k (1-24); u is the year, as java.time reads it', () => {
    expect(one("DATE_FORMAT(ts, 'EEE EEEE E a hh K k')", { ts })).toBe('Wed Wednesday Wed AM 10 10 10');
    expect(one("DATE_FORMAT(ts, 'K k u h a')", { ts })).toBe('10 10 2024 10 AM');
    expect(one("DATE_FORMAT(TIMESTAMP '2024-01-31 12:05:00', 'K k h a')")).toBe('0 12 12 PM');
    expect(one("DATE_FORMAT(TIMESTAMP '2024-01-31 00:05:00', 'K k h a')")).toBe('0 24 12 AM');
  });
  it('refuses zone letters, which fail a Flink job on a TIMESTAMP, naming the letters it takes', () => {
    expect(compileError("DATE_FORMAT(ts, 'z')").message).toMatch(/date pattern letter 'z' is not supported \(supported: y u M d D H h K k m s S a E G\)/);
  });
});
