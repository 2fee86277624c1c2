// Node.js' module compile cache (node:module, Node.js 22.1 and later): V8's code for every module
// is kept on disk and reused by the next start whose module files are unchanged. The runtime
// loads the same modules in its main thread and again in each source, sink and transform thread,
// so a start compiles the same code several times over. With the cache, a bounded run of W1's
// pipeline over 10,000 records (its fixed cost, medians of 4) took 1.36 s and 2.0 CPU-seconds
// instead of 1.53 s and 2.25 (benchmarks/README.md, "Start-up, compressed chunks and the main
// thread's young generation").
//
// The cache is where Node.js puts it by default (`node-compile-cache` under the OS temporary
// folder), or where NODE_COMPILE_CACHE says. It is an optimization only: a folder that cannot be
// written leaves it off without an error, and a changed module file is compiled afresh.

import module from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Set to `off` to leave the compile cache off (as NODE_DISABLE_COMPILE_CACHE=1 does too). */
export const COMPILE_CACHE_SWITCH = 'STREAMBERG_COMPILE_CACHE';

/** Whether the environment leaves the cache to be turned on. */
export function compileCacheWanted(env: NodeJS.ProcessEnv): boolean {
  if ((env[COMPILE_CACHE_SWITCH] ?? '').toLowerCase() === 'off') return false;
  return env.NODE_DISABLE_COMPILE_CACHE === undefined || env.NODE_DISABLE_COMPILE_CACHE === '';
}

/**
 * Turns the cache on for this thread and, through NODE_COMPILE_CACHE (which each worker thread
 * inherits with the environment), for every thread started after it. Returns its folder, or
 * undefined when it stays off.
 */
export function useCompileCache(): string | undefined {
  if (!compileCacheWanted(process.env)) return undefined;
  const enable = (module as { enableCompileCache?: () => { directory?: string } }).enableCompileCache;
  if (typeof enable !== 'function') return undefined;
  // The folder the cache is kept under, not the one enableCompileCache answers with: that is a
  // subfolder per Node.js version, under which each thread would start another.
  const given = process.env.NODE_COMPILE_CACHE;
  if (given === undefined || given === '') process.env.NODE_COMPILE_CACHE = path.join(tmpdir(), 'node-compile-cache');
  const { directory } = enable();
  if (directory === undefined) {
    if (given === undefined) delete process.env.NODE_COMPILE_CACHE;
    else process.env.NODE_COMPILE_CACHE = given;
  }
  return directory;
}
