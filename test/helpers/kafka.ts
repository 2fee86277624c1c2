// The real Kafka broker for integration tests: scripts/kafka.sh starts it once (idempotent) and
// `npm test` stops it at the end. Topics get unique names so that runs never see each other's data.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ROOT } from './build.js';

export const KAFKA_PORT = Number(process.env.KAFKA_PORT ?? 9092);
export const BOOTSTRAP = `127.0.0.1:${KAFKA_PORT}`;

export function ensureKafka(): string {
  execFileSync('bash', [path.join(ROOT, 'scripts/kafka.sh'), 'start'], {
    env: { ...process.env, KAFKA_PORT: String(KAFKA_PORT) },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 300_000,
  });
  return BOOTSTRAP;
}

export function uniqueTopic(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}
