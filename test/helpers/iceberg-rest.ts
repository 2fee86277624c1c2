// Apache Iceberg's reference REST catalog on 127.0.0.1 (scripts/iceberg-rest.sh), started and
// stopped by the test file that needs it, with its catalog file and warehouse in a temporary
// folder of its own.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './build.js';
import { freePort } from './moto.js';

export interface IcebergRestServer {
  uri: string;
  /** The server's warehouse folder (a file:// warehouse). */
  warehouse: string;
  stop(): void;
}

export async function startIcebergRest(): Promise<IcebergRestServer> {
  const port = process.env['ICEBERG_REST_PORT'] ? Number(process.env['ICEBERG_REST_PORT']) : await freePort();
  const state = mkdtempSync(path.join(os.tmpdir(), 'iceberg-rest-'));
  const env = { ...process.env, ICEBERG_REST_PORT: String(port), ICEBERG_REST_STATE: state };
  const script = path.join(ROOT, 'scripts/iceberg-rest.sh');
  execFileSync('bash', [script, 'start'], { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 600_000 });
  return {
    uri: `http://127.0.0.1:${port}`,
    warehouse: path.join(state, 'warehouse'),
    stop() {
      execFileSync('bash', [script, 'stop'], { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
      rmSync(state, { recursive: true, force: true });
    },
  };
}
