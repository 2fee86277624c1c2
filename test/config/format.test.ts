import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, formatIssue, type ConfigIssue } from '../../src/config/issues.js';
import { loadConfig } from '../../src/config/load.js';
import { SHIPPED_TOPICS, tempProject } from '../helpers/project.js';

const own = (configDir: string) => ({ configDir, projectRoot: path.dirname(configDir), env: {} });

/** The shipped topics.yaml with the user-events topic's `format: "json"` line replaced by `lines`. */
function withFormat(lines: string): string {
  const at = SHIPPED_TOPICS.lastIndexOf('    format: "json"\n');
  return SHIPPED_TOPICS.slice(0, at) + lines + SHIPPED_TOPICS.slice(at + '    format: "json"\n'.length);
}

function load(lines: string) {
  return loadConfig(own(tempProject({ topics: withFormat(lines) }))).config.pipelines.at(-1)!;
}

function issues(lines: string): string[] {
  try {
    loadConfig(own(tempProject({ topics: withFormat(lines) })));
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i: ConfigIssue) => formatIssue(i));
    throw err;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('topic formats', () => {
  it('resolves Flink CSV options to characters and flags', () => {
    const p = load(`    format: csv
    format_options:
      csv.field-delimiter: "\\\\t"
      csv.quote-character: "'"
      csv.allow-comments: "true"
      csv.null-literal: "N/A"
      csv.escape-character: "\\\\"
`);
    expect(p.format).toBe('csv');
    expect(p.csv).toEqual({ fieldDelimiter: '\t', quoteCharacter: "'", allowComments: true, ignoreParseErrors: false, nullLiteral: 'N/A', escapeCharacter: '\\', arrayElementDelimiter: ';' });
  });

  it('names an unknown or malformed CSV option and what would be accepted', () => {
    const found = issues(`    format: csv
    format_options:
      csv.field-delimiter: ";;"
      csv.allow-coments: "true"
`);
    expect(found.join('\n')).toMatch(/format_options\.csv\.field-delimiter: not one character.*one character/);
    expect(found.join('\n')).toMatch(/format_options\.csv\.allow-coments: not an option of format csv.*csv\.allow-comments/);
  });

  it('refuses options of another format', () => {
    const found = issues(`    format: json
    format_options:
      csv.field-delimiter: ";"
`);
    expect(found.join('\n')).toMatch(/not an option of format json/);
  });

  it('resolves avro-confluent with a registry, subject defaulting to <topic>-value', () => {
    const p = load(`    format: avro-confluent
    schema_registry:
      url: http://127.0.0.1:8081/apis/ccompat/v7/
      basic_auth: { username: u, password: p }
`);
    expect(p.format).toBe('avro-confluent');
    expect(p.avro?.registry).toMatchObject({ url: 'http://127.0.0.1:8081/apis/ccompat/v7', subject: `${p.topic}-value`, basicAuth: { username: 'u', password: 'p' }, timeoutMs: 10_000 });
  });

  it('needs a registry for avro-confluent, and refuses one elsewhere', () => {
    expect(issues('    format: avro-confluent\n').join('\n')).toMatch(/format avro-confluent needs schema_registry/);
    expect(issues('    format: avro\n    schema_registry: { url: "http://x" }\n').join('\n')).toMatch(/schema_registry: has no effect with format avro/);
  });

  it('takes an avro_schema as JSON text, and refuses one that is not Avro', () => {
    const p = load(`    format: avro
    avro_schema: '{"type":"record","name":"E","fields":[{"name":"event_type","type":"string"}]}'
`);
    expect(p.avro?.schema).toMatchObject({ name: 'E' });
    expect(issues(`    format: avro\n    avro_schema: '{"type":"recrd"}'\n`).join('\n')).toMatch(/avro_schema: not an Avro schema/);
  });
});
