// transformations.yaml entries that need no build: inline SQL, a .sql file, and a module beside
// the configuration (.mjs, and .ts run by Node.js with its types stripped), loaded from a config
// folder outside the project and run on real batches.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/issues.js';
import { StreamError } from '../../src/errors.js';
import { packRawBatch } from '../../src/kafka/raw-batch.js';
import { buildTransform } from '../../src/transform/batch-transform.js';
import { SHIPPED_TOPICS } from '../helpers/project.js';
import { rowsOf } from '../transform/helpers.js';

const BID_SQL = `SELECT event_name, user_id, city_id, platform, session_id,
         TO_TIMESTAMP_LTZ(timestamp_ms, 3) AS event_time,
         CURRENT_TIMESTAMP AS ingestion_time
  FROM {source_table}`;

/** A config folder of its own, outside the project, holding the given files. */
function configDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'streamberg-cfg-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);
const bidRecord = '{"event_name":"bid","user_id":7,"city_id":3,"platform":"ios","session_id":"s","timestamp_ms":1706975400000}';
const userRecord = (device: string) => `{"event_type":"view","user_id":9,"page_url":"/p","device_type":"${device}","session_id":"s","timestamp_ms":1706975400000}`;

function load(dir: string) {
  return loadConfig({ configDir: dir, env: { WAREHOUSE_DIR: path.join(dir, 'wh') } }).config;
}

async function run(dir: string, topic: string, values: string[]) {
  const config = load(dir);
  const pipeline = config.pipelines.find((p) => p.topic === topic)!;
  const t = await buildTransform({ pipeline, entry: config.transformations[pipeline.transformation]! });
  return t.run(packRawBatch(topic, 0, values.map((value, k) => ({ offset: k, timestamp: NOW, value }))), NOW);
}

describe('transformations without a build', () => {
  it('runs inline SQL (a block scalar) and a module beside the configuration written in TypeScript', async () => {
    const dir = configDir({
      'topics.yaml': SHIPPED_TOPICS,
      'transformations.yaml': `transformations:
  bid_events_raw:
    description: "bids, inline"
    sql: |
      ${BID_SQL.split('\n').join('\n      ')}
  user_events_enriched:
    class: "MobileFlag"
    file: "lib/mobile-flag.ts"
  new_transformation:
    sql: "SELECT * FROM {source_table}"
`,
      // Erasable TypeScript only (type annotations): Node.js strips them, no build, no loader.
      'lib/mobile-flag.ts': `
interface Row { [k: string]: unknown }
export class MobileFlag {
  map(row: Row): Row {
    const { timestamp_ms, ...rest } = row;
    const device = String(row.device_type ?? '').toLowerCase();
    return { ...rest, is_mobile: device === 'ios' || device === 'android', event_time: timestamp_ms === null ? null : new Date(Number(timestamp_ms)), ingestion_time: new Date(${NOW}) };
  }
}
`,
    });
    const bids = await run(dir, 'bid-events', [bidRecord]);
    expect(bids.stats.rows).toBe(1);
    expect(rowsOf(bids.rows)[0]).toMatchObject({ event_name: 'bid', user_id: 7n, platform: 'ios' });
    const users = await run(dir, 'user-events', [userRecord('Android'), userRecord('Desktop')]);
    expect(rowsOf(users.rows).map((r) => r.is_mobile)).toEqual([true, false]);
  });

  it('runs SQL from a .sql file and a plain JavaScript module', async () => {
    const dir = configDir({
      'topics.yaml': SHIPPED_TOPICS,
      'transformations.yaml': `transformations:
  bid_events_raw:
    sql_file: "sql/bids.sql"
  user_events_enriched:
    class: "Upper"
    file: "upper.mjs"
  new_transformation:
    sql: "SELECT * FROM {source_table}"
`,
      'sql/bids.sql': `${BID_SQL.replace('FROM {source_table}', 'FROM {source_table} WHERE platform <> \'web\'')}\n`,
      'upper.mjs': `export class Upper {
  getTransformationSql(t) { return "SELECT UPPER(event_type) AS event_type, user_id, page_url, device_type, session_id, FALSE AS is_mobile, TO_TIMESTAMP_LTZ(timestamp_ms, 3) AS event_time, CURRENT_TIMESTAMP AS ingestion_time FROM " + t; }
}
`,
    });
    const bids = await run(dir, 'bid-events', [bidRecord, bidRecord.replace('"ios"', '"web"')]);
    expect([bids.stats.rows, bids.stats.filtered]).toEqual([1, 1]);
    const users = await run(dir, 'user-events', [userRecord('iOS')]);
    expect(rowsOf(users.rows)[0]).toMatchObject({ event_type: 'VIEW' });
  });

  it('names the file and line of a SQL error, inline or in a .sql file', async () => {
    const dir = configDir({
      'topics.yaml': SHIPPED_TOPICS,
      'transformations.yaml': `transformations:
  bid_events_raw:
    sql_file: "bids.sql"
  user_events_enriched:
    sql: |
      SELECT event_type,
        NO_SUCH_FUNCTION(user_id) AS user_id
      FROM {source_table}
  new_transformation:
    sql: "SELECT * FROM {source_table}"
`,
      'bids.sql': 'SELECT event_name,\n  user_id,\n  no_such_column AS city_id\nFROM {source_table}\n',
    });
    const failure = async (topic: string) => {
      try {
        await run(dir, topic, []);
      } catch (e) {
        return e as StreamError;
      }
      throw new Error('expected a compile error');
    };
    const inFile = await failure('bid-events');
    expect(inFile.message).toMatch(/bids\.sql:3: transformation 'bid_events_raw': /);
    expect(inFile.message).toContain('no_such_column');
    const inline = await failure('user-events');
    // `sql: |` is on line 6; the SQL's second line is the file's seventh.
    expect(inline.message).toMatch(/transformations\.yaml:7: transformation 'user_events_enriched': /);
  });

  it('refuses an entry that names two things, a class beside SQL, and a module outside the configuration folder', () => {
    const dir = configDir({
      'topics.yaml': SHIPPED_TOPICS,
      'transformations.yaml': `transformations:
  bid_events_raw:
    sql: "SELECT * FROM {source_table}"
    sql_file: "x.sql"
  user_events_enriched:
    class: "X"
    sql: "SELECT * FROM {source_table}"
  new_transformation:
    class: "Y"
    file: "../elsewhere.mjs"
`,
    });
    let err: unknown;
    try {
      load(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const text = (err as ConfigError).message;
    expect(text).toMatch(/transformations\.bid_events_raw: gives sql and sql_file; only one may be given/);
    expect(text).toMatch(/transformations\.user_events_enriched\.class: a SQL transformation has no class/);
    expect(text).toMatch(/transformations\.new_transformation\.file: the module is outside the configuration folder/);
  });
});
