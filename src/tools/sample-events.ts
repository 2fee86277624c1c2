// Deterministic sample events for any topic, shaped by its `source_schema`: the same (seed, index)
// always gives the same record, so tests can recompute what was produced. Fields the PyFlink
// job's examples use (event_name, platform, device_type, ...) get realistic vocabularies; other
// fields get values of their declared type. A fraction of records can be made malformed on
// purpose: not JSON, a value of the wrong type, or fields left out.

import type { FieldConfig } from '../config/types.js';
import type { SqlType } from '../schema/sql-types.js';

export type SampleKind = 'valid' | 'bad-json' | 'wrong-type' | 'missing-field';
export const SAMPLE_KINDS: readonly SampleKind[] = ['valid', 'bad-json', 'wrong-type', 'missing-field'];

export interface SampleRecord {
  index: number;
  kind: SampleKind;
  key: string;
  value: string;
  /** The object that was serialized (absent for bad JSON). */
  fields?: Record<string, unknown>;
}

/** 2026-01-01T00:00:00Z: sample timestamps advance from here, 37 ms per record. */
export const SAMPLE_EPOCH_MS = 1_767_225_600_000;

const VOCAB: Record<string, readonly string[]> = {
  event_name: ['bid_placed', 'bid_won', 'bid_lost', 'auction_view', 'bid_retracted'],
  event_type: ['page_view', 'click', 'scroll', 'add_to_cart', 'purchase', 'signup'],
  platform: ['ios', 'android', 'web', 'mobile', 'desktop'],
  device_type: ['iOS', 'Android', 'mobile', 'desktop', 'tablet', 'smart-tv'],
};

/** mulberry32: a small, fast, seedable PRNG; plenty for sample data. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)]!;
}

function valueFor(name: string, type: SqlType, index: number, r: () => number): unknown {
  const vocab = VOCAB[name];
  if (vocab && type.kind === 'string') return pick(r, vocab);
  if (name === 'timestamp_ms' || name.endsWith('_ms')) return SAMPLE_EPOCH_MS + index * 37;
  if (name === 'session_id') return `s-${Math.floor(r() * 0xffffff).toString(16).padStart(6, '0')}`;
  if (name === 'page_url') return `https://shop.example/p/${Math.floor(r() * 5000)}`;
  if (name === 'user_id') return 1 + Math.floor(r() * 100_000);
  if (name === 'city_id') return 1 + Math.floor(r() * 500);
  switch (type.kind) {
    case 'string':
      return `${name}-${Math.floor(r() * 1000)}`;
    case 'boolean':
      return r() < 0.5;
    case 'int':
      return Math.floor(r() * 100_000);
    case 'bigint':
      return Math.floor(r() * 1_000_000_000);
    case 'float':
    case 'double':
      return Math.round(r() * 1_000_000) / 100;
    case 'decimal':
      return Number((r() * 10 ** Math.min(type.precision - type.scale, 6)).toFixed(type.scale));
    case 'date':
      return new Date(SAMPLE_EPOCH_MS + index * 86_400_000).toISOString().slice(0, 10);
    case 'time':
      return new Date(SAMPLE_EPOCH_MS + index * 1000).toISOString().slice(11, 23);
    case 'timestamp':
    case 'timestamp_ltz':
      return new Date(SAMPLE_EPOCH_MS + index * 37).toISOString().replace('T', ' ').replace('Z', '');
    case 'bytes':
    case 'fixed':
      return Buffer.from(`${name}${index}`).toString('base64');
    case 'array':
      return [valueFor(`${name}_item`, type.element, index, r), valueFor(`${name}_item`, type.element, index + 1, r)];
    case 'map':
      return { a: valueFor(`${name}_v`, type.value, index, r) };
    case 'row':
      return Object.fromEntries(type.fields.map((f) => [f.name, valueFor(f.name, f.type, index, r)]));
  }
}

/** A value that the field's declared type cannot take. */
function wrongValueFor(type: SqlType): unknown {
  switch (type.kind) {
    case 'string':
      return { not: 'a string' };
    case 'boolean':
      return 'perhaps';
    default:
      return 'not-a-number';
  }
}

export interface SampleOptions {
  seed: number;
  malformedRatio: number;
}

/** Record `index` of a deterministic stream for the given source schema. */
export function sampleRecord(schema: readonly FieldConfig[], index: number, options: SampleOptions): SampleRecord {
  // One PRNG per record, seeded from (seed, index): records can be regenerated independently.
  const r = rng(Math.imul(options.seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35));
  const fields: Record<string, unknown> = {};
  for (const f of schema) fields[f.name] = valueFor(f.name, f.type, index, r);
  const key = String(fields.user_id ?? fields.session_id ?? index);

  let kind: SampleKind = 'valid';
  if (options.malformedRatio > 0 && r() < options.malformedRatio) kind = pick(r, ['bad-json', 'wrong-type', 'missing-field'] as const);
  switch (kind) {
    case 'valid':
      return { index, kind, key, value: JSON.stringify(fields), fields };
    case 'bad-json': {
      const text = JSON.stringify(fields);
      return { index, kind, key, value: text.slice(0, Math.max(1, Math.floor(text.length / 2))) };
    }
    case 'wrong-type': {
      // Prefer a non-string field: a string field given an object is wrong too, but numbers are
      // the common real-world case.
      const target = schema.find((f) => f.type.kind !== 'string') ?? schema[0]!;
      fields[target.name] = wrongValueFor(target.type);
      return { index, kind, key, value: JSON.stringify(fields), fields };
    }
    case 'missing-field': {
      const dropped = schema[Math.floor(r() * schema.length)]!;
      delete fields[dropped.name];
      return { index, kind, key, value: JSON.stringify(fields), fields };
    }
  }
}
