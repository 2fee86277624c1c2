import { describe, expect, it } from 'vitest';
import { decimalFromNumber, decimalToNumber, divideHalfUp, fitsPrecision, formatDecimal, parseDecimalText, rescale } from '../../src/transform/decimal.js';

describe('decimal values (unscaled bigint at the type scale)', () => {
  it('reads decimal text exactly, past the 15 digits a double holds', () => {
    expect(parseDecimalText('12345678901234567.89', 2)).toBe(1234567890123456789n);
    expect(parseDecimalText('99999999999999999.99', 2)).toBe(9999999999999999999n);
    expect(parseDecimalText('-0.05', 2)).toBe(-5n);
    expect(parseDecimalText('.5', 1)).toBe(5n);
    expect(parseDecimalText('7.', 0)).toBe(7n);
    expect(parseDecimalText('+1.25E2', 0)).toBe(125n);
    expect(parseDecimalText('1.25e-2', 4)).toBe(125n);
    expect(parseDecimalText('0e999999999', 2)).toBe(0n);
  });

  it('rounds extra fraction digits HALF_UP, away from zero on a tie (BigDecimal.setScale)', () => {
    expect(parseDecimalText('0.125', 2)).toBe(13n);
    expect(parseDecimalText('-0.125', 2)).toBe(-13n);
    expect(parseDecimalText('0.1249999999999999999999', 2)).toBe(12n);
    expect(parseDecimalText('1e-400', 2)).toBe(0n);
    expect(rescale(12345n, 4, 2)).toBe(123n);
    expect(rescale(12355n, 4, 2)).toBe(124n);
    expect(rescale(-12350n, 4, 2)).toBe(-124n);
    expect(rescale(12n, 2, 4)).toBe(1200n);
    expect(divideHalfUp(-7n, 2n)).toBe(-4n);
    expect(divideHalfUp(7n, -2n)).toBe(-4n);
    expect(divideHalfUp(-5n, 3n)).toBe(-2n);
  });

  it('refuses text that is not a number, and a huge exponent costs nothing and fits nothing', () => {
    for (const bad of ['', '.', '-', '1,5', '1.2.3', 'abc', ' 1', 'Infinity', 'NaN', '0x10']) expect(parseDecimalText(bad, 2)).toBeNull();
    const huge = parseDecimalText('1e999999999', 2)!;
    expect(fitsPrecision(huge, 38)).toBe(false);
  });

  it('checks precision on the unscaled digits', () => {
    expect(fitsPrecision(9999999999999999999n, 20)).toBe(true);
    expect(fitsPrecision(-(10n ** 20n), 20)).toBe(false);
    expect(fitsPrecision(10n ** 38n - 1n, 38)).toBe(true);
  });

  it('prints plain text at the scale, as BigDecimal.toPlainString', () => {
    expect(formatDecimal(1234567890123456789n, 2)).toBe('12345678901234567.89');
    expect(formatDecimal(-5n, 2)).toBe('-0.05');
    expect(formatDecimal(0n, 3)).toBe('0.000');
    expect(formatDecimal(42n, 0)).toBe('42');
  });

  it('meets doubles by their shortest text: 0.145 is 0.145, not 0.14499…', () => {
    expect(decimalFromNumber(0.145, 2)).toBe(15n);
    expect(decimalFromNumber(-12.5, 0)).toBe(-13n);
    expect(decimalFromNumber(1e21, 0)).toBe(10n ** 21n);
    expect(decimalToNumber(1234567890123456789n, 2)).toBe(12345678901234567.89);
    expect(decimalToNumber(-5n, 2)).toBe(-0.05);
  });
});
