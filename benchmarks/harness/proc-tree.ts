// Measures one benchmarked program from outside, as a user's `time` and `top` would: wall time,
// CPU-seconds and peak resident memory of its whole process tree (a PyFlink job is a Python
// driver plus a JVM; the runtime is one process with many threads).
//
// The program runs under GNU time, which reports the user + system CPU of every process it
// waited for, exactly. A descendant that is never waited for (a JVM its parent kills at exit) is
// not in that figure, so the tree is also sampled from /proc every SAMPLE_MS: each process's own
// utime + stime, last value seen per pid, summed. The larger of the two is reported. Resident
// memory has no counter over a tree, so it is the largest sum of /proc/<pid>/stat rss over the
// tree seen by a sample (at least GNU time's peak of its largest process).

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const SAMPLE_MS = 50;
const PAGE_BYTES = 4096;
let clockTicks: number | undefined;

/** Clock ticks per second of /proc's CPU times (getconf CLK_TCK; 100 on Linux x86). */
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Direct children of `pid`, over all of its threads. */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (c.trim()) out.push(Number(c));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/** Every descendant of `pid` (not `pid` itself). */
export function descendantsOf(pid: number): number[] {
  const out: number[] = [];
  const stack = childrenOf(pid);
  while (stack.length > 0) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...childrenOf(p));
  }
  return out;
}

export interface ProcStat {
  /** utime + stime of the process itself (all its threads), in seconds. */
  cpuSeconds: number;
  rssBytes: number;
}

/**
 * Parses the text of /proc/<pid>/stat. The command name (field 2) may hold spaces and
 * parentheses, so fields are counted from the last ')'.
 */
export function parseProcStat(text: string, ticks = ticksPerSecond()): ProcStat {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 80)}`);
  // After ')': field 3 (state) is index 0, so field n is index n - 3.
  const f = text.slice(close + 2).trim().split(/\s+/);
  const utime = Number(f[14 - 3]);
  const stime = Number(f[15 - 3]);
  const rssPages = Number(f[24 - 3]);
  if (![utime, stime, rssPages].every(Number.isFinite)) throw new Error(`unreadable /proc/<pid>/stat fields: ${text.slice(0, 200)}`);
  return { cpuSeconds: (utime + stime) / ticks, rssBytes: rssPages * PAGE_BYTES };
}

function readStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** Samples a process tree: its peak summed RSS and the last CPU time seen of every process. */
export class TreeSampler {
  peakRssBytes = 0;
  private readonly cpuByPid = new Map<number, number>();

  /** `root`'s descendants are sampled, and `root` itself when `includeRoot`. */
  constructor(
    private readonly root: number,
    private readonly includeRoot: boolean,
  ) {}

  sample(): void {
    const pids = this.includeRoot ? [this.root, ...descendantsOf(this.root)] : descendantsOf(this.root);
    let rss = 0;
    for (const pid of pids) {
      const s = readStat(pid);
      if (!s) continue;
      rss += s.rssBytes;
      // The start time would tell a reused pid apart; a tree lives seconds, pids are not reused so soon.
      this.cpuByPid.set(pid, Math.max(this.cpuByPid.get(pid) ?? 0, s.cpuSeconds));
    }
    this.peakRssBytes = Math.max(this.peakRssBytes, rss);
  }

  get cpuSeconds(): number {
    let total = 0;
    for (const c of this.cpuByPid.values()) total += c;
    return total;
  }

  get processes(): number {
    return this.cpuByPid.size;
  }
}

export interface MeasureOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Killed (SIGKILL, the whole tree) after this long; the result then says so. */
  deadlineMs: number;
  /** Every stdout or stderr line as it arrives, with performance.now() and controls. */
  onLine?: (line: string, stream: 'stdout' | 'stderr', at: number, control: Control) => void;
  /** Called once right after the spawn, with the controls (e.g. to signal the program later). */
  onStart?: (control: Control) => void;
  /** Keep at most this many characters of each stream's tail for the result (default 16 kB). */
  keep?: number;
}

export interface Control {
  /** Sends `signal` to the measured program (not to GNU time, which would not pass it on). */
  signal(signal: NodeJS.Signals): void;
  /** Takes a sample now, e.g. at a moment the program announced. */
  sampleNow(): void;
  /** The measured program's pid (GNU time's child), once it has been started. */
  programPid(): number | undefined;
}

export interface Measured {
  exitCode: number | null;
  /** True when the deadline killed it. */
  killed: boolean;
  /** Epoch ms of the spawn (Date.now()), to line up with timestamps the program writes. */
  startedAtMs: number;
  /** Monotonic (performance.now()) ms of the spawn. */
  startedAt: number;
  wallSeconds: number;
  cpuSeconds: number;
  /** CPU as GNU time counted it (waited-for processes) and as sampled from /proc. */
  cpuSecondsWaited: number;
  cpuSecondsSampled: number;
  peakRssMb: number;
  processes: number;
  stdoutTail: string;
  stderrTail: string;
}

/** Runs `command args` under GNU time and measures its process tree (see the file's header). */
export async function measureProcess(command: string, args: readonly string[], options: MeasureOptions): Promise<Measured> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-measure-'));
  const timeFile = path.join(dir, 'time');
  const keep = options.keep ?? 16_000;
  const startedAtMs = Date.now();
  const startedAt = performance.now();
  const child = spawn('/usr/bin/time', ['-o', timeFile, '-f', '%e %U %S %M', command, ...args], {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const timePid = child.pid!;
  const sampler = new TreeSampler(timePid, false);
  const control: Control = {
    signal(sig) {
      for (const pid of childrenOf(timePid)) {
        try {
          process.kill(pid, sig);
        } catch {
          // Already gone.
        }
      }
    },
    sampleNow: () => sampler.sample(),
    programPid: () => childrenOf(timePid)[0],
  };
  const tails = { stdout: '', stderr: '' };
  for (const stream of ['stdout', 'stderr'] as const) {
    let partial = '';
    child[stream].setEncoding('utf8');
    child[stream].on('data', (chunk: string) => {
      const at = performance.now();
      tails[stream] = (tails[stream] + chunk).slice(-keep);
      if (!options.onLine) return;
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) options.onLine(line, stream, at, control);
    });
    child[stream].on('end', () => {
      if (partial && options.onLine) options.onLine(partial, stream, performance.now(), control);
    });
  }
  const timer = setInterval(() => sampler.sample(), SAMPLE_MS);
  let killed = false;
  const killer = setTimeout(() => {
    killed = true;
    for (const pid of descendantsOf(timePid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }, options.deadlineMs);
  options.onStart?.(control);
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const wallSeconds = (performance.now() - startedAt) / 1000;
  clearInterval(timer);
  clearTimeout(killer);
  let timeLine = '';
  try {
    timeLine = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1) ?? '';
  } catch {
    // GNU time was killed before writing.
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // "Command exited with non-zero status N" precedes the figures on a failure.
  const [, user, sys, maxRssKb] = timeLine.split(' ').map(Number);
  const waited = user !== undefined && sys !== undefined && Number.isFinite(user + sys) ? user + sys : 0;
  const largestKb = maxRssKb !== undefined && Number.isFinite(maxRssKb) ? maxRssKb : 0;
  return {
    exitCode,
    killed,
    startedAtMs,
    startedAt,
    wallSeconds,
    cpuSeconds: Math.max(waited, sampler.cpuSeconds),
    cpuSecondsWaited: waited,
    cpuSecondsSampled: sampler.cpuSeconds,
    peakRssMb: Math.max(sampler.peakRssBytes, largestKb * 1024) / (1024 * 1024),
    processes: sampler.processes,
    stdoutTail: tails.stdout,
    stderrTail: tails.stderr,
  };
}
