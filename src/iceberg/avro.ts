// Avro object container files (Avro 1.11 spec, "Object Container Files") for manifests and
// manifest lists. The header carries the schema JSON exactly as given: avsc's own encoder prints
// the schema from its parsed Type, which drops the Iceberg field ids that readers resolve by.
// Longs are BigInt: snapshot ids use all 63 bits and avsc's default long rejects values above 2^53.

import avro from 'avsc';
import { randomBytes } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { BigLong } from '../avro-long.js';


export function avroType(schema: unknown): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, { registry: { long: BigLong } as never, wrapUnions: false });
}

const META_TYPE = avro.Type.forSchema({ type: 'map', values: 'bytes' });
const COUNT_TYPE = avro.Type.forSchema('long');
const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);
const BLOCK_RECORDS = 1000;

/** A deflate-compressed container file of `records`, with `schemaJson` verbatim in its header. */
export function encodeAvro(schemaJson: unknown, records: readonly unknown[], metadata: Record<string, string>): Uint8Array {
  const type = avroType(schemaJson);
  const meta: Record<string, Buffer> = { 'avro.schema': Buffer.from(JSON.stringify(schemaJson)), 'avro.codec': Buffer.from('deflate') };
  for (const [k, v] of Object.entries(metadata)) meta[k] = Buffer.from(v, 'utf8');
  const sync = randomBytes(16);
  const parts: Buffer[] = [MAGIC, META_TYPE.toBuffer(meta), sync];
  for (let i = 0; i < records.length; i += BLOCK_RECORDS) {
    const chunk = records.slice(i, i + BLOCK_RECORDS);
    const body = deflateRawSync(Buffer.concat(chunk.map((r) => type.toBuffer(r))));
    parts.push(COUNT_TYPE.toBuffer(chunk.length), COUNT_TYPE.toBuffer(body.length), body, sync);
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** Decodes an Avro container file with its own writer schema; returns records and the field-id → name map of the top record. */
export async function decodeAvro(bytes: Uint8Array): Promise<Array<{ record: Record<string, unknown>; idToName: Map<number, string> }>> {
  const { schema, records } = await decodeAvroFile(bytes);
  const fields = (schema as { fields?: Array<{ name: string; 'field-id'?: number }> } | undefined)?.fields ?? [];
  const idToName = new Map(fields.filter((f) => f['field-id'] !== undefined).map((f) => [f['field-id']!, f.name]));
  return records.map((record) => ({ record, idToName }));
}

/** Decodes an Avro container file with its own writer schema; returns that schema (as JSON) and the records. */
export async function decodeAvroFile(bytes: Uint8Array): Promise<{ schema: unknown; records: Array<Record<string, unknown>> }> {
  let writerSchema: unknown;
  const decoder = new avro.streams.BlockDecoder({
    parseHook: (schema: unknown) => {
      writerSchema = schema;
      return avroType(schema);
    },
  } as never);
  const out: Record<string, unknown>[] = [];
  const done = new Promise<void>((resolve, reject) => {
    decoder.on('data', (r: Record<string, unknown>) => out.push(r));
    decoder.on('end', () => resolve());
    decoder.on('error', reject);
  });
  decoder.end(Buffer.from(bytes));
  await done;
  return { schema: writerSchema, records: out };
}

/** The writer schema (as written, field ids kept) and the user metadata of a container file's header. */
export function avroHeader(bytes: Uint8Array): { schema: unknown; metadata: Record<string, string> } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!buf.subarray(0, 4).equals(MAGIC)) throw new Error('not an Avro container file');
  const { value } = META_TYPE.decode(buf, 4) as { value: Record<string, Buffer> };
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (!k.startsWith('avro.')) metadata[k] = v.toString('utf8');
  return { schema: JSON.parse(value['avro.schema']!.toString('utf8')), metadata };
}
