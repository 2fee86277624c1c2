// Characters as numbers and bytes: ASCII, CHR, HEX, BIN, ENCODE, DECODE; and text cut into a map:
// STR_TO_MAP (SPLIT_INDEX is in functions.ts). Values, types and corners are Flink 1.19's, checked against PyFlink
// 1.19.3; the Flink method each follows is named where it decides a corner.

import { pos, type Compiled, type Scope } from './expression.js';
import { arity, constantArg, INTEGER, nullableOf, requireKind, strict, STRING, type Impl } from './function-kit.js';
import { invalid, type AstNode } from './parse.js';
import { simple, withNullable, type ExprType } from './types.js';

/** Node's Buffer encodings for the charsets Flink's ENCODE / DECODE name (Java charset names). */
const CHARSETS: Record<string, BufferEncoding> = {
  'UTF-8': 'utf8',
  'US-ASCII': 'ascii',
  'ISO-8859-1': 'latin1',
  'UTF-16LE': 'utf16le',
};

/** A 64-bit two's complement integer's digits in a base, as Java's Long.toHexString / toBinaryString. */
function unsignedDigits(n: number | bigint, radix: 2 | 16): string {
  return BigInt.asUintN(64, BigInt(n)).toString(radix).toUpperCase();
}

function charset(name: string, c: Compiled | undefined, scope: Scope, node: AstNode): { encoding: BufferEncoding | 'utf16be' } {
  const value = constantArg(name, c!, scope, node, 'the charset');
  const wanted = String(value).toUpperCase();
  if (wanted === 'UTF-16BE' || wanted === 'UTF-16') return { encoding: 'utf16be' };
  const encoding = CHARSETS[wanted];
  if (encoding === undefined) throw invalid(`${name}: charset '${String(value)}' is not one this runtime has; it takes ${[...Object.keys(CHARSETS), 'UTF-16BE', 'UTF-16'].join(', ')}`, pos(scope, node));
  return { encoding };
}

function encode(s: string, encoding: BufferEncoding | 'utf16be'): Uint8Array {
  if (encoding !== 'utf16be') return new Uint8Array(Buffer.from(s, encoding));
  // Java's UTF-16 encoder writes big-endian, with no byte-order mark for UTF-16BE (and Java's
  // "UTF-16" adds one: FE FF).
  const le = Buffer.from(s, 'utf16le');
  le.swap16();
  return new Uint8Array(le);
}

function decode(b: Uint8Array, encoding: BufferEncoding | 'utf16be'): string {
  if (encoding !== 'utf16be') return Buffer.from(b).toString(encoding);
  const copy = Buffer.from(b.length % 2 === 0 ? b : b.subarray(0, b.length - 1));
  copy.swap16();
  return copy.toString('utf16le');
}

/** Java's String.split(regex, -1) for STR_TO_MAP's delimiters, which are regular expressions. */
function javaSplit(s: string, re: RegExp | string, limit = -1): string[] {
  const parts = s.split(re);
  if (limit > 0 && parts.length > limit) {
    // `k=v=w` split in two at the first `=`: the rest joined back as Java leaves it.
    const first = parts[0]!;
    const m = typeof re === 'string' ? re : (new RegExp(re.source).exec(s.slice(first.length))?.[0] ?? '');
    return [first, s.slice(first.length + m.length)];
  }
  return parts;
}

function regex(name: string, c: Compiled, scope: Scope, node: AstNode, what: string): RegExp {
  const text = constantArg(name, c, scope, node, what);
  try {
    return new RegExp(String(text));
  } catch {
    throw invalid(`${name}: ${what} '${String(text)}' is not a valid regular expression`, pos(scope, node));
  }
}

export const STRING_CODES: Record<string, Impl> = {
  // ASCII: INT, the first UTF-8 byte as Java's signed byte; 0 for the empty string (PyFlink
  // 1.19.3: ASCII('') is 0, ASCII('é') is -61, the first byte of C3 A9).
  ASCII: (args, scope, node) => {
    arity('ASCII', args, 1, 1, scope, node);
    requireKind('ASCII', args[0]!, STRING, scope, node);
    return strict(withNullable(simple('int'), nullableOf(args)), args, (s: string) => {
      if (s === '') return 0;
      const c = s.charCodeAt(0);
      if (c < 0x80) return c;
      const first = Buffer.from(String.fromCodePoint(s.codePointAt(0)!), 'utf8')[0]!;
      return first - 256;
    });
  },
  // CHR: the character of code n mod 256; '' for a negative n (CHR(353) is 'a', CHR(256) U+0000).
  CHR: (args, scope, node) => {
    arity('CHR', args, 1, 1, scope, node);
    requireKind('CHR', args[0]!, INTEGER, scope, node);
    return strict(withNullable(simple('string'), nullableOf(args)), args, (n: number | bigint) => {
      const v = Number(n);
      return v < 0 ? '' : String.fromCharCode(v % 256);
    });
  },
  // HEX: an integer's 64-bit two's complement in upper-case hex (HEX(-1) is sixteen F); a
  // string's UTF-8 bytes in hex (HEX('hé') is 68C3A9).
  HEX: (args, scope, node) => {
    arity('HEX', args, 1, 1, scope, node);
    requireKind('HEX', args[0]!, [...INTEGER, 'string'], scope, node);
    const type = withNullable(simple('string'), nullableOf(args));
    if (args[0]!.type.kind === 'string') return strict(type, args, (s: string) => Buffer.from(s, 'utf8').toString('hex').toUpperCase());
    return strict(type, args, (n: number | bigint) => unsignedDigits(n, 16));
  },
  // BIN: an integer's 64-bit two's complement in binary (BIN(-1) is sixty-four 1).
  BIN: (args, scope, node) => {
    arity('BIN', args, 1, 1, scope, node);
    requireKind('BIN', args[0]!, INTEGER, scope, node);
    return strict(withNullable(simple('string'), nullableOf(args)), args, (n: number | bigint) => unsignedDigits(n, 2));
  },
  // ENCODE(s, charset): BYTES; DECODE(b, charset): STRING. The charset must be a constant here
  // (Flink takes a column too); an unknown one is a startup error, where Flink fails the job.
  ENCODE: (args, scope, node) => {
    arity('ENCODE', args, 2, 2, scope, node);
    requireKind('ENCODE', args[0]!, STRING, scope, node);
    const { encoding } = charset('ENCODE', args[1], scope, node);
    return strict(withNullable(simple('bytes'), args[0]!.type.nullable), [args[0]!], (s: string) => encode(s, encoding));
  },
  DECODE: (args, scope, node) => {
    arity('DECODE', args, 2, 2, scope, node);
    requireKind('DECODE', args[0]!, ['bytes'], scope, node);
    const { encoding } = charset('DECODE', args[1], scope, node);
    return strict(withNullable(simple('string'), args[0]!.type.nullable), [args[0]!], (b: Uint8Array) => decode(b, encoding));
  },
  // STR_TO_MAP(s [, pair delimiter ',' [, key-value delimiter '=']]): MAP<STRING, STRING>. The
  // delimiters are regular expressions (Java String.split); a pair without the key-value
  // delimiter maps its key to NULL; a later key wins; empty text is an empty map.
  STR_TO_MAP: (args, scope, node) => {
    arity('STR_TO_MAP', args, 1, 3, scope, node);
    for (const a of args) requireKind('STR_TO_MAP', a, STRING, scope, node);
    const pairs = args[1] === undefined ? /,/ : regex('STR_TO_MAP', args[1], scope, node, 'the pair delimiter');
    const kv = args[2] === undefined ? /=/ : regex('STR_TO_MAP', args[2], scope, node, 'the key-value delimiter');
    const type: ExprType = { kind: 'map', key: simple('string', true), value: simple('string', true), nullable: args[0]!.type.nullable };
    return strict(type, [args[0]!], (s: string) => {
      const m = new Map<string, string | null>();
      if (s === '') return m;
      for (const pair of javaSplit(s, pairs)) {
        const [k, v] = javaSplit(pair, kv, 2);
        m.set(k!, v === undefined ? null : v);
      }
      return m;
    });
  },
};
