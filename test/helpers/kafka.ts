// The real Kafka broker for integration tests: scripts/kafka.sh starts it once (idempotent) and
// `npm test` stops it at the end. Topics get unique names so that runs never see each other's data.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ROOT } from './build.js';

export const KAFKA_PORT = Number(process.env.KAFKA_PORT ?? 9092);
export const BOOTSTRAP = `127.0.0.1:${KAFKA_PORT}`;

// The broker's other listeners and their test credentials, as scripts/kafka.sh makes them.
export const SASL_SSL_BOOTSTRAP = `127.0.0.1:${process.env.KAFKA_SASL_SSL_PORT ?? KAFKA_PORT + 2}`;
export const SSL_BOOTSTRAP = `127.0.0.1:${process.env.KAFKA_SSL_PORT ?? KAFKA_PORT + 3}`;
export const OAUTH_BOOTSTRAP = `127.0.0.1:${process.env.KAFKA_OAUTH_PORT ?? KAFKA_PORT + 4}`;
export const SCRAM_USER = process.env.KAFKA_SCRAM_USER ?? 'streamberg';
export const SCRAM_PASSWORD = process.env.KAFKA_SCRAM_PASSWORD ?? 'streamberg-test-scram';
/** The test CA (ca.pem), the client's certificate and key (client.pem, client.key). */
export const TLS_DIR = path.join(ROOT, '.cache/kafka/tls');

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
