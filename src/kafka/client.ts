// The one place that turns KafkaConfig into a kafkajs client. kafkajs 2.2.4 is its last release;
// the rest of the code reaches Kafka through the small interfaces in this folder, so the client
// library can be swapped without touching the runtime.

import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Kafka, logLevel, type KafkaConfig as KafkajsConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import { SecretScrubber } from '../config/secrets.js';
import type { KafkaConfig } from '../config/types.js';
import { StreamError } from '../errors.js';
import { mskIamTokenSource, oauthBearerProvider, type TokenSource } from './oauth-bearer.js';
// Before any client exists: the fix to kafkajs' idle timer loop (kafkajs-request-queue.ts).
import './kafkajs-request-queue.js';

/** kafkajs log entries as one JSON line each on stderr, at WARN and above unless asked. */
let verboseConnections = false;

function jsonLogCreator(scrubber: SecretScrubber) {
  // kafkajs' entries may quote a SASL exchange or a broker's answer: cleaned of this client's secrets.
  const safe = (_: string, v: unknown): unknown => (typeof v === 'string' ? scrubber.scrub(v) : v);
  return () => ({ namespace, level, log }: LogEntry) => {
    const { message, timestamp, ...rest } = log;
    // kafkajs logs every error response at the connection level, including the ones it then
    // retries (a coordinator still loading, a leader election): only the outcome matters here.
    if (namespace === 'Connection' && level < logLevel.DEBUG && !verboseConnections) return;
    // Likewise kafkajs' note on each retry of a broker connection (a TLS handshake refused eight
    // times would print eight errors) and its SASL authenticator's own line: what ends the
    // retries is thrown, and the runtime logs it once, with its code. (kafkajs' top-level
    // warnings come with no namespace at all.)
    if (!verboseConnections && ((namespace === 'BrokerPool' && 'retryCount' in rest) || String(namespace).startsWith('SaslAuthenticator'))) return;
    const name = level === logLevel.ERROR ? 'error' : level === logLevel.WARN ? 'warn' : level === logLevel.INFO ? 'info' : 'debug';
    process.stderr.write(`${JSON.stringify({ time: timestamp, level: name, component: `kafkajs.${namespace}`, msg: message, ...rest }, safe)}\n`);
  };
}

function sasl(config: KafkaConfig, tokenSource: TokenSource | undefined): SASLOptions | undefined {
  const s = config.security;
  switch (s.saslMechanism) {
    case undefined:
      return undefined;
    case 'AWS_MSK_IAM': {
      // MSK IAM over SASL/OAUTHBEARER: a SigV4-presigned URL made from the default AWS credential
      // chain, a new one each time kafkajs authenticates (oauth-bearer.ts says why).
      const region = s.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
      if (region === undefined) throw new StreamError('CONFIG_INVALID', 'AWS_MSK_IAM needs kafka.security.region or AWS_REGION');
      return { mechanism: 'oauthbearer', oauthBearerProvider: oauthBearerProvider(tokenSource ?? mskIamTokenSource(region), `AWS_MSK_IAM (${region})`) };
    }
    case 'PLAIN':
      return { mechanism: 'plain', username: s.username ?? '', password: s.password ?? '' };
    case 'SCRAM-SHA-256':
      return { mechanism: 'scram-sha-256', username: s.username ?? '', password: s.password ?? '' };
    case 'SCRAM-SHA-512':
      return { mechanism: 'scram-sha-512', username: s.username ?? '', password: s.password ?? '' };
  }
}

/** A PEM file named by kafka.security, read when the client is made. */
function pem(file: string, setting: string): Buffer {
  try {
    return readFileSync(file);
  } catch (cause) {
    throw new StreamError('CONFIG_INVALID', `kafka.security.${setting}: ${file} cannot be read`, { cause });
  }
}

/** TLS for SSL and SASL_SSL: Node's bundled CAs unless a CA file is named; a client certificate if one is. */
function tls(config: KafkaConfig): ConnectionOptions | boolean {
  const s = config.security;
  if (s.protocol !== 'SSL' && s.protocol !== 'SASL_SSL') return false;
  if (s.sslCaLocation === undefined && s.sslCertificateLocation === undefined) return true;
  const options: ConnectionOptions = {};
  if (s.sslCaLocation !== undefined) options.ca = [pem(s.sslCaLocation, 'ssl_ca_location')];
  if (s.sslCertificateLocation !== undefined) options.cert = pem(s.sslCertificateLocation, 'ssl_certificate_location');
  if (s.sslKeyLocation !== undefined) options.key = pem(s.sslKeyLocation, 'ssl_key_location');
  if (s.sslKeyPassword !== undefined) options.passphrase = s.sslKeyPassword;
  return options;
}

export interface CreateKafkaOptions {
  clientId?: string;
  verbose?: boolean;
  /**
   * Where SASL/OAUTHBEARER tokens come from instead of AWS MSK IAM signing: the port through
   * which the re-authentication tests hand kafkajs short-lived tokens a local broker accepts.
   */
  tokenSource?: TokenSource;
}

export function createKafka(config: KafkaConfig, options: CreateKafkaOptions = {}): Kafka {
  verboseConnections = options.verbose ?? false;
  const kafkajsConfig: KafkajsConfig = {
    clientId: options.clientId ?? config.clientId,
    brokers: config.bootstrapServers,
    ssl: tls(config),
    logLevel: options.verbose ? logLevel.INFO : logLevel.WARN,
    logCreator: jsonLogCreator(SecretScrubber.of(config)),
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 10_000 },
  };
  const auth = sasl(config, options.tokenSource);
  if (auth) kafkajsConfig.sasl = auth;
  return new Kafka(kafkajsConfig);
}
