// `npm run inspect [-- --config DIR] [--rows N]`: what landed in each pipeline's tables — row
// count, snapshots, the Kafka offsets and epoch of the last checkpoint, and a few rows read from
// a data file — read through our own catalog and hyparquet, no query engine needed.

import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { parquetReadObjects } from 'hyparquet';
import { ConfigError, formatIssue } from '../config/issues.js';
import { loadConfig } from '../config/load.js';
import { isStreamError } from '../errors.js';
import { createCatalog } from '../iceberg/catalogs.js';
import { type Catalog } from '../iceberg/catalog.js';
import { decodeAvro } from '../iceberg/avro.js';
import { decodeManifestList } from '../iceberg/manifest.js';
import { mainSnapshot } from '../iceberg/metadata.js';
import { deadLetterSink } from '../config/dead-letter-sink.js';
import { EPOCH_KEY, offsetsKey } from '../iceberg/snapshot-offsets.js';

function show(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) {
    const text = Buffer.from(value).toString('utf8');
    return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
  }
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

async function sampleRows(catalog: Catalog, manifestList: string, n: number): Promise<Array<Record<string, unknown>>> {
  const manifests = await decodeManifestList(await catalog.io.read(manifestList));
  for (const m of manifests) {
    for (const { record } of await decodeAvro(await catalog.io.read(m.manifest_path))) {
      const file = (record.data_file as { file_path: string }).file_path;
      const bytes = await catalog.io.read(file);
      const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      const rows = (await parquetReadObjects({ file: buffer, rowEnd: n })) as Array<Record<string, unknown>>;
      if (rows.length > 0) return rows;
    }
  }
  return [];
}

async function describeTable(catalog: Catalog, namespace: string, name: string, groupId: string, rows: number): Promise<string[]> {
  let table;
  try {
    table = await catalog.loadTable({ namespace, name });
  } catch (err) {
    if (isStreamError(err) && err.code === 'TABLE_NOT_FOUND') return [`${namespace}.${name}: not created yet`];
    throw err;
  }
  const m = table.metadata;
  const head = mainSnapshot(m);
  const out = [`${namespace}.${name}  (${m.location})`];
  if (!head) return [...out, '  no snapshot yet: nothing committed'];
  const s = head.summary;
  out.push(`  ${s['total-records'] ?? '?'} rows in ${s['total-data-files'] ?? '?'} data files, ${m.snapshots.length} snapshots`);
  const key = offsetsKey(groupId);
  if (s[key] !== undefined) out.push(`  last checkpoint: epoch ${s[EPOCH_KEY] ?? '?'}, offsets ${s[key]}`);
  out.push(`  last commit: ${new Date(head['timestamp-ms']).toISOString()}, +${s['added-records'] ?? 0} rows`);
  const sample = await sampleRows(catalog, head['manifest-list'], rows);
  for (const r of sample) out.push(`  | ${Object.entries(r).map(([k, v]) => `${k}=${show(v)}`).join('  ')}`);
  return out;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', default: 'config' }, rows: { type: 'string', default: '3' } } });
  let config;
  try {
    config = loadConfig({ configDir: path.resolve(values.config) }).config;
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const issue of err.issues) process.stderr.write(`${formatIssue(issue)}\n`);
      return 2;
    }
    throw err;
  }
  const catalog = await createCatalog(config.catalog);
  try {
    for (const p of config.pipelines.filter((x) => x.enabled)) {
      process.stdout.write(`${p.topic} → ${p.sink.tableName}\n`);
      const lines = await describeTable(catalog, config.catalog.namespace, p.sink.tableName, p.groupId, Number(values.rows));
      const dlq = deadLetterSink(p);
      if (dlq) lines.push(...(await describeTable(catalog, config.catalog.namespace, dlq.tableName, p.groupId, 1)));
      process.stdout.write(`${lines.map((l) => `  ${l}`).join('\n')}\n\n`);
    }
  } finally {
    await catalog.close();
  }
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`inspect failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
