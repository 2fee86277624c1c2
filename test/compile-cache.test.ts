// The CLI turns on Node.js' module compile cache for itself and every thread it starts
// (src/compile-cache.ts): the decision alone, and in a real process that a worker thread started
// afterwards has it too, and that the cache folder is written.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { compileCacheWanted } from '../src/compile-cache.js';
import { ROOT, ensureBuilt } from './helpers/build.js';

describe('module compile cache', () => {
  it('is wanted unless turned off by our switch or by Node.js own', () => {
    expect(compileCacheWanted({})).toBe(true);
    expect(compileCacheWanted({ NODE_COMPILE_CACHE: '/somewhere' })).toBe(true);
    expect(compileCacheWanted({ STREAMBERG_COMPILE_CACHE: 'OFF' })).toBe(false);
    expect(compileCacheWanted({ NODE_DISABLE_COMPILE_CACHE: '1' })).toBe(false);
    expect(compileCacheWanted({ NODE_DISABLE_COMPILE_CACHE: '' })).toBe(true);
  });

  const dir = mkdtempSync(path.join(tmpdir(), 'compile-cache-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is on in the process and in a worker thread it starts, and fills its folder; off, neither', () => {
    ensureBuilt();
    const script = path.join(dir, 'probe.mjs');
    writeFileSync(
      script,
      `import module from 'node:module';
import { Worker } from 'node:worker_threads';
const { useCompileCache } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/src/compile-cache.js')).href)});
const used = useCompileCache() ?? null;
const inWorker = await new Promise((resolve, reject) => {
  const w = new Worker("const m = require('node:module'); require('node:worker_threads').parentPort.postMessage(m.getCompileCacheDir() ?? null);", { eval: true });
  w.once('message', resolve);
  w.once('error', reject);
});
// A module loaded after the cache is on, so there is something to keep.
await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/src/errors.js')).href)});
console.log(JSON.stringify({ used, main: module.getCompileCacheDir() ?? null, inWorker }));
`,
    );
    const run = (env: Record<string, string>) => {
      const { STREAMBERG_COMPILE_CACHE: _a, NODE_DISABLE_COMPILE_CACHE: _b, NODE_COMPILE_CACHE: _c, ...base } = process.env;
      return JSON.parse(execFileSync(process.execPath, [script], { env: { ...base, ...env }, encoding: 'utf8' })) as Record<string, string | null>;
    };
    const on = path.join(dir, 'on');
    const seen = run({ NODE_COMPILE_CACHE: on });
    expect(seen.used).toBe(seen.main);
    expect(seen.main).toContain(on);
    expect(seen.inWorker).toBe(seen.main);
    expect(readdirSync(on, { recursive: true }).length).toBeGreaterThan(0);

    // Not given: Node.js' own default folder, handed on to the worker as it is.
    const byDefault = run({});
    expect(byDefault.main).toContain(path.join(tmpdir(), 'node-compile-cache'));
    expect(byDefault.inWorker).toBe(byDefault.main);

    // Off: nothing turns it on (a NODE_COMPILE_CACHE of the user's own would, in Node.js itself).
    expect(run({ STREAMBERG_COMPILE_CACHE: 'off' })).toEqual({ used: null, main: null, inWorker: null });
  });
});
