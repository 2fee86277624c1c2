// Reading and writing table files by URI: `file://` on the local filesystem, `s3://` through
// the AWS SDK (endpoint overridable for local S3 servers). Files are written whole, or in parts
// as they are made (`create`: appended on disk, a multipart upload on S3), and never
// overwritten by design: every data, manifest and metadata file gets a fresh unique name, so a
// retried write can never clobber a file that a committed snapshot points to.

import type { S3Client } from '@aws-sdk/client-s3';
import { mkdir, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CatalogConfig } from '../config/types.js';
import { StreamError } from '../errors.js';

export interface FileIO {
  write(uri: string, bytes: Uint8Array): Promise<void>;
  /** A new file written in parts; without it, `openFileWriter` collects the parts for `write`. */
  create?(uri: string): Promise<FileWriter>;
  read(uri: string): Promise<Uint8Array>;
  /** Best effort: used to drop files of a commit attempt that lost; missing files are fine. */
  delete(uri: string): Promise<void>;
  /** Every file under a directory URI, recursively; an absent directory lists as empty. */
  list(prefix: string): Promise<ListedFile[]>;
}

/**
 * A file written part by part, in order. Readers may see nothing of it, or a part of it, until
 * `close` resolves; a table file is in no snapshot until then anyway.
 */
export interface FileWriter {
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
  /** Drops what was written; best effort, never throws. */
  abort(): Promise<void>;
}

/** `io.create(uri)`, or a writer that keeps the parts and writes them whole at `close`. */
export function openFileWriter(io: FileIO, uri: string): Promise<FileWriter> {
  return io.create ? io.create(uri) : Promise.resolve(wholeFileWriter(io, uri));
}

/** A writer that keeps the parts in memory and writes the file whole at `close`: no handle held. */
export function wholeFileWriter(io: FileIO, uri: string): FileWriter {
  const parts: Uint8Array[] = [];
  return {
    write: async (bytes) => void parts.push(bytes),
    close: () => io.write(uri, concatParts(parts)),
    abort: async () => void parts.splice(0),
  };
}

/** The parts as one array (the part itself when there is one). */
export function concatParts(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export interface ListedFile {
  uri: string;
  size: number;
  lastModifiedMs: number;
}

function storageError(op: string, uri: string, cause: unknown): StreamError {
  return new StreamError('STORAGE_FAILED', `${op} ${uri} failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
    cause,
    details: { uri },
  });
}

/**
 * The filesystem path of a `file:` URI, taken literally: no percent-decoding. pyiceberg and
 * pyarrow open `file:///a%20b` as the file named `a%20b`, so decoding here would make this
 * runtime and those readers disagree about where a file is.
 */
export function localPath(uri: string): string {
  if (uri.startsWith('file://')) return uri.slice('file://'.length);
  if (uri.startsWith('file:')) return uri.slice('file:'.length);
  throw new StreamError('STORAGE_FAILED', `not a file: URI: ${uri}`, { retryable: false, details: { uri } });
}

/** A `file://` URI for a warehouse given as a (possibly percent-encoded) file URL: decoded once, then kept literal. */
export function literalFileUri(url: string): string {
  return `file://${fileURLToPath(url)}`.replace(/\/+$/, '');
}

export class LocalFileIO implements FileIO {
  async write(uri: string, bytes: Uint8Array): Promise<void> {
    const path = localPath(uri);
    try {
      await mkdir(dirname(path), { recursive: true });
      // `wx`: a name collision is a bug, never a silent overwrite.
      await writeFile(path, bytes, { flag: 'wx' });
    } catch (err) {
      throw storageError('write', uri, err);
    }
  }

  async create(uri: string): Promise<FileWriter> {
    const path = localPath(uri);
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      await mkdir(dirname(path), { recursive: true });
      handle = await open(path, 'wx');
    } catch (err) {
      throw storageError('write', uri, err);
    }
    return {
      async write(bytes) {
        try {
          for (let at = 0; at < bytes.length; ) at += (await handle.write(bytes, at, bytes.length - at)).bytesWritten;
        } catch (err) {
          throw storageError('write', uri, err);
        }
      },
      async close() {
        try {
          await handle.close();
        } catch (err) {
          throw storageError('write', uri, err);
        }
      },
      async abort() {
        await handle.close().catch(() => {});
        await rm(path, { force: true }).catch(() => {});
      },
    };
  }

  async read(uri: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(await readFile(localPath(uri)));
    } catch (err) {
      throw storageError('read', uri, err);
    }
  }

  async delete(uri: string): Promise<void> {
    await rm(localPath(uri), { force: true });
  }

  async list(prefix: string): Promise<ListedFile[]> {
    const root = localPath(prefix);
    let names: string[];
    try {
      names = await readdir(root, { recursive: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw storageError('list', prefix, err);
    }
    const out: ListedFile[] = [];
    for (const name of names) {
      const path = `${root.replace(/\/+$/, '')}/${name}`;
      const st = await stat(path);
      if (st.isFile()) out.push({ uri: `file://${path}`, size: st.size, lastModifiedMs: st.mtimeMs });
    }
    return out;
  }
}

export interface S3FileIOOptions {
  region: string;
  endpoint?: string | undefined;
  /** Path-style URLs (`endpoint/bucket/key`); default: with an endpoint override. */
  forcePathStyle?: boolean | undefined;
  /** Fixed credentials (a REST catalog's vended ones); default: the AWS default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined } | undefined;
}

export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3a?:\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!m) throw new StreamError('STORAGE_FAILED', `not an s3:// URI: ${uri}`, { retryable: false, details: { uri } });
  return { bucket: m[1]!, key: m[2]! };
}

type S3Sdk = typeof import('@aws-sdk/client-s3');

/** Part size of S3FileIO's multipart uploads: what a file being written holds in memory at most. */
export const S3_PART_BYTES = 8 * 1024 * 1024;
let s3Sdk: Promise<S3Sdk> | undefined;

export class S3FileIO implements FileIO {
  /**
   * The AWS SDK's S3 client is loaded on first use, not with this file: every thread that writes
   * or reads table files imports it (the main thread, the sink and rewrite threads), and with a
   * file:// warehouse none needs S3; loaded, it holds ~10 MB of heap in each (benchmarks/README.md).
   */
  private s3: Promise<{ sdk: S3Sdk; client: S3Client }> | undefined;

  constructor(private readonly options: S3FileIOOptions) {}

  private connect(): Promise<{ sdk: S3Sdk; client: S3Client }> {
    const o = this.options;
    this.s3 ??= (s3Sdk ??= import('@aws-sdk/client-s3')).then((sdk) => ({
      sdk,
      client: new sdk.S3Client({
        region: o.region,
        ...(o.endpoint ? { endpoint: o.endpoint } : {}),
        forcePathStyle: o.forcePathStyle ?? o.endpoint !== undefined,
        ...(o.credentials ? { credentials: o.credentials } : {}),
      }),
    }));
    return this.s3;
  }

  async write(uri: string, bytes: Uint8Array): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    try {
      const { sdk, client } = await this.connect();
      await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentLength: bytes.length }));
    } catch (err) {
      throw storageError('write', uri, err);
    }
  }

  /**
   * A multipart upload in parts of S3_PART_BYTES (S3 takes parts of 5 MiB and more, the last
   * excepted), begun when the first part is full: a file smaller than a part is one PutObject.
   */
  async create(uri: string): Promise<FileWriter> {
    const { bucket, key } = parseS3Uri(uri);
    const s3 = await this.connect().catch((err: unknown) => {
      throw storageError('write', uri, err);
    });
    const { sdk, client } = s3;
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    let uploadId: string | undefined;
    const parts: Array<{ PartNumber: number; ETag: string }> = [];
    const upload = async (body: Uint8Array): Promise<void> => {
      uploadId ??= (await client.send(new sdk.CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))).UploadId!;
      const PartNumber = parts.length + 1;
      const out = await client.send(new sdk.UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber, Body: body, ContentLength: body.length }));
      parts.push({ PartNumber, ETag: out.ETag! });
    };
    const take = (): Uint8Array => {
      const body = concatParts(pending);
      pending = [];
      pendingBytes = 0;
      return body;
    };
    return {
      async write(bytes) {
        pending.push(bytes);
        pendingBytes += bytes.length;
        if (pendingBytes < S3_PART_BYTES) return;
        try {
          await upload(take());
        } catch (err) {
          throw storageError('write', uri, err);
        }
      },
      async close() {
        try {
          if (uploadId === undefined) {
            const body = take();
            await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length }));
            return;
          }
          if (pendingBytes > 0) await upload(take());
          await client.send(new sdk.CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
        } catch (err) {
          throw storageError('write', uri, err);
        }
      },
      async abort() {
        pending = [];
        if (uploadId === undefined) return;
        await client.send(new sdk.AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => {});
      },
    };
  }

  async read(uri: string): Promise<Uint8Array> {
    const { bucket, key } = parseS3Uri(uri);
    try {
      const { sdk, client } = await this.connect();
      const out = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
      return await out.Body!.transformToByteArray();
    } catch (err) {
      throw storageError('read', uri, err);
    }
  }

  async delete(uri: string): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    try {
      const { sdk, client } = await this.connect();
      await client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch {
      // Best effort: an orphan file is harmless, a failed cleanup must not fail a commit.
    }
  }

  async list(prefix: string): Promise<ListedFile[]> {
    const { bucket, key } = parseS3Uri(prefix.endsWith('/') ? prefix : `${prefix}/`);
    const out: ListedFile[] = [];
    let token: string | undefined;
    try {
      const { sdk, client } = await this.connect();
      do {
        const page = await client.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: key, ContinuationToken: token }));
        for (const o of page.Contents ?? []) {
          out.push({ uri: `s3://${bucket}/${o.Key}`, size: o.Size ?? 0, lastModifiedMs: o.LastModified?.getTime() ?? 0 });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      throw storageError('list', prefix, err);
    }
    return out;
  }
}

/** A FileIO for every scheme a table may use. */
export class RoutingFileIO implements FileIO {
  constructor(
    private readonly local: FileIO,
    private readonly s3: FileIO | undefined,
  ) {}

  private pick(uri: string): FileIO {
    if (uri.startsWith('file:')) return this.local;
    if (/^s3a?:/.test(uri) && this.s3) return this.s3;
    throw new StreamError('STORAGE_FAILED', `no file IO for ${uri}`, { retryable: false, details: { uri } });
  }

  write(uri: string, bytes: Uint8Array): Promise<void> {
    return this.pick(uri).write(uri, bytes);
  }
  create(uri: string): Promise<FileWriter> {
    return openFileWriter(this.pick(uri), uri);
  }
  read(uri: string): Promise<Uint8Array> {
    return this.pick(uri).read(uri);
  }
  delete(uri: string): Promise<void> {
    return this.pick(uri).delete(uri);
  }
  list(prefix: string): Promise<ListedFile[]> {
    return this.pick(prefix).list(prefix);
  }
}

/**
 * A FileIO from Iceberg's FileIO properties, as a REST catalog's config and load-table answers
 * carry them (and as pyiceberg and Java spell them): `s3.endpoint`, `s3.region` (or
 * `client.region`), `s3.path-style-access`, and vended credentials `s3.access-key-id`,
 * `s3.secret-access-key`, `s3.session-token`. Without keys, the AWS default chain.
 */
export function fileIOFromProperties(props: Readonly<Record<string, string>>, fallbackRegion?: string): FileIO {
  const region = props['s3.region'] ?? props['client.region'] ?? fallbackRegion ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'us-east-1';
  const accessKeyId = props['s3.access-key-id'];
  const secretAccessKey = props['s3.secret-access-key'];
  const pathStyle = props['s3.path-style-access'];
  return new RoutingFileIO(
    new LocalFileIO(),
    new S3FileIO({
      region,
      endpoint: props['s3.endpoint'],
      forcePathStyle: pathStyle === undefined ? undefined : pathStyle === 'true',
      credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, sessionToken: props['s3.session-token'] } : undefined,
    }),
  );
}

/**
 * Routes each file to the FileIO of the table whose location holds it (the longest matching
 * location), else to a default: a REST catalog vends credentials per table, so one catalog
 * may need a differently credentialed S3 client per table.
 */
export class LocationFileIO implements FileIO {
  private readonly byLocation = new Map<string, { key: string; io: FileIO }>();

  constructor(private readonly fallback: FileIO) {}

  /** Sets the FileIO for files under `location`; `key` says when it must be rebuilt (new credentials). */
  set(location: string, key: string, make: () => FileIO): void {
    const prefix = location.replace(/\/+$/, '') + '/';
    if (this.byLocation.get(prefix)?.key !== key) this.byLocation.set(prefix, { key, io: make() });
  }

  private pick(uri: string): FileIO {
    let best: { length: number; io: FileIO } | undefined;
    for (const [prefix, entry] of this.byLocation) {
      if (uri.startsWith(prefix) && (!best || prefix.length > best.length)) best = { length: prefix.length, io: entry.io };
    }
    return best?.io ?? this.fallback;
  }

  write(uri: string, bytes: Uint8Array): Promise<void> {
    return this.pick(uri).write(uri, bytes);
  }
  create(uri: string): Promise<FileWriter> {
    return openFileWriter(this.pick(uri), uri);
  }
  read(uri: string): Promise<Uint8Array> {
    return this.pick(uri).read(uri);
  }
  delete(uri: string): Promise<void> {
    return this.pick(uri).delete(uri);
  }
  list(prefix: string): Promise<ListedFile[]> {
    return this.pick(prefix.endsWith('/') ? prefix : `${prefix}/`).list(prefix);
  }
}

/**
 * The FileIO for a catalog's tables, without the catalog itself: what a sink on a worker thread
 * needs to write data files while the catalog lives on the main thread. `tableProperties` are
 * the FileIO properties the catalog handed out with the table (a REST catalog's vended
 * credentials), over the catalog's own.
 */
export function fileIOFor(config: CatalogConfig, tableProperties?: Readonly<Record<string, string>>): FileIO {
  if (config.type === 's3tables') return new RoutingFileIO(new LocalFileIO(), new S3FileIO({ region: config.region, endpoint: config.s3Endpoint }));
  if (config.type === 'rest') {
    const signingRegion = config.auth.kind === 'sigv4' ? config.auth.region : undefined;
    return fileIOFromProperties({ ...config.properties, ...tableProperties }, signingRegion);
  }
  const region = process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'us-east-1';
  return new RoutingFileIO(new LocalFileIO(), new S3FileIO({ region }));
}
