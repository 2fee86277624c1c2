// CPU-seconds of each thread of one running process, read from /proc/<pid>/task/<tid>/stat
// (utime + stime, in clock ticks) and named from /proc/<pid>/task/<tid>/comm, then grouped by
// the role each thread plays in the runtime: the benchmark's evidence of which thread caps a
// table.
//
// Hazards of reading threads from outside:
//   - A thread's counters vanish with it, and the runtime ends its worker threads before the
//     process exits, so no single read at the end sees them. The sampler polls and keeps the last
//     value seen per tid: a thread's CPU after its last poll (at most one interval) is missed.
//     `coverage` compares the sum with the process's own total to say how much was missed.
//   - A thread created by another inherits its creator's name. The runtime's threads name
//     themselves sb-source, sb-sink, sb-transform, sb-rewrite (src/runtime/threads/thread-name.ts);
//     a helper thread started later by one of them (libuv's pool is started by whichever thread
//     first needs it) would carry that name too. libuv (≥ 1.50) names its pool threads
//     `libuv-worker`, and V8's platform threads are started by the main thread before any
//     worker exists (they keep its name, `node`), so on Node.js 22 no helper carries an actor's
//     name and the name is enough. The unit test checks a named thread's /proc figure against
//     the thread's own count (process.threadCpuUsage, getrusage of that thread).
//   - Tids are reused by the kernel only after a wrap of the pid space; one run lasts seconds.

import { readFileSync, readdirSync } from 'node:fs';
import { parseProcStat } from './proc-tree.js';

/** What a thread does in the runtime, from its name. */
export type ThreadRole = 'main' | 'source' | 'sink' | 'transform' | 'rewrite' | 'helper' | 'other';

/** The order roles are printed in. */
export const THREAD_ROLES: readonly ThreadRole[] = ['main', 'source', 'sink', 'transform', 'rewrite', 'helper', 'other'];

/** Names the runtime gives its own threads (thread-name.ts callers), to their roles. */
const ACTOR_ROLES: Record<string, ThreadRole> = {
  'sb-source': 'source',
  'sb-sink': 'sink',
  'sb-transform': 'transform',
  'sb-rewrite': 'rewrite',
};

/**
 * libuv's pool (`libuv-worker`) and what Node.js runs beside JavaScript: V8's platform workers
 * (garbage collection and compilation off the JS threads; `node`, the name they inherit from
 * the main thread, or `V8Worker` where Node.js names them), the delayed-task scheduler, the
 * inspector's signal thread; and the async runtime of napi-rs addons (`tokio-rt-worker`: the
 * snappy codec's asynchronous calls). Matched by prefix: the kernel keeps 15 bytes.
 */
const HELPER_PREFIXES = ['libuv-worker', 'V8Worker', 'DelayedTaskSch', 'SignalInspecto', 'tokio-rt-worker', 'node'];

export function roleOf(tid: number, pid: number, name: string): ThreadRole {
  if (tid === pid) return 'main';
  const actor = ACTOR_ROLES[name];
  if (actor !== undefined) return actor;
  // `node` never named itself: a platform thread, or a worker thread before it names itself
  // (a few milliseconds of start-up, on the next poll it has its own name).
  if (HELPER_PREFIXES.some((p) => name.startsWith(p))) return 'helper';
  return 'other';
}

export interface ThreadReading {
  tid: number;
  name: string;
  cpuSeconds: number;
}

/** Every thread of `pid` now; a thread that ends between the listing and its read is left out. */
export function readThreads(pid: number, ticks?: number): ThreadReading[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: ThreadReading[] = [];
  for (const t of tids) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').replace(/\n$/, '');
      const { cpuSeconds } = parseProcStat(readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8'), ticks);
      out.push({ tid: Number(t), name, cpuSeconds });
    } catch {
      // The thread ended between the listing and the read: its last poll stands.
    }
  }
  return out;
}

export interface SampledThread extends ThreadReading {
  role: ThreadRole;
}

/** Polls the threads of one process, keeping the last reading of every tid ever seen. */
export class ThreadSampler {
  private readonly seen = new Map<number, SampledThread>();

  constructor(
    readonly pid: number,
    private readonly ticks?: number,
  ) {}

  sample(): void {
    for (const r of readThreads(this.pid, this.ticks)) {
      // A thread names itself after it starts: the latest name is the one it chose.
      this.seen.set(r.tid, { ...r, role: roleOf(r.tid, this.pid, r.name) });
    }
  }

  get threads(): SampledThread[] {
    return [...this.seen.values()];
  }
}

export interface RoleCpu {
  role: ThreadRole;
  threads: number;
  cpuSeconds: number;
  cpuSecondsPerMillion: number;
  /** Of the sampled threads' sum, 0–1. */
  share: number;
  /** The busiest thread of the role, per million records: a serial thread's ceiling. */
  busiestPerMillion: number;
  /** The threads' names, each once: what an `other` thread is. */
  names: string[];
}

/** Groups sampled threads by role, in THREAD_ROLES order, roles without threads left out. */
export function cpuByRole(threads: readonly SampledThread[], records: number): RoleCpu[] {
  const total = threads.reduce((s, t) => s + t.cpuSeconds, 0);
  const millions = records / 1e6;
  const out: RoleCpu[] = [];
  for (const role of THREAD_ROLES) {
    const mine = threads.filter((t) => t.role === role);
    if (mine.length === 0) continue;
    const cpu = mine.reduce((s, t) => s + t.cpuSeconds, 0);
    out.push({
      role,
      threads: mine.length,
      cpuSeconds: cpu,
      cpuSecondsPerMillion: cpu / millions,
      share: total > 0 ? cpu / total : 0,
      busiestPerMillion: Math.max(...mine.map((t) => t.cpuSeconds)) / millions,
      names: [...new Set(mine.map((t) => t.name))],
    });
  }
  return out;
}

/** The per-role table the benchmarks print, with how much of `processCpuSeconds` the threads account for. */
export function formatRoleTable(rows: readonly RoleCpu[], processCpuSeconds: number): string {
  const sampled = rows.reduce((s, r) => s + r.cpuSeconds, 0);
  const lines = [
    '  | role | threads | CPU-s | CPU-s per M | share | busiest thread, CPU-s per M |',
    '  | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `  | ${r.role === 'other' ? `other (${r.names.join(', ')})` : r.role} | ${r.threads} | ${r.cpuSeconds.toFixed(2)} | ${r.cpuSecondsPerMillion.toFixed(2)} | ${(r.share * 100).toFixed(1)} % | ${r.busiestPerMillion.toFixed(2)} |`,
    ),
    `  threads sampled: ${sampled.toFixed(2)} CPU-s of the process's ${processCpuSeconds.toFixed(2)} (${coverage(sampled, processCpuSeconds)})`,
  ];
  return lines.join('\n');
}

function coverage(sampled: number, whole: number): string {
  return whole > 0 ? `${((sampled / whole) * 100).toFixed(1)} %` : 'no total';
}

/** How often a measured program's threads are read: short enough that a thread's last moments are small. */
export const THREAD_SAMPLE_MS = 200;

/**
 * Polls the threads of a program started by measureProcess (proc-tree.ts) from its onStart, until
 * `stop`, which returns every thread seen with its last reading.
 */
export function watchThreads(programPid: () => number | undefined, everyMs = THREAD_SAMPLE_MS): { stop(): SampledThread[] } {
  let sampler: ThreadSampler | undefined;
  const tick = (): void => {
    if (sampler === undefined) {
      const pid = programPid();
      if (pid === undefined) return;
      sampler = new ThreadSampler(pid);
    }
    sampler.sample();
  };
  const timer = setInterval(tick, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return sampler?.threads ?? [];
    },
  };
}
