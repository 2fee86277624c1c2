// Vended credentials: a REST catalog's load-table answer carries the table's storage settings
// (`config`: s3.endpoint, s3.access-key-id, s3.secret-access-key, s3.session-token,
// s3.path-style-access). The catalog's own file IO and the sink's (fileIOFor with the table's
// properties) must write the table's files with exactly those, to a moto S3 server, while the
// AWS default chain has no credentials and no endpoint points at moto. The catalog endpoint here
// is a small local one, because Iceberg's reference server vends nothing.

import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestCatalogConfig } from '../../src/config/types.js';
import { RestCatalog } from '../../src/iceberg/catalog-rest.js';
import { fileIOFor } from '../../src/iceberg/file-io.js';
import { newTableMetadata, serializeTableMetadata } from '../../src/iceberg/metadata.js';
import { buildSchema } from '../../src/iceberg/schema.js';
import { fields } from '../helpers/iceberg-fixtures.js';
import { startMoto, type MotoServer } from '../helpers/moto.js';
import { ensurePythonEnv } from '../helpers/python.js';

const AWS_VARS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'AWS_EC2_METADATA_DISABLED', 'AWS_REGION'];

describe('vended credentials from a REST catalog', { timeout: 120_000 }, () => {
  let moto: MotoServer;
  let server: Server;
  let uri: string;
  const saved: Record<string, string | undefined> = {};
  const { schema, lastColumnId } = buildSchema(fields({ id: 'BIGINT' }));
  const metadata = newTableMetadata({ location: 's3://vended-bucket/ns/t', schema, lastColumnId, spec: { 'spec-id': 0, fields: [] }, properties: {} });

  beforeAll(async () => {
    ensurePythonEnv();
    for (const k of AWS_VARS) saved[k] = process.env[k];
    moto = await startMoto();
    await new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }).send(
      new CreateBucketCommand({ Bucket: 'vended-bucket' }),
    );
    // No credentials anywhere in the default chain: only vended ones can sign.
    for (const k of AWS_VARS) delete process.env[k];
    process.env['AWS_SHARED_CREDENTIALS_FILE'] = '/nonexistent/credentials';
    process.env['AWS_CONFIG_FILE'] = '/nonexistent/config';
    process.env['AWS_EC2_METADATA_DISABLED'] = 'true';
    server = createServer((req, res) => {
      const path = req.url!.split('?')[0]!;
      const json = (status: number, body: string) => res.writeHead(status, { 'content-type': 'application/json' }).end(body);
      if (path === '/v1/config') return json(200, '{"defaults":{},"overrides":{}}');
      if (path === '/v1/namespaces/ns/tables/t' && req.headers['x-iceberg-access-delegation'] === 'vended-credentials') {
        const config = {
          's3.endpoint': moto.endpoint,
          's3.path-style-access': 'true',
          's3.region': 'us-east-1',
          's3.access-key-id': 'vended-key',
          's3.secret-access-key': 'vended-secret',
          's3.session-token': 'vended-session',
        };
        return json(200, `{"metadata-location":"s3://vended-bucket/ns/t/metadata/00000-x.metadata.json","metadata":${serializeTableMetadata(metadata)},"config":${JSON.stringify(config)}}`);
      }
      return json(404, '{"error":{"message":"not here","type":"NoSuchTableException","code":404}}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 900_000);

  afterAll(async () => {
    for (const k of AWS_VARS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await moto?.stop();
  });

  it('the catalog’s and the sink’s file IO write the table’s files with the vended settings', async () => {
    const config: RestCatalogConfig = { type: 'rest', name: 'r', uri, namespace: 'ns', auth: { kind: 'none' }, headers: {}, properties: {} };
    const catalog = await RestCatalog.connect(config);
    // Before the table is loaded nothing says where moto is or how to sign: the write fails.
    await expect(catalog.io.write('s3://vended-bucket/ns/t/metadata/early.avro', new Uint8Array([0]))).rejects.toThrow();

    const table = await catalog.loadTable({ namespace: 'ns', name: 't' });
    expect(table.fileIO?.['s3.session-token']).toBe('vended-session');
    await catalog.io.write('s3://vended-bucket/ns/t/metadata/manifest.avro', new Uint8Array([1, 2, 3]));
    await fileIOFor(config, table.fileIO).write('s3://vended-bucket/ns/t/data/part-0.parquet', new Uint8Array([4, 5]));

    const reader = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const get = async (key: string) => [...(await (await reader.send(new GetObjectCommand({ Bucket: 'vended-bucket', Key: key }))).Body!.transformToByteArray())];
    expect(await get('ns/t/metadata/manifest.avro')).toEqual([1, 2, 3]);
    expect(await get('ns/t/data/part-0.parquet')).toEqual([4, 5]);
  });
});
