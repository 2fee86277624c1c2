import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { StreamError } from '../../src/errors.js';
import { loadTransformer, resolveTransformerModule, runtimeLayout } from '../../src/transform/registry.js';
import { entry, pipeline, ROOT } from './helpers.js';

const FIXTURES = path.join(ROOT, 'test/transform/fixtures');
const config = pipeline({ source: { a: 'STRING' }, sink: { a: 'STRING' } });
const fixture = (className: string, module: string) =>
  entry('fx', className, module, path.join(FIXTURES, module.replace(/\./g, '/') + '.ts'));

async function loadError(className: string, module: string): Promise<StreamError> {
  try {
    await loadTransformer(fixture(className, module), config, { projectRoot: FIXTURES, distRoot: null });
  } catch (e) {
    if (e instanceof StreamError) return e;
    throw e;
  }
  throw new Error('expected a load failure');
}

describe('transformer registry', () => {
  it('loads the shipped transformer by its dotted module and instantiates it with the topic config', async () => {
    const loaded = await loadTransformer(entry('bid_events_raw', 'BidEventsRawTransformer', 'transformations.bid_events_raw'), config);
    expect(loaded.kind).toBe('sql');
    expect(loaded.instance.getDescription()).toBe('BidEventsRawTransformer');
    expect((loaded.instance as unknown as { topicConfig: unknown }).topicConfig).toBe(config);
    expect(loaded.instance.getTransformationSql!('kafka_bid_events')).toMatch(/FROM kafka_bid_events/);
  });

  it('tells columnar and row-wise TypeScript transformers apart', async () => {
    const opts = { projectRoot: FIXTURES, distRoot: null };
    expect((await loadTransformer(fixture('ColumnarDoubleTransformer', 'transformations.columnar_double'), config, opts)).kind).toBe('columnar');
    expect((await loadTransformer(fixture('RowsUpperTransformer', 'transformations.rows_upper'), config, opts)).kind).toBe('rows');
  });

  it.each([
    ['Nope', 'transformations.missing_file', /transformation 'fx' \(class Nope, module transformations\.missing_file\): module file .*missing_file\.ts does not exist/],
    ['Nope', 'transformations.broken', /has no export named Nope \(it exports NoMethods, ThrowsInConstructor, ReturnsNumber\)/],
    ['notAClass', 'transformations.broken', /export notAClass is not a class/],
    ['NoMethods', 'transformations.broken', /class NoMethods implements none of getTransformationSql\(sourceTable\), transform\(batch\), map\(row\) \/ filter\(row\)/],
    ['ThrowsInConstructor', 'transformations.broken', /constructing ThrowsInConstructor failed: bad config/],
    ['Broken', 'transformations.syntax_error', /importing .*syntax_error\.ts failed: module initialisation failed/],
  ])('%s from %s is a clear TRANSFORMER_LOAD_FAILED', async (cls, mod, message) => {
    const e = await loadError(cls, mod);
    expect(e.code).toBe('TRANSFORMER_LOAD_FAILED');
    expect(e.message).toMatch(message);
    expect(e.details.transformation).toBe('fx');
  });

  it('refuses module paths outside transformations/, also through a symlink', () => {
    const outside = entry('evil', 'X', '../src/errors.ts', path.join(ROOT, 'src/errors.ts'));
    expect(() => resolveTransformerModule(outside)).toThrow(/module path .*src\/errors\.ts is outside .*transformations/);
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'tx-'));
    mkdirSync(path.join(tmp, 'transformations'));
    writeFileSync(path.join(tmp, 'secret.ts'), 'export class X {}');
    symlinkSync(path.join(tmp, 'secret.ts'), path.join(tmp, 'transformations/link.ts'));
    const linked = entry('link', 'X', 'transformations.link', path.join(tmp, 'transformations/link.ts'));
    expect(() => resolveTransformerModule(linked, { projectRoot: tmp, distRoot: null })).toThrow(/is outside/);
  });

  it('maps a source module to its compiled file when running from dist/', () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'tx-'));
    mkdirSync(path.join(tmp, 'transformations/sub'), { recursive: true });
    mkdirSync(path.join(tmp, 'dist/transformations/sub'), { recursive: true });
    writeFileSync(path.join(tmp, 'transformations/sub/x.ts'), '');
    writeFileSync(path.join(tmp, 'dist/transformations/sub/x.js'), '');
    const e = entry('x', 'X', 'transformations.sub.x', path.join(tmp, 'transformations/sub/x.ts'));
    expect(resolveTransformerModule(e, { projectRoot: tmp, distRoot: path.join(tmp, 'dist') }).importPath).toBe(path.join(tmp, 'dist/transformations/sub/x.js'));
    writeFileSync(path.join(tmp, 'transformations/y.ts'), '');
    const y = entry('y', 'Y', 'transformations.y', path.join(tmp, 'transformations/y.ts'));
    expect(() => resolveTransformerModule(y, { projectRoot: tmp, distRoot: path.join(tmp, 'dist') })).toThrow(/is not compiled: .*dist\/transformations\/y\.js is missing/);
  });

  it('derives the layout from where the code runs', () => {
    expect(runtimeLayout('/app/dist/src/transform/registry.js')).toEqual({ projectRoot: '/app', distRoot: '/app/dist' });
    expect(runtimeLayout('/app/src/transform/registry.ts')).toEqual({ projectRoot: '/app', distRoot: null });
    expect(runtimeLayout().projectRoot).toBe(ROOT);
  });
});
