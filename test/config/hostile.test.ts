// Configuration files written to hurt: alias bombs, oversized files, table names that sanitize
// to something the user did not write. Each is a configuration problem naming the file.

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, formatIssue, type ConfigIssue } from '../../src/config/issues.js';
import { loadConfig } from '../../src/config/load.js';
import { MAX_CONFIG_FILE_BYTES } from '../../src/config/source-file.js';
import { SHIPPED_TOPICS, tempProject } from '../helpers/project.js';

const own = (configDir: string) => ({ configDir, projectRoot: path.dirname(configDir), env: {} });

function issuesOf(configDir: string): ConfigIssue[] {
  try {
    loadConfig(own(configDir));
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected the configuration to be rejected');
}

/** Nine levels of nine aliases each: 9^9 (387 million) strings once expanded. */
export const ALIAS_BOMB = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
].join('\n');

describe('hostile configuration files', () => {
  it('an alias bomb is a configuration error naming the file, not a ReferenceError', () => {
    const dir = tempProject({ topics: ALIAS_BOMB });
    const issues = issuesOf(dir);
    expect(issues).toHaveLength(1);
    const text = formatIssue(issues[0]!);
    expect(text).toMatch(/topics\.yaml: \(top level\): cannot be expanded: .*alias.*; expected at most 100 alias expansions$/i);
  });

  it('a file over the cap is refused before it is parsed, naming file, size and cap', () => {
    const dir = tempProject({ topics: SHIPPED_TOPICS });
    const big = `${SHIPPED_TOPICS}\n# ${'x'.repeat(MAX_CONFIG_FILE_BYTES)}\n`;
    writeFileSync(path.join(dir, 'topics.yaml'), big);
    const issues = issuesOf(dir);
    expect(issues).toHaveLength(1);
    expect(formatIssue(issues[0]!)).toMatch(
      new RegExp(`topics\\.yaml: \\(top level\\): the file is ${Buffer.byteLength(big)} bytes, over the limit of 1048576 bytes \\(1 MiB\\) for a configuration file; expected a file of at most 1 MiB$`),
    );
  });

  it('flow collections nested 300,000 deep are refused before the parser recurses into them', () => {
    const dir = tempProject({ topics: `kafka: ${'['.repeat(300_000)}${']'.repeat(300_000)}\n` });
    const issues = issuesOf(dir);
    expect(issues.map(formatIssue)).toEqual([
      expect.stringMatching(/topics\.yaml:1:\d+: \(top level\): flow collections \(\[\.\.\.\] or \{\.\.\.\}\) nested more than 64 levels deep; expected at most 64 levels$/),
    ]);
  });

  it('brackets inside quotes and comments do not count as nesting', () => {
    const deepText = '['.repeat(100);
    const topics = `# ${deepText}\n${SHIPPED_TOPICS.replace('table_name: "parsed_events"', `table_name: "parsed_events" # ${deepText}`)}\nx_note: '${deepText}'\n`;
    const issues = issuesOf(tempProject({ topics }));
    expect(issues.map((i) => i.problem)).toEqual(['unknown key "x_note"']);
  });

  it('a file just under the cap is read', () => {
    const dir = tempProject({ topics: SHIPPED_TOPICS });
    const pad = MAX_CONFIG_FILE_BYTES - Buffer.byteLength(SHIPPED_TOPICS) - 4;
    writeFileSync(path.join(dir, 'topics.yaml'), `${SHIPPED_TOPICS}\n# ${'x'.repeat(pad)}\n`);
    expect(() => loadConfig(own(dir))).not.toThrow();
  });
});

describe('table names that sanitize to something else', () => {
  const withTable = (name: string) => SHIPPED_TOPICS.replace('table_name: "parsed_events"', `table_name: ${JSON.stringify(name)}`);

  it.each(['..', '-', '_', '.-.'])('%j names nothing and is refused, naming the field', (name) => {
    const issues = issuesOf(tempProject({ topics: withTable(name) }));
    expect(issues.map(formatIssue)).toEqual([
      expect.stringMatching(
        new RegExp(`topics\\.yaml:\\d+:\\d+: topics\\.bid-events\\.sink\\.table_name: ${JSON.stringify(name).replace(/[.]/g, '\\.')} becomes "_+" after replacing '-' and '\\.' with '_', which names nothing; expected a name with at least one letter or digit`),
      ),
    ]);
  });

  it('an empty table name is refused', () => {
    const issues = issuesOf(tempProject({ topics: withTable('') }));
    expect(issues.map((i) => i.path.join('.'))).toContain('topics.bid-events.sink.table_name');
  });

  it('a name with - or . is still accepted as the PyFlink job did, with a warning naming both spellings', () => {
    const { config, warnings } = loadConfig(own(tempProject({ topics: withTable('bids-v1.raw') })));
    expect(config.pipelines[0]!.sink.tableName).toBe('bids_v1_raw');
    expect(warnings).toEqual([
      expect.stringMatching(/topics\.yaml:\d+:\d+: topics\.bid-events\.sink\.table_name: table "bids-v1\.raw" is written as "bids_v1_raw" \('-' and '\.' become '_', as the PyFlink job did\)$/),
    ]);
  });

  it('a dead-letter table that names nothing is refused too', () => {
    const topics = SHIPPED_TOPICS.replace('    sink:\n      table_name: "parsed_events"', '    dead_letter:\n      table: ".."\n    sink:\n      table_name: "parsed_events"');
    const issues = issuesOf(tempProject({ topics }));
    expect(issues.map(formatIssue).join('\n')).toMatch(/dead_letter\.table: "\.\." becomes "__"/);
  });

  it('a plain name gives no warning', () => {
    expect(loadConfig(own(tempProject({ topics: SHIPPED_TOPICS }))).warnings).toEqual([]);
  });
});
