import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/project-root.js';
import { ensureBuilt } from '../helpers/build.js';

// Every thread that reads or writes table files imports file-io, and every thread that talks to
// Kafka imports the client with its MSK IAM token source; the AWS SDK weighs ~10 MB of heap in
// each. A fresh Node.js process (the test runner's own module graph would hide what is loaded)
// records every module it resolves, uses local files and makes an IAM token source without
// asking it for a token, then makes its first S3 request.
const SCRIPT = `
import { registerHooks } from 'node:module';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
const loaded = new Set();
registerHooks({
  resolve(specifier, context, next) {
    const r = next(specifier, context);
    const m = /node_modules\\/((?:@aws-sdk\\/[^/]+)|aws-msk-iam-sasl-signer-js)\\//.exec(r.url);
    if (m) loaded.add(m[1]);
    return r;
  },
});
const { LocalFileIO, S3FileIO } = await import(process.env.FILE_IO);
const { mskIamTokenSource } = await import(process.env.OAUTH);
const dir = mkdtempSync(path.join(os.tmpdir(), 'sdk-loading-'));
const local = new LocalFileIO();
await local.write('file://' + dir + '/a', new Uint8Array([1, 2, 3]));
await local.read('file://' + dir + '/a');
mskIamTokenSource('eu-west-1');
const before = [...loaded];
const s3 = new S3FileIO({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
await s3.delete('s3://bucket/key');
console.log(JSON.stringify({ before, after: [...loaded] }));
`;

describe('the AWS SDK is loaded by the first use that needs it', () => {
  it('is not loaded by local table files or an IAM token source never asked for a token; the first S3 request loads the S3 client', () => {
    ensureBuilt();
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', SCRIPT], {
      env: {
        ...process.env,
        FILE_IO: path.join(PROJECT_ROOT, 'dist/src/iceberg/file-io.js'),
        OAUTH: path.join(PROJECT_ROOT, 'dist/src/kafka/oauth-bearer.js'),
        // No retries against the closed port: the request fails once and delete() swallows it.
        AWS_MAX_ATTEMPTS: '1',
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const { before, after } = JSON.parse(out.trim().split('\n').at(-1)!) as { before: string[]; after: string[] };
    expect(before).toEqual([]);
    expect(after).toContain('@aws-sdk/client-s3');
  });
});
