// The CLI starts itself again with glibc's mmap threshold fixed and two arenas (src/malloc-tuning.ts): the
// decision alone, and the restart itself in a real process (same PID, arguments kept).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MALLOC_SETTINGS, MAIN_THREAD_V8_FLAGS, tunedEnvironment, tunedExecArgv } from '../src/malloc-tuning.js';
import { ROOT, ensureBuilt } from './helpers/build.js';

describe('glibc malloc tuning', () => {
  it('adds the settings on Linux, and leaves the environment alone when off, tuned already, or not Linux', () => {
    expect(tunedEnvironment({ PATH: '/bin' }, 'linux')).toEqual({ PATH: '/bin', MALLOC_MMAP_THRESHOLD_: '1048576', MALLOC_ARENA_MAX: '2' });
    expect(tunedEnvironment({ STREAMBERG_MALLOC_TUNING: 'OFF' }, 'linux')).toBeNull();
    expect(tunedEnvironment({ MALLOC_MMAP_THRESHOLD_: '1048576' }, 'linux')).toBeNull();
    expect(tunedEnvironment({ MALLOC_ARENA_MAX: '2' }, 'linux')).toBeNull();
    expect(tunedEnvironment({ GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=0' }, 'linux')).toBeNull();
    expect(tunedEnvironment({ GLIBC_TUNABLES: 'glibc.rtld.optional_static_tls=512' }, 'linux')).toMatchObject(MALLOC_SETTINGS);
    expect(tunedEnvironment({}, 'darwin')).toBeNull();
  });

  it("adds the main thread's V8 flags unless the user set the same option, on the command line or in NODE_OPTIONS", () => {
    expect(MAIN_THREAD_V8_FLAGS).toEqual(['--max-semi-space-size=4']);
    expect(tunedExecArgv(['--enable-source-maps'], {})).toEqual(['--enable-source-maps', '--max-semi-space-size=4']);
    expect(tunedExecArgv(['--max-semi-space-size=32'], {})).toEqual(['--max-semi-space-size=32']);
    expect(tunedExecArgv(['--max_semi_space_size=32'], {})).toEqual(['--max_semi_space_size=32']);
    expect(tunedExecArgv([], { NODE_OPTIONS: '--inspect --max-semi-space-size=8' })).toEqual([]);
    expect(tunedExecArgv([], { NODE_OPTIONS: '--max-old-space-size=512' })).toEqual(['--max-semi-space-size=4']);
  });

  const dir = mkdtempSync(path.join(tmpdir(), 'malloc-tuning-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts the process again in place with the settings, its arguments kept; once', () => {
    if (process.platform !== 'linux') return;
    ensureBuilt();
    const script = path.join(dir, 'probe.mjs');
    const counter = path.join(dir, 'starts');
    writeFileSync(
      script,
      `import { appendFileSync } from 'node:fs';
appendFileSync(${JSON.stringify(counter)}, 'x');
const { retuneMalloc } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'dist/src/malloc-tuning.js')).href)});
retuneMalloc();
console.log(JSON.stringify({ pid: process.pid, ppid: process.ppid, threshold: process.env.MALLOC_MMAP_THRESHOLD_ ?? null, arenas: process.env.MALLOC_ARENA_MAX ?? null, args: process.argv.slice(2), execArgv: process.execArgv }));
`,
    );
    const run = (env: Record<string, string>) => {
      rmSync(counter, { force: true });
      const { STREAMBERG_MALLOC_TUNING: _, ...base } = process.env;
      const clean = Object.fromEntries(Object.entries(base).filter(([k]) => !k.startsWith('MALLOC_')));
      const out = JSON.parse(execFileSync(process.execPath, [script, 'a b', '--c'], { env: { ...clean, ...env }, encoding: 'utf8' }));
      return { ...out, starts: execFileSync('cat', [counter], { encoding: 'utf8' }).length };
    };
    const tuned = run({});
    expect(tuned).toMatchObject({ threshold: '1048576', arenas: '2', args: ['a b', '--c'], execArgv: ['--max-semi-space-size=4'], starts: 2, ppid: process.pid });
    expect(run({ STREAMBERG_MALLOC_TUNING: 'off' })).toMatchObject({ threshold: null, args: ['a b', '--c'], execArgv: [], starts: 1 });
  });
});
