// RAND, RAND_INTEGER and CURRENT_ROW_TIMESTAMP: a new value per row, so never constant and
// never folded.
//
// A seeded RAND(seed) / RAND_INTEGER(seed, n) is java.util.Random, bit for bit (see generator
// below); an unseeded one is Math.random.

import { ExpressionError, pos, type Compiled, type Scope } from './expression.js';
import { arity, constantArg, INTEGER, requireKind, type Impl } from './function-kit.js';
import { invalid, type AstNode } from './parse.js';
import { ltzType, simple } from './types.js';

const MULTIPLIER = 0x5deece66dn;
const MASK = (1n << 48n) - 1n;

/** java.util.Random: the 48-bit linear congruential generator, bit for bit. */
export class JavaRandom {
  private seed: bigint;

  constructor(seed: number | bigint) {
    this.seed = (BigInt.asIntN(64, BigInt(seed)) ^ MULTIPLIER) & MASK;
  }

  private next(bits: number): number {
    this.seed = (this.seed * MULTIPLIER + 0xbn) & MASK;
    return Number(BigInt.asIntN(32, this.seed >> BigInt(48 - bits)));
  }

  nextDouble(): number {
    return (this.next(26) * 2 ** 27 + this.next(27)) * 2 ** -53;
  }

  /** Random.nextInt(bound), with its rejection of the uneven top range. */
  nextInt(bound: number): number {
    let r = this.next(31);
    const m = bound - 1;
    if ((bound & m) === 0) return Number((BigInt(bound) * BigInt(r)) >> 31n);
    for (let u = r; u - (r = u % bound) + m > 0x7fffffff; u = this.next(31));
    return r;
  }
}

/**
 * The generator a call draws from: for a seeded call, one java.util.Random per compiled
 * expression, as Flink keeps one per operator instance (PyFlink 1.19.3, streaming: RAND(1) gives
 * 0.7308781907032909, 0.41008081149220166, 0.20771484130971707 on successive rows). Hazard: the
 * sequence is per worker here, as it is per task in Flink, so which row draws which value
 * depends on how rows are spread over the pool: only a pipeline on one worker repeats Flink's.
 */
function generator(name: string, seed: Compiled | undefined, scope: Scope, node: AstNode): { nextDouble(): number; nextInt(bound: number): number } {
  if (seed === undefined) return { nextDouble: Math.random, nextInt: (bound: number) => Math.floor(Math.random() * bound) };
  requireKind(name, seed, INTEGER, scope, node, 'the seed');
  const value = constantArg(name, seed, scope, node, 'the seed');
  if (value === null) throw invalid(`${name}: the seed must not be NULL`, pos(scope, node));
  return new JavaRandom(value as number | bigint);
}

export const RANDOM_FUNCTIONS: Record<string, Impl> = {
  // RAND([seed]): DOUBLE NOT NULL in [0, 1).
  RAND: (args, scope, node) => {
    arity('RAND', args, 0, 1, scope, node);
    const random = generator('RAND', args[0], scope, node);
    return { type: simple('double', false), constant: false, eval: () => random.nextDouble() };
  },
  // RAND_INTEGER([seed,] n): INT NOT NULL in [0, n). A bound of 0 or less makes Java's nextInt
  // throw, failing the Flink job; here that record is a dead letter.
  RAND_INTEGER: (args, scope, node) => {
    arity('RAND_INTEGER', args, 1, 2, scope, node);
    const bound = args[args.length - 1]!;
    requireKind('RAND_INTEGER', bound, INTEGER, scope, node, 'the bound');
    const random = generator('RAND_INTEGER', args.length === 2 ? args[0] : undefined, scope, node);
    const f = bound.eval;
    return { type: simple('int', false), constant: false, eval: (i) => {
      const n = Number(f(i) ?? 0);
      if (!(n > 0)) throw new ExpressionError(`RAND_INTEGER: the bound must be positive, found ${n}`);
      return random.nextInt(n);
    } };
  },
  // CURRENT_ROW_TIMESTAMP(): TIMESTAMP_LTZ(3) NOT NULL, the clock read for each row (where
  // CURRENT_TIMESTAMP is read once per batch).
  CURRENT_ROW_TIMESTAMP: (args, scope, node) => {
    arity('CURRENT_ROW_TIMESTAMP', args, 0, 0, scope, node);
    return { type: ltzType(3, false), constant: false, eval: () => Date.now() * 1000 };
  },
};
