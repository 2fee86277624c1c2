import { describe, expect, it } from 'vitest';
import { ShortStringCache } from '../../../src/transform/decode/short-string-cache.js';

describe('short string cache', () => {
  it('gives back the text of the bytes asked for, whatever shares a slot', () => {
    const cache = new ShortStringCache();
    const words = Array.from({ length: 3000 }, (_, k) => `w${(k * 7919) % 1000}-${'x'.repeat(k % 20)}`);
    const buf = Buffer.from(words.join(''), 'latin1');
    let at = 0;
    for (const w of words) {
      expect(cache.get(buf, at, at + w.length)).toBe(w);
      at += w.length;
    }
  });

  it('keeps a column of repeating values on, and turns off for one whose values rarely repeat', () => {
    const repeating = new ShortStringCache();
    const unique = new ShortStringCache();
    for (let k = 0; k < 5000; k++) {
      const r = Buffer.from(['web', 'ios', 'android'][k % 3]!);
      const u = Buffer.from(`s-${k.toString(16).padStart(6, '0')}`);
      repeating.get(r, 0, r.length);
      unique.get(u, 0, u.length);
    }
    expect(repeating.on).toBe(true);
    expect(unique.on).toBe(false);
  });
});
