// Avro's `long` as a BigInt for avsc, whose own long type is a JS number and refuses values
// beyond 2^53: Iceberg's manifests (snapshot ids, sizes) and Kafka's Avro records both need all
// 64 bits. Shared by the Iceberg metadata writer and the Avro source decoder.

import avro from 'avsc';

export const BigLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: (v: unknown) => BigInt(v as number),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});
