import { describe, expect, it } from 'vitest';
import { measureProcess, parseProcStat } from '../../benchmarks/harness/proc-tree.js';

describe('parseProcStat', () => {
  it('reads utime, stime and rss counting from the last parenthesis, whatever the command name holds', () => {
    // Fields 14, 15 and 24: utime 250, stime 50 ticks, rss 1000 pages.
    const tail = 'S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 12 0 100 4096000 1000 rest';
    const s = parseProcStat(`1234 (a (weird) name) ${tail}`, 100);
    expect(s.cpuSeconds).toBeCloseTo(3);
    expect(s.rssBytes).toBe(1000 * 4096);
  });

  it('refuses text that is not a stat line', () => {
    expect(() => parseProcStat('no parenthesis here', 100)).toThrow(/not a \/proc/);
  });
});

// A child that spawns a grandchild; each holds memory it has written to, the grandchild burns
// CPU, and both wait for SIGTERM after the grandchild says "ready". On SIGTERM the child kills
// the grandchild and exits without waiting for it, as a driver leaves its JVM: GNU time's count
// (the waited-for processes) then misses the grandchild, and only the /proc samples can see it.
const GRANDCHILD = `
const b = Buffer.alloc(120 * 1024 * 1024, 1);
const t0 = process.cpuUsage();
while (process.cpuUsage(t0).user + process.cpuUsage(t0).system < 600_000) {}
console.log('ready ' + process.pid);
// Orphaned (its parent killed before it could kill it): leave rather than hold 120 MB forever.
const parent = process.ppid;
setInterval(() => { b[0] = 0; if (process.ppid !== parent) process.exit(0); }, 200);
`;
const CHILD = `
const { spawn } = require('node:child_process');
const a = Buffer.alloc(80 * 1024 * 1024, 1);
const g = spawn(process.execPath, ['-e', ${JSON.stringify(GRANDCHILD)}], { stdio: ['ignore', 'pipe', 'inherit'] });
g.stdout.on('data', (d) => process.stdout.write(d));
process.on('SIGTERM', () => { a[0] = 0; process.kill(g.pid, 'SIGKILL'); process.exit(0); });
setInterval(() => {}, 1000);
`;

describe('measureProcess', () => {
  it('sums resident memory over the process tree and counts CPU of a grandchild', async () => {
    let grandchild = 0;
    const m = await measureProcess(process.execPath, ['-e', CHILD], {
      deadlineMs: 60_000,
      onLine(line, stream, _at, control) {
        if (stream === 'stdout' && line.startsWith('ready ')) {
          grandchild = Number(line.slice('ready '.length));
          control.sampleNow();
          control.signal('SIGTERM');
        }
      },
    });
    expect(m.exitCode).toBe(0);
    expect(m.killed).toBe(false);
    expect(grandchild).toBeGreaterThan(0);
    // 80 MB + 120 MB written, plus two Node.js heaps: more than either process alone holds.
    expect(m.peakRssMb).toBeGreaterThan(200);
    // The child and the grandchild, no more, no fewer.
    expect(m.processes).toBe(2);
    // The grandchild burned 0.6 CPU-seconds by its own count before it said ready. The child
    // never waited for it, so GNU time did not count it; the samples of the tree did.
    expect(m.cpuSecondsWaited).toBeLessThan(0.55);
    expect(m.cpuSecondsSampled).toBeGreaterThanOrEqual(0.55);
    expect(m.cpuSeconds).toBe(m.cpuSecondsSampled);
  });

  it('kills the whole tree at the deadline and says so', async () => {
    const m = await measureProcess(process.execPath, ['-e', CHILD], { deadlineMs: 300 });
    expect(m.killed).toBe(true);
    expect(m.exitCode).not.toBe(0);
  });
});
