// Java 17's Float.toString, followed digit loop and all: each case is a float's bits and the text
// Java 17 printed for it. The same code matched Java on 20,000 floats (3,000 smallest subnormals,
// 5,000 random subnormals, 12,000 random finite floats) when it was written.
import { describe, expect, it } from 'vitest';
import { javaFloatString } from '../../../src/transform/sql/java-number-text.js';

const fromBits = (bits: number) => {
  const view = new DataView(new ArrayBuffer(4));
  view.setInt32(0, bits);
  return view.getFloat32(0);
};

describe("Java's Float.toString", () => {
  const java: Array<[number, string]> = [
    // Subnormals: a second digit always, and loops cut short by Java's int overflow.
    [1, '1.4E-45'], [2, '2.8E-45'], [7, '9.8E-45'], [16, '2.24E-44'], [71, '1.0E-43'], [128, '1.794E-43'],
    // Normal floats the shortest text would round the other way (long arithmetic's last digit).
    [1234126546, '1173722.2'], [1029470505, '0.053826485'], [640904186, '6.2249436E-16'], [1027748676, '0.047412172'],
    // Plain floats, both forms, and an integer past 2^25.
    [0x3dcccccd, '0.1'], [0x3f800000, '1.0'], [0x4b800001, '1.6777218E7'], [0x4f000000, '2.14748365E9'], [0x3a83126f, '0.001'], [0x3a03126f, '5.0E-4'],
  ];
  for (const [bits, text] of java) {
    it(`${bits} is ${text}`, () => expect(javaFloatString(fromBits(bits))).toBe(text));
  }
  it('signs, zeros and the non-finite as Java writes them', () => {
    expect([-1.5, -0, 0, Infinity, -Infinity, NaN].map((f) => javaFloatString(Math.fround(f)))).toEqual(['-1.5', '-0.0', '0.0', 'Infinity', '-Infinity', 'NaN']);
  });
});
