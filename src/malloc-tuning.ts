// glibc's allocator, tuned for the runtime's traffic of large buffers. Kafka fetch responses,
// record chunks and Arrow IPC messages (0.1–8 MB) are allocated and freed by several threads at
// a high rate. glibc maps a block above its mmap threshold and unmaps it when freed, but after the
// first such block is freed it raises the threshold to that block's size (up to 32 MB), so from
// then on these buffers come from the allocating thread's arena and stay there when freed:
// 130–190 MB of arenas at the peak of W1 in 8–11 arenas. A fixed threshold of 1 MiB keeps the
// large ones mapped and returned at once; two arenas for all threads, instead of up to eight per
// core, leave less freed memory scattered over them (measured in benchmarks/README.md, "The sink
// only encodes; memory by allocator and row group": neither cost CPU there).
//
// glibc reads these settings from the environment once, when the process starts; so the CLI
// starts itself again, in the same process (execve keeps the PID), with them added. The same
// restart gives the main thread's V8 heap a smaller young generation (MAIN_THREAD_V8_FLAGS),
// which V8 too sizes only when a thread starts.

/** What is added to the environment. */
export const MALLOC_SETTINGS: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: String(1024 * 1024), MALLOC_ARENA_MAX: '2' };

/**
 * 4 MB semi-spaces for the main thread's young generation instead of V8's 16 MB. The main thread
 * passes chunks to the transform pool and results to the sink; with the smaller young generation
 * what it is done with goes sooner. W1 at p=2, medians of four interleaved rounds: peak RSS 384
 * against 416 MB uncompressed and 367 against 401 MB on Snappy, for 1.5–3 % fewer records/s
 * (430 k against 444 k, 471 k against 479 k) at the same CPU per record (benchmarks/README.md,
 * "Start-up, compressed chunks and the main thread's young generation"). A V8 flag reaches every thread started after it, so the
 * source and sink threads state their own (worker-host.ts), as the transform workers do.
 */
export const MAIN_THREAD_V8_FLAGS: readonly string[] = ['--max-semi-space-size=4'];

/** Set to `off` to leave glibc's allocator as it is. */
export const MALLOC_TUNING_SWITCH = 'STREAMBERG_MALLOC_TUNING';

/**
 * The environment to start the process again with, or null when it needs no restart: not
 * Linux, turned off, already tuned (by the restart or by the user: their MALLOC_* or
 * GLIBC_TUNABLES win).
 */
export function tunedEnvironment(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): NodeJS.ProcessEnv | null {
  if (platform !== 'linux') return null;
  if ((env[MALLOC_TUNING_SWITCH] ?? '').toLowerCase() === 'off') return null;
  if (Object.keys(env).some((k) => k.startsWith('MALLOC_')) || (env.GLIBC_TUNABLES ?? '').includes('glibc.malloc.')) return null;
  return { ...env, ...MALLOC_SETTINGS };
}

/** Node.js' options for the restart: the ones given, and ours that the user did not set (on the command line or in NODE_OPTIONS). */
export function tunedExecArgv(execArgv: readonly string[], env: NodeJS.ProcessEnv): string[] {
  // V8 takes a flag's name with dashes or underscores.
  const nameOf = (option: string) => option.split('=')[0]!.replace(/_/g, '-');
  const given = new Set([...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].filter((o) => o.startsWith('--')).map(nameOf));
  return [...execArgv, ...MAIN_THREAD_V8_FLAGS.filter((f) => !given.has(nameOf(f)))];
}

/** Starts this process again with the tuned environment, when it needs one (never returns then). */
export function retuneMalloc(): void {
  const env = tunedEnvironment(process.env, process.platform);
  // process.execve: Node.js 22.15 and later, POSIX only.
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
  if (env === null || typeof execve !== 'function') return;
  execve.call(process, process.execPath, [process.execPath, ...tunedExecArgv(process.execArgv, env), ...process.argv.slice(1)], env);
}
