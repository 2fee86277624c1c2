// The one place that turns KafkaConfig into a kafkajs client. kafkajs 2.2.4 is its last release;
// the rest of the code reaches Kafka through the small interfaces in this folder, so the client
// library can be swapped without touching the runtime.

import { Kafka, logLevel, type KafkaConfig as KafkajsConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';
import type { KafkaConfig } from '../config/types.js';

/** kafkajs log entries as one JSON line each on stderr, at WARN and above unless asked. */
let verboseConnections = false;

function jsonLogCreator() {
  return ({ namespace, level, log }: LogEntry) => {
    const { message, timestamp, ...rest } = log;
    // kafkajs logs every error response at the connection level, including the ones it then
    // retries (a coordinator still loading, a leader election): only the outcome matters here.
    if (namespace === 'Connection' && level < logLevel.DEBUG && !verboseConnections) return;
    const name = level === logLevel.ERROR ? 'error' : level === logLevel.WARN ? 'warn' : level === logLevel.INFO ? 'info' : 'debug';
    process.stderr.write(`${JSON.stringify({ time: timestamp, level: name, component: `kafkajs.${namespace}`, msg: message, ...rest })}\n`);
  };
}

function sasl(config: KafkaConfig): SASLOptions | undefined {
  const s = config.security;
  switch (s.saslMechanism) {
    case undefined:
      return undefined;
    case 'AWS_MSK_IAM': {
      // MSK IAM over SASL/OAUTHBEARER: the token is a SigV4-signed URL made from the default AWS
      // credential chain, refreshed by kafkajs when it reconnects.
      const region = s.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
      if (region === undefined) throw new Error('AWS_MSK_IAM needs kafka.security.region or AWS_REGION');
      return {
        mechanism: 'oauthbearer',
        oauthBearerProvider: async () => {
          const token = await generateAuthToken({ region });
          return { value: token.token };
        },
      };
    }
    case 'PLAIN':
      return { mechanism: 'plain', username: s.username ?? '', password: s.password ?? '' };
    case 'SCRAM-SHA-256':
      return { mechanism: 'scram-sha-256', username: s.username ?? '', password: s.password ?? '' };
    case 'SCRAM-SHA-512':
      return { mechanism: 'scram-sha-512', username: s.username ?? '', password: s.password ?? '' };
  }
}

export function createKafka(config: KafkaConfig, options: { clientId?: string; verbose?: boolean } = {}): Kafka {
  verboseConnections = options.verbose ?? false;
  const ssl = config.security.protocol === 'SSL' || config.security.protocol === 'SASL_SSL';
  const kafkajsConfig: KafkajsConfig = {
    clientId: options.clientId ?? config.clientId,
    brokers: config.bootstrapServers,
    ssl,
    logLevel: options.verbose ? logLevel.INFO : logLevel.WARN,
    logCreator: jsonLogCreator,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 10_000 },
  };
  const auth = sasl(config);
  if (auth) kafkajsConfig.sasl = auth;
  return new Kafka(kafkajsConfig);
}
