// Kafka's flexible-version encoding (KIP-482), which kafkajs 2.2.4 does not speak: compact strings
// and arrays (length + 1 as an unsigned varint, 0 for null), UUIDs, and a tagged-field section
// after every struct. Requests and responses of the group membership APIs are written and read
// here and travel over kafkajs' connections as opaque bytes (flexibleRequest).
//
// The request header: kafkajs writes header v1 (api key, version, correlation id, client id) and
// then the body; a flexible request needs header v2, which is v1 plus an empty tagged-field
// section — so every body written here begins with one 0 byte, which makes the header v2.
// Likewise the response header v1 is the correlation id plus tagged fields: kafkajs takes the
// correlation id and hands over the rest, so every reader here starts by skipping tagged fields.

import { createRequire } from 'node:module';
import { StreamError } from '../errors.js';
import type { KafkajsRequest } from './kafkajs-cluster.js';

const require = createRequire(import.meta.url);
const KafkajsEncoder = require('kafkajs/src/protocol/encoder.js') as new () => { writeBuffer(b: Buffer): unknown };

const utf8 = new TextEncoder();
const text = new TextDecoder();

export class FlexibleWriter {
  private readonly parts: number[] = [];

  int8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  bool(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }
  int16(v: number): this {
    this.parts.push((v >> 8) & 0xff, v & 0xff);
    return this;
  }
  int32(v: number): this {
    this.parts.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    return this;
  }
  uvarint(v: number): this {
    let n = v >>> 0;
    while (n >= 0x80) {
      this.parts.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    this.parts.push(n);
    return this;
  }
  /** A COMPACT_NULLABLE_STRING when `v` is null, a COMPACT_STRING otherwise. */
  string(v: string | null): this {
    if (v === null) return this.uvarint(0);
    const bytes = utf8.encode(v);
    this.uvarint(bytes.length + 1);
    for (const b of bytes) this.parts.push(b);
    return this;
  }
  /** A COMPACT_(NULLABLE_)ARRAY: each item written by `each`. */
  array<T>(items: readonly T[] | null, each: (w: this, item: T) => void): this {
    if (items === null) return this.uvarint(0);
    this.uvarint(items.length + 1);
    for (const item of items) each(this, item);
    return this;
  }
  /** A UUID given as 32 hex digits (dashes allowed). */
  uuid(v: string): this {
    const hex = v.replace(/-/g, '');
    if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new StreamError('KAFKA_PROTOCOL', `not a UUID: ${v}`);
    for (let i = 0; i < 32; i += 2) this.parts.push(parseInt(hex.slice(i, i + 2), 16));
    return this;
  }
  /** An empty tagged-field section: no optional fields are sent. */
  tags(): this {
    return this.uvarint(0);
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export class FlexibleReader {
  private at = 0;
  private readonly view: DataView;

  constructor(
    private readonly payload: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  }

  private need(n: number): void {
    if (this.at + n > this.payload.byteLength) {
      throw new StreamError('KAFKA_PROTOCOL', `truncated ${this.what}: needed ${n} bytes at byte ${this.at} of ${this.payload.byteLength}`);
    }
  }
  int8(): number {
    this.need(1);
    return this.view.getInt8(this.at++);
  }
  bool(): boolean {
    return this.int8() !== 0;
  }
  int16(): number {
    this.need(2);
    this.at += 2;
    return this.view.getInt16(this.at - 2);
  }
  int32(): number {
    this.need(4);
    this.at += 4;
    return this.view.getInt32(this.at - 4);
  }
  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      this.need(1);
      const b = this.payload[this.at++]!;
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
    }
    throw new StreamError('KAFKA_PROTOCOL', `${this.what}: a varint longer than 5 bytes at byte ${this.at}`);
  }
  string(): string | null {
    const n = this.uvarint();
    if (n === 0) return null;
    this.need(n - 1);
    this.at += n - 1;
    return text.decode(this.payload.subarray(this.at - (n - 1), this.at));
  }
  array<T>(each: (r: this) => T): T[] | null {
    const n = this.uvarint();
    if (n === 0) return null;
    const out: T[] = [];
    for (let i = 1; i < n; i++) out.push(each(this));
    return out;
  }
  /** A UUID as 32 lowercase hex digits. */
  uuid(): string {
    this.need(16);
    this.at += 16;
    return Buffer.from(this.payload.subarray(this.at - 16, this.at)).toString('hex');
  }
  /** Skips a tagged-field section: no tagged field of these APIs is used. */
  tags(): void {
    for (let n = this.uvarint(); n > 0; n--) {
      this.uvarint(); // tag
      const size = this.uvarint();
      this.need(size);
      this.at += size;
    }
  }
}

/**
 * A request kafkajs can put on the wire: `body` is the request after the header's client id,
 * starting with the header's own (empty) tagged fields.
 */
export function flexibleRequest(apiKey: number, apiVersion: number, apiName: string, body: Uint8Array): KafkajsRequest {
  return {
    apiKey,
    apiVersion,
    apiName,
    encode: async () => {
      const e = new KafkajsEncoder();
      e.writeBuffer(Buffer.concat([Uint8Array.of(0), body]));
      return e;
    },
  };
}
