// The `kafka:` section of topics.yaml resolved: bootstrap servers, security (TLS files made
// absolute against the config folder and checked to exist, SASL mechanisms and their secrets).

import { existsSync } from 'node:fs';
import path from 'node:path';
import type { RawTopicsFile } from './schema.js';
import type { SourceFile } from './source-file.js';
import type { KafkaConfig } from './types.js';

/** A PEM file named under kafka.security: made absolute against the config folder, and present. */
function securityFile(file: SourceFile, key: string, value: string | undefined, configDir: string): string | undefined | false {
  if (value === undefined) return undefined;
  const absolute = path.resolve(configDir, value);
  if (!existsSync(absolute)) {
    file.add(['kafka', 'security', key], `file ${absolute} not found`, { accepted: 'the path of a PEM file, absolute or relative to the config folder', showFound: false });
    return false;
  }
  return absolute;
}

export function resolveKafka(file: SourceFile, raw: RawTopicsFile['kafka'], configDir: string, warnings: string[]): KafkaConfig | undefined {
  const servers = (Array.isArray(raw.bootstrap_servers) ? raw.bootstrap_servers : raw.bootstrap_servers.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  let ok = true;
  servers.forEach((server) => {
    if (!/^[^\s:]+:\d{1,5}$/.test(server) && !/^\[[0-9a-f:]+\]:\d{1,5}$/i.test(server)) {
      file.add(['kafka', 'bootstrap_servers'], `${JSON.stringify(server)} is not host:port`, {
        accepted: 'host:port entries separated by commas, e.g. "b-1.msk.example:9098,b-2.msk.example:9098"',
      });
      ok = false;
    }
  });
  const sec = raw.security ?? {};
  const protocol = sec.protocol ?? 'PLAINTEXT';
  const usesSasl = protocol === 'SASL_SSL' || protocol === 'SASL_PLAINTEXT';
  if (usesSasl && sec.sasl_mechanism === undefined) {
    file.add(['kafka', 'security', 'sasl_mechanism'], `required when protocol is ${protocol}`, {
      accepted: 'AWS_MSK_IAM, PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512',
    });
    ok = false;
  }
  if (!usesSasl && sec.sasl_mechanism !== undefined) {
    file.add(['kafka', 'security', 'sasl_mechanism'], `has no effect with protocol ${protocol}`, {
      accepted: 'protocol SASL_SSL or SASL_PLAINTEXT with a SASL mechanism',
    });
    ok = false;
  }
  if (sec.sasl_mechanism === 'AWS_MSK_IAM' && protocol !== 'SASL_SSL') {
    file.add(['kafka', 'security', 'protocol'], 'AWS_MSK_IAM needs TLS', { accepted: '"SASL_SSL"' });
    ok = false;
  }
  const needsPassword = sec.sasl_mechanism === 'PLAIN' || sec.sasl_mechanism?.startsWith('SCRAM');
  if (needsPassword && (sec.username === undefined || sec.password === undefined)) {
    file.add(['kafka', 'security'], `${sec.sasl_mechanism} needs username and password`, {
      accepted: 'username and password (e.g. "${KAFKA_PASSWORD}")',
      showFound: false,
    });
    ok = false;
  }
  const usesTls = protocol === 'SSL' || protocol === 'SASL_SSL';
  const tlsKeys = ['ssl_ca_location', 'ssl_certificate_location', 'ssl_key_location', 'ssl_key_password'] as const;
  for (const key of tlsKeys) {
    if (!usesTls && sec[key] !== undefined) {
      file.add(['kafka', 'security', key], `has no effect with protocol ${protocol}`, { accepted: 'protocol SSL or SASL_SSL', showFound: false });
      ok = false;
    }
  }
  if ((sec.ssl_certificate_location === undefined) !== (sec.ssl_key_location === undefined)) {
    file.add(['kafka', 'security'], 'a client certificate needs its key, and a key its certificate', {
      accepted: 'both ssl_certificate_location and ssl_key_location, or neither',
      showFound: false,
    });
    ok = false;
  }
  if (sec.ssl_key_password !== undefined && sec.ssl_key_location === undefined) {
    file.add(['kafka', 'security', 'ssl_key_password'], 'there is no key to decrypt', { accepted: 'ssl_key_location with it', showFound: false });
    ok = false;
  }
  const tlsFile = (key: 'ssl_ca_location' | 'ssl_certificate_location' | 'ssl_key_location') =>
    usesTls ? securityFile(file, key, sec[key], configDir) : undefined;
  const caFile = tlsFile('ssl_ca_location');
  const certFile = tlsFile('ssl_certificate_location');
  const keyFile = tlsFile('ssl_key_location');
  if (caFile === false || certFile === false || keyFile === false) ok = false;
  if (sec.sasl_jaas_config !== undefined || sec.sasl_client_callback_handler_class !== undefined) {
    warnings.push(
      `${file.displayName}: kafka.security.sasl_jaas_config and sasl_client_callback_handler_class are Java client settings and are ignored; IAM signing uses the AWS default credential chain`,
    );
  }
  if (!ok) return undefined;
  return {
    bootstrapServers: servers,
    clientId: raw.client_id ?? 'streamberg',
    security: {
      protocol,
      saslMechanism: sec.sasl_mechanism,
      region: sec.region,
      username: sec.username,
      password: sec.password,
      sslCaLocation: caFile || undefined,
      sslCertificateLocation: certFile || undefined,
      sslKeyLocation: keyFile || undefined,
      sslKeyPassword: sec.ssl_key_password,
    },
  };
}
