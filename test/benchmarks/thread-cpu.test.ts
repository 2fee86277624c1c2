import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ThreadSampler, cpuByRole, formatRoleTable, readThreads, roleOf, type SampledThread } from '../../benchmarks/harness/thread-cpu.js';

// A worker thread that names itself as a transform worker does, burns 0.3 CPU-seconds by its
// own count, then reports its tid (from /proc/thread-self) and that count, and idles until
// told to end. Its own count is getrusage of that one thread: what /proc must agree with.
const BUSY = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
fs.writeFileSync('/proc/thread-self/comm', 'sb-transform');
const t0 = process.threadCpuUsage();
let x = 0;
for (;;) {
  for (let i = 0; i < 1e5; i++) x += Math.sqrt(i);
  const u = process.threadCpuUsage(t0);
  if (u.user + u.system >= 300_000) break;
}
const own = process.threadCpuUsage();
const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
parentPort.postMessage({ tid, ownSeconds: (own.user + own.system) / 1e6, x });
parentPort.on('message', () => process.exit(0));
`;

interface Report {
  tid: number;
  ownSeconds: number;
}

async function busyWorker(): Promise<{ worker: Worker; report: Report }> {
  const worker = new Worker(BUSY, { eval: true });
  const [report] = (await once(worker, 'message')) as [Report];
  return { worker, report };
}

describe.runIf(process.platform === 'linux')('threads of a real process from /proc', () => {
  it('finds a busy worker thread by its tid, with its name, its role and the CPU it counted itself', async () => {
    const { worker, report } = await busyWorker();
    try {
      const threads = readThreads(process.pid);
      const mine = threads.find((t) => t.tid === report.tid);
      expect(mine).toBeDefined();
      expect(mine!.name).toBe('sb-transform');
      expect(roleOf(mine!.tid, process.pid, mine!.name)).toBe('transform');
      // /proc counts in clock ticks (10 ms): within a few ticks of the thread's own figure,
      // and never below what it had burned when it reported (it only idles since).
      expect(mine!.cpuSeconds).toBeGreaterThanOrEqual(report.ownSeconds - 0.02);
      expect(Math.abs(mine!.cpuSeconds - report.ownSeconds)).toBeLessThan(0.05);
      // The main thread is the one whose tid is the pid, whatever its name.
      const main = threads.find((t) => t.tid === process.pid);
      expect(main && roleOf(main.tid, process.pid, main.name)).toBe('main');
    } finally {
      worker.postMessage('end');
      await once(worker, 'exit');
    }
  });

  it('keeps the last reading of a thread after the thread has ended', async () => {
    const sampler = new ThreadSampler(process.pid);
    const { worker, report } = await busyWorker();
    sampler.sample();
    worker.postMessage('end');
    await once(worker, 'exit');
    // Gone from /proc, still in the sampler with what it had burned.
    expect(readThreads(process.pid).some((t) => t.tid === report.tid)).toBe(false);
    sampler.sample();
    const kept = sampler.threads.find((t) => t.tid === report.tid);
    expect(kept?.role).toBe('transform');
    expect(kept!.cpuSeconds).toBeGreaterThanOrEqual(report.ownSeconds - 0.02);
  });

  it('gives no threads for a process that is not there', () => {
    // Pids are at most 2^22 on Linux.
    expect(readThreads(2 ** 23)).toEqual([]);
  });
});

describe('roles of the runtime threads', () => {
  it('reads the role from the name each thread gives itself, the main thread from its tid', () => {
    expect(roleOf(100, 100, 'node')).toBe('main');
    expect(roleOf(101, 100, 'sb-source')).toBe('source');
    expect(roleOf(102, 100, 'sb-sink')).toBe('sink');
    expect(roleOf(103, 100, 'sb-transform')).toBe('transform');
    expect(roleOf(104, 100, 'sb-rewrite')).toBe('rewrite');
    expect(roleOf(105, 100, 'libuv-worker')).toBe('helper');
    expect(roleOf(106, 100, 'node')).toBe('helper');
    expect(roleOf(107, 100, 'DelayedTaskSche')).toBe('helper');
    expect(roleOf(108, 100, 'tokio-rt-worker')).toBe('helper');
    expect(roleOf(109, 100, 'kcat')).toBe('other');
  });

  it('sums CPU per role per million records, with shares of the sampled total and the busiest thread', () => {
    const t = (tid: number, name: string, cpuSeconds: number): SampledThread => ({ tid, name, cpuSeconds, role: roleOf(tid, 1, name) });
    const rows = cpuByRole([t(1, 'node', 1), t(2, 'sb-transform', 3), t(3, 'sb-transform', 2), t(4, 'sb-sink', 2), t(5, 'libuv-worker', 0)], 2_000_000);
    expect(rows.map((r) => r.role)).toEqual(['main', 'sink', 'transform', 'helper']);
    const transform = rows.find((r) => r.role === 'transform')!;
    expect(transform).toMatchObject({ threads: 2, cpuSeconds: 5, cpuSecondsPerMillion: 2.5, busiestPerMillion: 1.5, names: ['sb-transform'] });
    expect(transform.share).toBeCloseTo(5 / 8);
    expect(formatRoleTable(rows, 10)).toContain('threads sampled: 8.00 CPU-s of the process\'s 10.00 (80.0 %)');
  });
});
