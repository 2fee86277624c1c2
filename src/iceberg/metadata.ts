// Table metadata, format v2 (Iceberg table spec, "Table Metadata" and Appendix C). Metadata
// files are immutable: every change writes a new file and the catalog swaps the pointer.
// Snapshot ids are 63-bit and other writers (pyiceberg, Java) use the whole range, so JSON is
// parsed and printed with integers beyond 2^53 kept exact as bigint.

import { randomUUID } from 'node:crypto';
import { StreamError } from '../errors.js';
import type { PartitionSpec } from './partition.js';
import type { IcebergSchema } from './schema.js';

export interface Snapshot {
  'snapshot-id': bigint;
  'parent-snapshot-id'?: bigint | undefined;
  'sequence-number': number;
  'timestamp-ms': number;
  'manifest-list': string;
  summary: Record<string, string> & { operation: string };
  'schema-id'?: number;
}

export interface SnapshotRef {
  'snapshot-id': bigint;
  type: 'branch' | 'tag';
  [key: string]: unknown;
}

export interface TableMetadata {
  'format-version': 2;
  'table-uuid': string;
  location: string;
  'last-sequence-number': number;
  'last-updated-ms': number;
  'last-column-id': number;
  'current-schema-id': number;
  schemas: IcebergSchema[];
  'default-spec-id': number;
  'partition-specs': PartitionSpec[];
  'last-partition-id': number;
  'default-sort-order-id': number;
  'sort-orders': Array<{ 'order-id': number; fields: unknown[] }>;
  properties: Record<string, string>;
  'current-snapshot-id'?: bigint | null;
  snapshots: Snapshot[];
  'snapshot-log': Array<{ 'timestamp-ms': number; 'snapshot-id': bigint }>;
  'metadata-log': Array<{ 'timestamp-ms': number; 'metadata-file': string }>;
  refs: Record<string, SnapshotRef>;
  [key: string]: unknown;
}

/**
 * Defaults that every table this runtime creates carries: the PyFlink job's (v2, Parquet,
 * Snappy), and old metadata files removed on commit, 20 kept — a streaming writer commits every
 * checkpoint, and Iceberg's defaults (never delete, log 100) leave one more file per commit.
 * Manifest merging needs no property: Iceberg's defaults (on, 100 manifests, 8 MiB) apply.
 */
export const DEFAULT_TABLE_PROPERTIES: Record<string, string> = {
  'write.format.default': 'parquet',
  'write.parquet.compression-codec': 'snappy',
  'write.metadata.delete-after-commit.enabled': 'true',
  'write.metadata.previous-versions-max': '20',
};

export function newTableMetadata(args: {
  location: string;
  schema: IcebergSchema;
  lastColumnId: number;
  spec: PartitionSpec;
  properties: Record<string, string>;
}): TableMetadata {
  const lastPartitionId = args.spec.fields.reduce((m, f) => Math.max(m, f['field-id']), 999);
  return {
    'format-version': 2,
    'table-uuid': randomUUID(),
    location: args.location.replace(/\/+$/, ''),
    'last-sequence-number': 0,
    'last-updated-ms': Date.now(),
    'last-column-id': args.lastColumnId,
    'current-schema-id': args.schema['schema-id'],
    schemas: [args.schema],
    'default-spec-id': args.spec['spec-id'],
    'partition-specs': [args.spec],
    'last-partition-id': lastPartitionId,
    'default-sort-order-id': 0,
    'sort-orders': [{ 'order-id': 0, fields: [] }],
    properties: { ...DEFAULT_TABLE_PROPERTIES, ...args.properties },
    'current-snapshot-id': null,
    snapshots: [],
    'snapshot-log': [],
    'metadata-log': [],
    refs: {},
  };
}

export function currentSchema(m: TableMetadata): IcebergSchema {
  const s = m.schemas.find((x) => x['schema-id'] === m['current-schema-id']);
  if (!s) throw new StreamError('METADATA_INVALID', `table ${m.location}: no schema with id ${m['current-schema-id']}`);
  return s;
}

export function defaultSpec(m: TableMetadata): PartitionSpec {
  const s = m['partition-specs'].find((x) => x['spec-id'] === m['default-spec-id']);
  if (!s) throw new StreamError('METADATA_INVALID', `table ${m.location}: no partition spec with id ${m['default-spec-id']}`);
  return s;
}

/** The snapshot that the `main` branch points to, if any. */
export function mainSnapshot(m: TableMetadata): Snapshot | undefined {
  const id = m.refs['main']?.['snapshot-id'] ?? m['current-snapshot-id'] ?? undefined;
  if (id === undefined || id === null || id === -1n) return undefined;
  return m.snapshots.find((s) => s['snapshot-id'] === id);
}

/**
 * `base` with `snapshot` added and made `main`'s head: the snapshot list, the snapshot log, the
 * sequence number and the update time follow it (what every snapshot producer commits).
 */
export function withNewMainSnapshot(base: TableMetadata, snapshot: Snapshot): TableMetadata {
  const id = snapshot['snapshot-id'];
  const now = snapshot['timestamp-ms'];
  return {
    ...base,
    'last-sequence-number': snapshot['sequence-number'],
    'last-updated-ms': now,
    'current-snapshot-id': id,
    snapshots: [...base.snapshots, snapshot],
    'snapshot-log': [...base['snapshot-log'], { 'timestamp-ms': now, 'snapshot-id': id }],
    refs: { ...base.refs, main: { 'snapshot-id': id, type: 'branch' } },
  };
}

/** Walks `main` from its head through parent links; returns the first snapshot that matches. */
export function findInAncestry(m: TableMetadata, match: (s: Snapshot) => boolean): Snapshot | undefined {
  const byId = new Map(m.snapshots.map((s) => [s['snapshot-id'], s]));
  let s = mainSnapshot(m);
  const seen = new Set<bigint>();
  while (s && !seen.has(s['snapshot-id'])) {
    if (match(s)) return s;
    seen.add(s['snapshot-id']);
    const parentId = s['parent-snapshot-id'];
    s = parentId === undefined || parentId === null ? undefined : byId.get(parentId);
  }
  return undefined;
}

/**
 * The newest snapshot on `main` whose summary has `key` (e.g. this pipeline's offsets key).
 * Snapshots by other writers (compaction, other pipelines) are skipped. Expired ancestors end
 * the walk: the result is then undefined, as if the key were never committed.
 */
export function latestSnapshotWithSummaryKey(m: TableMetadata, key: string): Snapshot | undefined {
  return findInAncestry(m, (s) => Object.prototype.hasOwnProperty.call(s.summary, key));
}

/** The next metadata file name: `<location>/metadata/<version+1, 5 digits>-<uuid>.metadata.json`. */
export function nextMetadataLocation(m: TableMetadata, previous: string | undefined): string {
  const prev = previous ? /(\d+)-[^/]*\.metadata\.json$/.exec(previous) : null;
  const version = prev ? Number(prev[1]) + 1 : 0;
  const dir = m.properties['write.metadata.path'] ?? `${m.location}/metadata`;
  return `${dir}/${String(version).padStart(5, '0')}-${randomUUID()}.metadata.json`;
}

/**
 * A copy of `base` with one more entry in the metadata log (the file `base` was read from),
 * bounded by `write.metadata.previous-versions-max` as the spec's writers do.
 */
export function withMetadataLog(base: TableMetadata, baseLocation: string | undefined): TableMetadata {
  const next = structuredClone(base);
  if (baseLocation) {
    next['metadata-log'] = [...base['metadata-log'], { 'timestamp-ms': base['last-updated-ms'], 'metadata-file': baseLocation }];
    const max = Number(base.properties['write.metadata.previous-versions-max'] ?? 100);
    if (next['metadata-log'].length > max) next['metadata-log'] = next['metadata-log'].slice(-max);
  }
  next['last-updated-ms'] = Math.max(Date.now(), base['last-updated-ms']);
  return next;
}

const BIG = '\u0001bigint:';
const BIG_FIELDS = new Set(['snapshot-id', 'parent-snapshot-id', 'current-snapshot-id']);

/**
 * JSON.parse with integers that do not fit a double kept exact: long integer literals outside
 * strings are quoted with a marker before parsing and turned into bigint after.
 */
export function parseJsonBig(text: string): unknown {
  let out = '';
  let i = 0;
  let last = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      const start = i;
      i++;
      while (i < text.length && /[0-9eE.+-]/.test(text[i]!)) i++;
      const lit = text.slice(start, i);
      if (/^-?\d{16,}$/.test(lit)) {
        out += text.slice(last, start) + JSON.stringify(BIG + lit);
        last = i;
      }
    } else i++;
  }
  out += text.slice(last);
  return JSON.parse(out, (_k, v) => (typeof v === 'string' && v.startsWith(BIG) ? BigInt(v.slice(BIG.length)) : v));
}

export function stringifyJsonBig(value: unknown, indent = 2): string {
  const json = JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? BIG + v.toString() : v), indent);
  return json.replace(/"\\u0001bigint:(-?\d+)"/g, '$1');
}

/** Parses a metadata file, normalising every snapshot id to bigint. */
export function parseTableMetadata(text: string, location: string): TableMetadata {
  let raw: unknown;
  try {
    raw = parseJsonBig(text);
  } catch (err) {
    throw new StreamError('METADATA_INVALID', `metadata file ${location} is not JSON`, { cause: err, details: { location } });
  }
  return tableMetadataFromJson(raw, location);
}

/**
 * Table metadata from JSON already parsed with `parseJsonBig` (a metadata file, or the `metadata`
 * of a REST catalog's answer), every snapshot id normalised to bigint.
 */
export function tableMetadataFromJson(json: unknown, location: string): TableMetadata {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new StreamError('METADATA_INVALID', `metadata ${location} is not a JSON object`, { details: { location } });
  }
  const raw = json as Record<string, unknown>;
  if (raw['format-version'] !== 2) {
    throw new StreamError('METADATA_INVALID', `metadata file ${location}: format-version ${String(raw['format-version'])}, only 2 is written here`, {
      details: { location },
    });
  }
  const toBig = (o: unknown): void => {
    if (Array.isArray(o)) o.forEach(toBig);
    else if (o && typeof o === 'object') {
      for (const [k, v] of Object.entries(o)) {
        if (BIG_FIELDS.has(k) && typeof v === 'number') (o as Record<string, unknown>)[k] = BigInt(v);
        else if (k !== 'properties' && k !== 'summary' && k !== 'schemas') toBig(v);
      }
    }
  };
  toBig(raw);
  const m = raw as TableMetadata;
  m.snapshots ??= [];
  m['snapshot-log'] ??= [];
  m['metadata-log'] ??= [];
  m.refs ??= {};
  m.properties ??= {};
  if (m['current-snapshot-id'] === -1n) m['current-snapshot-id'] = null;
  return m;
}

export function serializeTableMetadata(m: TableMetadata): string {
  // Java's parser before 1.4 wants a number here; -1 is what Iceberg's writers print for "none".
  const current = m['current-snapshot-id'] ?? -1n;
  return stringifyJsonBig({ ...m, 'current-snapshot-id': current });
}
