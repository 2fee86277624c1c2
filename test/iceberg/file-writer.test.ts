// Files written part by part (FileIO.create): appended on disk, a multipart upload on S3 (a moto
// server on 127.0.0.1), so a data file's bytes leave memory as its row groups are finished.

import { CreateBucketCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStreamError } from '../../src/errors.js';
import { LocalFileIO, S3FileIO, S3_PART_BYTES, openFileWriter, type FileIO } from '../../src/iceberg/file-io.js';
import { startMoto, useFakeAwsCredentials, type MotoServer } from '../helpers/moto.js';
import { ensurePythonEnv } from '../helpers/python.js';

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const joined = (parts: Uint8Array[]) => Buffer.concat(parts.map((p) => Buffer.from(p)));

describe('LocalFileIO.create', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'file-writer-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('appends the parts in order, making the directories; an existing name is refused, never overwritten', async () => {
    const io = new LocalFileIO();
    const uri = `file://${dir}/a/b/f.parquet`;
    const parts = [bytes(10, 1), bytes(100_000, 2), bytes(3, 3)];
    const w = await io.create(uri);
    for (const p of parts) await w.write(p);
    await w.close();
    expect(readFileSync(`${dir}/a/b/f.parquet`).equals(joined(parts))).toBe(true);
    const err = await io.create(uri).catch((e: unknown) => e);
    expect(isStreamError(err) && err.code).toBe('STORAGE_FAILED');
    expect(readFileSync(`${dir}/a/b/f.parquet`).equals(joined(parts))).toBe(true);
  });

  it('abort removes what was written', async () => {
    const io = new LocalFileIO();
    const w = await io.create(`file://${dir}/gone.parquet`);
    await w.write(bytes(1000, 4));
    await w.abort();
    expect(await io.list(`file://${dir}`)).not.toContainEqual(expect.objectContaining({ uri: `file://${dir}/gone.parquet` }));
  });

  it('a FileIO without create gets a writer that writes the parts whole at close', async () => {
    const written = new Map<string, Uint8Array>();
    const io: FileIO = {
      write: async (uri, b) => void written.set(uri, b),
      read: async (uri) => written.get(uri)!,
      delete: async () => {},
      list: async () => [],
    };
    const w = await openFileWriter(io, 'mem://f');
    await w.write(bytes(5, 1));
    await w.write(bytes(7, 2));
    expect(written.size).toBe(0);
    await w.close();
    expect(Buffer.from(written.get('mem://f')!).equals(joined([bytes(5, 1), bytes(7, 2)]))).toBe(true);
  });
});

describe('S3FileIO.create against moto', { timeout: 120_000 }, () => {
  let moto: MotoServer;
  let client: S3Client;
  let io: S3FileIO;
  beforeAll(async () => {
    ensurePythonEnv();
    useFakeAwsCredentials();
    moto = await startMoto();
    client = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true });
    await client.send(new CreateBucketCommand({ Bucket: 'warehouse' }));
    io = new S3FileIO({ region: 'us-east-1', endpoint: moto.endpoint });
  }, 600_000);
  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });

  it('a file smaller than a part is one object; a larger one is uploaded in parts, the same bytes either way', async () => {
    const small = [bytes(1000, 1), bytes(2000, 2)];
    const w1 = await io.create('s3://warehouse/t/small.parquet');
    for (const p of small) await w1.write(p);
    await w1.close();
    expect(Buffer.from(await io.read('s3://warehouse/t/small.parquet')).equals(joined(small))).toBe(true);

    // Two and a half parts, in writes that do not line up with the part size.
    const big = Array.from({ length: 10 }, (_, i) => bytes(Math.floor((S3_PART_BYTES * 2.5) / 10), i));
    const w2 = await io.create('s3://warehouse/t/big.parquet');
    for (const [i, p] of big.entries()) {
      await w2.write(p);
      // Under way as a multipart upload once a part is full, before close.
      if (i === 4) expect((await client.send(new ListMultipartUploadsCommand({ Bucket: 'warehouse' }))).Uploads?.map((u) => u.Key)).toEqual(['t/big.parquet']);
    }
    await w2.close();
    expect(Buffer.from(await io.read('s3://warehouse/t/big.parquet')).equals(joined(big))).toBe(true);
    expect((await client.send(new ListMultipartUploadsCommand({ Bucket: 'warehouse' }))).Uploads ?? []).toEqual([]);
  });

  it('abort ends the upload and leaves no object', async () => {
    const w = await io.create('s3://warehouse/t/aborted.parquet');
    await w.write(bytes(S3_PART_BYTES + 10, 9));
    await w.abort();
    expect((await client.send(new ListMultipartUploadsCommand({ Bucket: 'warehouse' }))).Uploads ?? []).toEqual([]);
    expect((await io.list('s3://warehouse/t')).map((f) => f.uri)).not.toContain('s3://warehouse/t/aborted.parquet');
  });
});
