// Java's text of a DOUBLE and a FLOAT, which Flink writes for CAST(x AS STRING).
//
// Java 17's Float.toString is FloatingDecimal's digit loop (Steele & White's, 1990), which is not
// the shortest text that reads back: it always writes a second digit in E-form (Float.MIN_VALUE
// is 1.4E-45, not 1.0E-45), rounds an integer float past 2^25 by a table of insignificant digits
// (2147483648f is 2.14748365E9), and on subnormal floats its int and long arithmetic overflows,
// which ends the loop early (16 × Float.MIN_VALUE is 2.24E-44). The loop is followed here step by
// step, overflow included, with bigint standing in for the int, long and FDBigInteger it uses.

/** Java's Double.toString for the doubles Flink writes here: the shortest text, in Java's forms. */
export function javaDoubleString(d: number): string {
  if (Number.isNaN(d)) return 'NaN';
  if (!Number.isFinite(d)) return d > 0 ? 'Infinity' : '-Infinity';
  if (d === 0) return Object.is(d, -0) ? '-0.0' : '0.0';
  const a = Math.abs(d);
  if (a >= 1e-3 && a < 1e7) {
    const s = String(d);
    return s.includes('.') ? s : s + '.0';
  }
  const [m, e] = d.toExponential().split('e') as [string, string];
  return `${m.includes('.') ? m : m + '.0'}E${e.startsWith('+') ? e.slice(1) : e}`;
}

/** FloatingDecimal's insignificantDigitsNumber: decimal digits an integer's ulp (2^p) leaves unsure. */
const INSIGNIFICANT_DIGITS = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 11, 11, 11, 12, 12, 12, 12, 13, 13, 13, 14, 14, 14, 15, 15, 15, 15, 16, 16, 16, 17, 17, 17, 18, 18, 18, 19];
/** Approximately ceil(log2(5^i)), as FloatingDecimal sizes its arithmetic. */
const N_5_BITS = [0, 3, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28, 31, 33, 35, 38, 40, 42, 45, 47, 49, 52, 54, 56, 59, 61];
const EXP_SHIFT = 52;

const wrap32 = (x: bigint) => BigInt.asIntN(32, x);
const wrap64 = (x: bigint) => BigInt.asIntN(64, x);

/** FloatingDecimal.estimateDecExp: floor(log10(d)), estimated from the bits as Java does. */
function estimateDecExp(fractBits: bigint, binExp: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, 0x3ff0000000000000n | (fractBits & 0xfffffffffffffn));
  const d2 = view.getFloat64(0);
  const d = (d2 - 1.5) * 0.289529654 + 0.176091259 + binExp * 0.301029995663981;
  return Math.floor(d);
}

interface Digits {
  digits: number[];
  /** The power of ten of the first digit, plus one (FloatingDecimal's decExponent). */
  decExponent: number;
}

/** developLongDigits: an integer's digits, the insignificant low ones rounded away. */
function longDigits(value: bigint, insignificant: number): Digits {
  let v = value;
  let decExponent = 0;
  if (insignificant !== 0) {
    const pow = 10n ** BigInt(insignificant);
    const residue = v % pow;
    v /= pow;
    decExponent += insignificant;
    if (residue >= pow / 2n) v++;
  }
  const text = v.toString();
  const trimmed = text.replace(/0+$/, '');
  return { digits: [...trimmed].map(Number), decExponent: decExponent + text.length };
}

/** BinaryToASCIIBuffer.dtoa for a float's bits, isCompatibleFormat (toString). */
function floatDigits(binExp: number, fractBitsIn: bigint, nSignificantBits: number): Digits {
  let fractBits = fractBitsIn;
  let tailZeros = 0;
  while (((fractBits >> BigInt(tailZeros)) & 1n) === 0n) tailZeros++;
  const nFractBits = EXP_SHIFT + 1 - tailZeros;
  const nTinyBits = Math.max(0, nFractBits - binExp - 1);
  if (binExp <= 62 && binExp >= -21 && nTinyBits < 27 && nFractBits + N_5_BITS[nTinyBits]! < 64 && nTinyBits === 0) {
    const insignificant = binExp > nSignificantBits && binExp - nSignificantBits - 1 > 1 && binExp - nSignificantBits - 1 < INSIGNIFICANT_DIGITS.length ? INSIGNIFICANT_DIGITS[binExp - nSignificantBits - 1]! : 0;
    fractBits = binExp >= EXP_SHIFT ? fractBits << BigInt(binExp - EXP_SHIFT) : fractBits >> BigInt(EXP_SHIFT - binExp);
    return longDigits(fractBits, insignificant);
  }
  let decExp = estimateDecExp(fractBits, binExp);
  const B5 = Math.max(0, -decExp);
  let B2 = B5 + nTinyBits + binExp;
  const S5 = Math.max(0, decExp);
  let S2 = S5 + nTinyBits;
  const M5 = B5;
  let M2 = B2 - nSignificantBits;
  fractBits >>= BigInt(tailZeros);
  B2 -= nFractBits - 1;
  const common = Math.min(B2, S2);
  B2 -= common;
  S2 -= common;
  M2 -= common;
  // FloatingDecimal's own hack for exact powers of two.
  if (nFractBits === 1) M2 -= 1;
  if (M2 < 0) {
    B2 -= M2;
    S2 -= M2;
    M2 = 0;
  }
  const bits5 = (i: number) => (i < N_5_BITS.length ? N_5_BITS[i]! : i * 3);
  const Bbits = nFractBits + B2 + bits5(B5);
  const tenSbits = S2 + 1 + bits5(S5 + 1);
  const digits: number[] = [];
  let low: boolean;
  let high: boolean;
  let lowDigitDifference: bigint;
  const p52 = (five: number, two: number) => 5n ** BigInt(five) << BigInt(two);
  if (Bbits < 64 && tenSbits < 64) {
    // Java's int (or long) arithmetic, overflow and all: m grows tenfold each digit and may wrap.
    const wrap = Bbits < 32 && tenSbits < 32 ? wrap32 : wrap64;
    let b = wrap(wrap(fractBits * 5n ** BigInt(B5)) << BigInt(B2));
    const s = wrap(p52(S5, S2));
    let m = wrap(p52(M5, M2));
    const tens = wrap(s * 10n);
    let q = b / s;
    b = wrap(10n * (b % s));
    m = wrap(m * 10n);
    low = b < m;
    high = wrap(b + m) > tens;
    if (q === 0n && !high) decExp--;
    else digits.push(Number(q));
    if (decExp < -3 || decExp >= 8) high = low = false;
    while (!low && !high) {
      q = b / s;
      b = wrap(10n * (b % s));
      m = wrap(m * 10n);
      if (m > 0n) {
        low = b < m;
        high = wrap(b + m) > tens;
      } else {
        low = true;
        high = true;
      }
      digits.push(Number(q));
    }
    lowDigitDifference = wrap(wrap(b << 1n) - tens);
  } else {
    // FDBigInteger: exact, and its stopping test counts B + M equal to 10 S as high.
    const S = p52(S5, S2);
    let B = (fractBits * 5n ** BigInt(B5)) << BigInt(B2);
    let M = p52(M5 + 1, M2 + 1);
    const tenS = p52(S5 + 1, S2 + 1);
    let q = B / S;
    B = (B % S) * 10n;
    low = B < M;
    high = B + M >= tenS;
    if (q === 0n && !high) decExp--;
    else digits.push(Number(q));
    if (decExp < -3 || decExp >= 8) high = low = false;
    while (!low && !high) {
      q = B / S;
      B = (B % S) * 10n;
      M *= 10n;
      low = B < M;
      high = B + M >= tenS;
      digits.push(Number(q));
    }
    lowDigitDifference = high && low ? (B << 1n) - tenS : 0n;
  }
  const out: Digits = { digits, decExponent: decExp + 1 };
  if (high && (!low || lowDigitDifference > 0n || (lowDigitDifference === 0n && digits[digits.length - 1]! % 2 !== 0))) roundUp(out);
  return out;
}

/** FloatingDecimal.roundup: one more in the last digit, a carry out making 1 and a larger exponent. */
function roundUp(d: Digits): void {
  let i = d.digits.length - 1;
  while (d.digits[i] === 9 && i > 0) d.digits[i--] = 0;
  if (d.digits[i] === 9) {
    d.decExponent += 1;
    d.digits[0] = 1;
    return;
  }
  d.digits[i]! += 1;
}

/** FloatingDecimal.getChars: plain text for 10^-3 <= |x| < 10^7, else d.ddE±n. */
function javaText(negative: boolean, { digits, decExponent }: Digits): string {
  const ds = digits.join('');
  let out: string;
  if (decExponent > 0 && decExponent < 8) {
    const whole = ds.slice(0, decExponent).padEnd(decExponent, '0');
    out = `${whole}.${ds.length > decExponent ? ds.slice(decExponent) : '0'}`;
  } else if (decExponent <= 0 && decExponent > -3) {
    out = `0.${'0'.repeat(-decExponent)}${ds}`;
  } else {
    out = `${ds[0]}.${ds.length > 1 ? ds.slice(1) : '0'}E${decExponent - 1}`;
  }
  return negative ? `-${out}` : out;
}

/** Java 17's Float.toString. */
export function javaFloatString(f: number): string {
  if (!Number.isFinite(f) || f === 0) return javaDoubleString(f);
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, f);
  const bits = view.getUint32(0);
  let fractBits = bits & 0x7fffff;
  let binExp = (bits >>> 23) & 0xff;
  let nSignificantBits: number;
  if (binExp === 0) {
    // A subnormal float, normalised as FloatingDecimal does.
    const leadingZeros = Math.clz32(fractBits);
    const shift = leadingZeros - (31 - 23);
    fractBits <<= shift;
    binExp = 1 - shift;
    nSignificantBits = 32 - leadingZeros;
  } else {
    fractBits |= 1 << 23;
    nSignificantBits = 24;
  }
  binExp -= 127;
  return javaText(bits >>> 31 === 1, floatDigits(binExp, BigInt(fractBits) << BigInt(EXP_SHIFT - 23), nSignificantBits));
}
