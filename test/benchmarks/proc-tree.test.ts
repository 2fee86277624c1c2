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

// A child that spawns a grandchild; each holds memory it has written to, one burns CPU, and both
// wait for SIGTERM after saying "ready", so the sample the test asks for sees the whole tree.
const GRANDCHILD = `
const b = Buffer.alloc(120 * 1024 * 1024, 1);
const t0 = process.cpuUsage();
while (process.cpuUsage(t0).user + process.cpuUsage(t0).system < 600_000) {}
process.on('SIGTERM', () => { b[0] = 0; process.exit(0); });
console.log('ready');
setInterval(() => {}, 1000);
`;
const CHILD = `
const { spawn } = require('node:child_process');
const a = Buffer.alloc(80 * 1024 * 1024, 1);
const g = spawn(process.execPath, ['-e', ${JSON.stringify(GRANDCHILD)}], { stdio: ['ignore', 'pipe', 'inherit'] });
g.stdout.on('data', (d) => process.stdout.write(d));
process.on('SIGTERM', () => { a[0] = 0; g.kill('SIGTERM'); g.on('exit', () => process.exit(0)); });
setInterval(() => {}, 1000);
`;

describe('measureProcess', () => {
  it('sums resident memory over the process tree and counts CPU of a grandchild', async () => {
    const m = await measureProcess(process.execPath, ['-e', CHILD], {
      deadlineMs: 60_000,
      onLine(line, stream, _at, control) {
        if (stream === 'stdout' && line === 'ready') {
          control.sampleNow();
          control.signal('SIGTERM');
        }
      },
    });
    expect(m.exitCode).toBe(0);
    expect(m.killed).toBe(false);
    // 80 MB + 120 MB written, plus two Node.js heaps: more than either process alone holds.
    expect(m.peakRssMb).toBeGreaterThan(200);
    // The grandchild burned 0.6 CPU-seconds by its own count before it said ready.
    expect(m.cpuSeconds).toBeGreaterThanOrEqual(0.55);
    expect(m.processes).toBeGreaterThanOrEqual(2);
    expect(m.stdoutTail).toContain('ready');
  });

  it('kills the whole tree at the deadline and says so', async () => {
    const m = await measureProcess(process.execPath, ['-e', CHILD], { deadlineMs: 300 });
    expect(m.killed).toBe(true);
    expect(m.exitCode).not.toBe(0);
  });
});
