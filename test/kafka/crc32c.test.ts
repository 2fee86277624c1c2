import { describe, expect, it } from 'vitest';
import { crc32c, crc32cImplementation, crc32cTable } from '../../src/kafka/crc32c.js';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('crc32c', () => {
  it('gives the standard check value for "123456789"', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32cTable(ascii('123456789'))).toBe(0xe3069283);
  });

  it('uses the native implementation where its binary installed', () => {
    expect(crc32cImplementation).toBe('native');
  });

  it('matches known vectors (RFC 3720 iSCSI examples)', () => {
    expect(crc32cTable(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32cTable(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    const ascending = Uint8Array.from({ length: 32 }, (_, i) => i);
    expect(crc32cTable(ascending)).toBe(0x46dd794e);
    expect(crc32c(ascending)).toBe(0x46dd794e);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('native and table agree on every length around the 8-byte stride, and on subarray views', () => {
    const big = Uint8Array.from({ length: 4099 }, (_, i) => (i * 131 + 7) & 0xff);
    for (let len = 0; len < 40; len++) {
      const view = big.subarray(3, 3 + len);
      expect(crc32c(view)).toBe(crc32cTable(view));
    }
    const view = big.subarray(5);
    expect(crc32c(view)).toBe(crc32cTable(view));
  });

  it('continues a checksum over a split input', () => {
    const data = ascii('the quick brown fox jumps over the lazy dog');
    const whole = crc32c(data);
    expect(crc32c(data.subarray(13), crc32c(data.subarray(0, 13)))).toBe(whole);
    expect(crc32cTable(data.subarray(13), crc32cTable(data.subarray(0, 13)))).toBe(whole);
  });
});
