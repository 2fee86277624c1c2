// DECIMAL values in the transform layer: a DECIMAL(p, s) value is a bigint, its unscaled value at
// the scale s of its static type (12.34 in DECIMAL(10, 2) is 1234n). The scale travels with the
// type, not the value, so a column of decimals is an array of bigints and nothing is allocated
// per value beyond the bigint itself. Every conversion here is exact; where digits must go, they
// go HALF_UP, as Java's BigDecimal.setScale(s, RoundingMode.HALF_UP) in Flink's DecimalData does.
//
// Hazard: a bigint means a DECIMAL only next to its type. BIGINT values beyond ±2^53 are bigints
// too, so any place where two types meet (comparison, CASE, COALESCE, a sink column of another
// type) must convert by the static types (see sql/decimal-ops.ts), never by looking at the value.

import type { SqlType } from '../schema/sql-types.js';

const POW10: bigint[] = [1n];
for (let i = 1; i <= 80; i++) POW10.push(POW10[i - 1]! * 10n);

/** 10^n as a bigint, n ≥ 0. */
export function pow10(n: number): bigint {
  return n < POW10.length ? POW10[n]! : 10n ** BigInt(n);
}

/** a / b rounded HALF_UP (away from zero on a tie), as BigDecimal's RoundingMode.HALF_UP. */
export function divideHalfUp(a: bigint, b: bigint): bigint {
  const q = a / b;
  const r = a % b;
  if (r === 0n) return q;
  const twice = (r < 0n ? -r : r) * 2n;
  const den = b < 0n ? -b : b;
  if (twice < den) return q;
  return (a < 0n) !== (b < 0n) ? q - 1n : q + 1n;
}

/** The unscaled value at scale `from` brought to scale `to`, HALF_UP when digits are dropped. */
export function rescale(unscaled: bigint, from: number, to: number): bigint {
  if (from === to) return unscaled;
  return to > from ? unscaled * pow10(to - from) : divideHalfUp(unscaled, pow10(from - to));
}

/** Whether the unscaled value has at most `precision` digits. */
export function fitsPrecision(unscaled: bigint, precision: number): boolean {
  return (unscaled < 0n ? -unscaled : unscaled) < pow10(precision);
}

// An exponent this far out cannot leave a value a DECIMAL(38) can hold (or it leaves zero):
// capped so that `1e999999999` costs nothing to refuse.
const EXPONENT_LIMIT = 200;
const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * Decimal text (`-12.5`, `.5`, `1e3`, `1.25E-2`) → its unscaled value at `scale`, HALF_UP; null
 * when the text is not a decimal number. No surrounding blanks: callers trim as their format says.
 * A value too large for any DECIMAL comes back as 10^(EXPONENT_LIMIT), which fits no precision.
 */
export function parseDecimalText(text: string, scale: number): bigint | null {
  const m = DECIMAL_TEXT.exec(text);
  if (m === null) return null;
  const whole = m[2]!;
  const frac = m[3] ?? '';
  if (whole.length === 0 && frac.length === 0) return null;
  const digits = BigInt(whole + frac || '0');
  if (digits === 0n) return 0n;
  const exp = m[4] === undefined ? 0 : Number(m[4]);
  const shift = exp - frac.length + scale;
  let r: bigint;
  if (shift > EXPONENT_LIMIT) return pow10(EXPONENT_LIMIT);
  if (shift >= 0) r = digits * pow10(shift);
  else if (-shift > whole.length + frac.length + 1) r = 0n;
  else r = divideHalfUp(digits, pow10(-shift));
  return m[1] === '-' ? -r : r;
}

/** The decimal's plain text at its scale, as BigDecimal.toPlainString: 1234n, 2 → "12.34". */
export function formatDecimal(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  let digits = (neg ? -unscaled : unscaled).toString();
  if (scale > 0) {
    if (digits.length <= scale) digits = '0'.repeat(scale - digits.length + 1) + digits;
    digits = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  }
  return neg ? `-${digits}` : digits;
}

/** The double nearest the decimal (correctly rounded: parsed from its text, never unscaled / 10^s). */
export function decimalToNumber(unscaled: bigint, scale: number): number {
  return Number(formatDecimal(unscaled, scale));
}

/**
 * Unscaled integer of a double at `scale`, rounded HALF_UP on the shortest decimal text of the
 * double (Java's BigDecimal.valueOf): 0.145 is 0.145 here, not the 0.14499… that `v * 100` sees.
 */
export function decimalFromNumber(v: number, scale: number): bigint {
  if (!Number.isFinite(v)) throw new RangeError(`${v} is not a finite decimal`);
  return parseDecimalText(String(v), scale)!;
}

/** Digits a number's source text spells, leading zeros and the exponent aside: "0.00120e5" → 3. */
export function significantDigits(text: string): number {
  const m = DECIMAL_TEXT.exec(text);
  if (m === null) return Infinity;
  return (m[2]! + (m[3] ?? '')).replace(/^0+/, '').replace(/0+$/, '').length;
}

/** Whether a type is, or holds somewhere inside it, a DECIMAL. */
export function holdsDecimal(t: SqlType): boolean {
  switch (t.kind) {
    case 'decimal':
      return true;
    case 'array':
      return holdsDecimal(t.element);
    case 'map':
      return holdsDecimal(t.key) || holdsDecimal(t.value);
    case 'row':
      return t.fields.some((f) => holdsDecimal(f.type));
    default:
      return false;
  }
}
