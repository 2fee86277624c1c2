// CRC-32C (Castagnoli), the checksum of every Kafka v2 record batch. The CRC runs over every fetched
// byte, so the SIMD one from @node-rs/crc32 is used (about 8x the JS table's speed on batch-sized
// inputs); a slicing-by-8 table in plain JavaScript stands in where its prebuilt binary is missing
// (a platform npm has no optional package for), so decoding never depends on a native load.

import { createRequire } from 'node:module';

const POLY_REFLECTED = 0x82f63b78;

function makeTables(): Int32Array[] {
  const t0 = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY_REFLECTED : c >>> 1;
    t0[n] = c;
  }
  const tables = [t0];
  for (let k = 1; k < 8; k++) {
    const prev = tables[k - 1]!;
    const t = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      const p = prev[n]!;
      t[n] = (p >>> 8) ^ t0[p & 0xff]!;
    }
    tables.push(t);
  }
  return tables;
}

const [T0, T1, T2, T3, T4, T5, T6, T7] = makeTables() as [Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array];

/** CRC-32C of `bytes` by table, unsigned. `previous` continues a checksum over a split input. */
export function crc32cTable(bytes: Uint8Array, previous = 0): number {
  let crc = ~previous;
  let i = 0;
  const end = bytes.length;
  const stop8 = end - 8;
  while (i <= stop8) {
    const a = crc ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    crc =
      T7[a & 0xff]! ^
      T6[(a >>> 8) & 0xff]! ^
      T5[(a >>> 16) & 0xff]! ^
      T4[a >>> 24]! ^
      T3[bytes[i + 4]!]! ^
      T2[bytes[i + 5]!]! ^
      T1[bytes[i + 6]!]! ^
      T0[bytes[i + 7]!]!;
    i += 8;
  }
  while (i < end) {
    crc = T0[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
    i++;
  }
  return ~crc >>> 0;
}

type NativeCrc = (input: Uint8Array, initialState?: number) => number;

function loadNative(): NativeCrc | null {
  try {
    const mod = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c: NativeCrc };
    const check = mod.crc32c(new TextEncoder().encode('123456789')) >>> 0;
    return check === 0xe3069283 ? mod.crc32c : null;
  } catch {
    return null;
  }
}

const native = loadNative();

/** Which implementation `crc32c` runs, for benchmarks and start-up logs. */
export const crc32cImplementation: 'native' | 'table' = native === null ? 'table' : 'native';

/** CRC-32C of `bytes`, unsigned. `previous` continues a checksum over a split input; 0 starts one. */
export const crc32c: (bytes: Uint8Array, previous?: number) => number =
  native === null ? crc32cTable : (bytes, previous = 0) => native(bytes, previous) >>> 0;
