// The same events in JSON, CSV and Avro give the same rows through a SQL and a TypeScript
// transformer: the format changes only the decoder.
import { describe, expect, it } from 'vitest';
import type { PipelineConfig } from '../../src/config/types.js';
import { avroSchemaOf, avroTypeOf } from '../../src/schema/avro-schema.js';
import { DEFAULT_CSV_OPTIONS } from '../../src/transform/decode/csv-decoder.js';
import { compileSqlTransform, transformFor } from '../../src/transform/batch-transform.js';
import { packRawBatch } from '../../src/kafka/raw-batch.js';
import { BaseTransformer, type Row } from '../../src/transform/transformer.js';
import { pipeline, rowsOf, us } from './helpers.js';

const NOW = 1767225600000;
const source = { user_id: 'BIGINT', name: 'STRING', amount: 'DECIMAL(10, 2)', event_at: 'TIMESTAMP(3)', ok: 'BOOLEAN' };
const sink = { user_id: 'BIGINT', name: 'STRING', amount: 'DECIMAL(10, 2)', event_at: 'TIMESTAMP(3)', ok: 'BOOLEAN' };
const SQL = 'SELECT user_id, UPPER(name) AS name, amount, event_at, ok FROM kafka_t WHERE user_id > 1';

const events = [
  { user_id: 1, name: 'a', amount: '1.50', event_at: '2024-02-03 12:30:00.123', ok: true },
  { user_id: 2, name: 'b, "quoted"', amount: '20.05', event_at: '2024-02-04 00:00:00.000', ok: false },
  { user_id: 3, name: 'multi\nline', amount: '-3.10', event_at: '2024-02-05 23:59:59.999', ok: true },
];

function unscaledBytes(text: string): Buffer {
  let v = BigInt(text.replace('.', ''));
  const out: number[] = [];
  for (let i = 0; i < 8; i++) {
    out.unshift(Number(v & 255n));
    v >>= 8n;
  }
  return Buffer.from(out);
}

const csvQuote = (s: string) => (/[,"\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

const encodings: Record<string, { values: (string | Uint8Array)[]; config: Partial<PipelineConfig> }> = {
  json: { values: events.map((e) => JSON.stringify({ ...e, amount: Number(e.amount) })), config: {} },
  csv: { values: events.map((e) => [e.user_id, csvQuote(e.name), e.amount, e.event_at, e.ok].join(',') + '\n'), config: { format: 'csv', csv: DEFAULT_CSV_OPTIONS } },
  avro: {
    values: events.map((e) => {
      const cfg = pipeline({ topic: 't', source, sink });
      return avroTypeOf(avroSchemaOf(cfg.sourceSchema)).toBuffer({ user_id: BigInt(e.user_id), name: e.name, amount: unscaledBytes(e.amount), event_at: BigInt(Date.parse(e.event_at.replace(' ', 'T') + 'Z')), ok: e.ok });
    }),
    config: { format: 'avro', avro: { schema: null } },
  },
};

function configOf(format: string): PipelineConfig {
  return { ...pipeline({ topic: 't', source, sink }), ...encodings[format]!.config };
}

function rawOf(format: string) {
  return packRawBatch('t', 0, encodings[format]!.values.map((value, k) => ({ offset: k, timestamp: NOW, value })));
}

class Upper extends BaseTransformer {
  map(row: Row): Row | null {
    return (row.user_id as number) > 1 ? { ...row, name: String(row.name).toUpperCase() } : null;
  }
}

/**
 * A row as comparable plain values: DECIMAL as its unscaled digits (Arrow gives a BigNum whose
 * text is the unscaled integer), the rest as rowsOf gives it.
 */
function plain(row: Record<string, unknown>): Record<string, unknown> {
  return { ...row, amount: String(row.amount) };
}

// What the SQL above must make of the events, worked out from the events themselves, not from
// any decoder's output: user 1 filtered out, names upper-cased, DECIMAL(10, 2) as unscaled
// digits, TIMESTAMP(3) as exact epoch microseconds.
const expected = events
  .filter((e) => e.user_id > 1)
  .map((e) => ({
    user_id: BigInt(e.user_id),
    name: e.name.toUpperCase(),
    amount: String(BigInt(e.amount.replace('.', ''))),
    event_at: us(e.event_at.replace(' ', 'T')),
    ok: e.ok,
  }));

describe('formats give the same rows', () => {
  it('the JSON rows are the events', () => {
    const out = compileSqlTransform(configOf('json'), SQL).run(rawOf('json'), NOW);
    expect(out.deadLetters).toBeNull();
    expect(rowsOf(out.rows).map(plain)).toEqual(expected);
  });

  for (const format of ['json', 'csv', 'avro']) {
    if (format !== 'json') {
      it(`${format} through SQL`, () => {
        const out = compileSqlTransform(configOf(format), SQL).run(rawOf(format), NOW);
        expect(out.deadLetters).toBeNull();
        expect(rowsOf(out.rows).map(plain)).toEqual(expected);
      });
    }
    it(`${format} through a TypeScript map transformer`, () => {
      const out = transformFor(configOf(format), new Upper(configOf(format)), 'rows', null).run(rawOf(format), NOW);
      expect(rowsOf(out.rows).map(plain)).toEqual(expected);
    });
  }
});
