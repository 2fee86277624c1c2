import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { PeakMemory, classify, formatBreakdown, parseSmaps } from '../../benchmarks/harness/memory-map.js';

// The part of the WebAssembly namespace used here (the project's lib has no DOM types).
const wasm = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer } } }).WebAssembly;

// A worker thread that fills 40 MB of 64 kB buffers (below glibc's mmap threshold, so they come
// from the thread's own arena), says so, and holds them until told to end.
const ARENA_FILLER = `
const { parentPort } = require('node:worker_threads');
const held = [];
for (let i = 0; i < 640; i++) held.push(Buffer.alloc(64 * 1024, 1));
parentPort.postMessage('filled');
parentPort.on('message', () => { held.length = 0; process.exit(0); });
`;

const smapsOfThisProcess = () => classify(parseSmaps(readFileSync('/proc/self/smaps', 'utf8')));

describe.runIf(process.platform === 'linux')('memory by kind from /proc/<pid>/smaps, on this process', () => {
  it('finds a WebAssembly memory by its reservation, with the pages written to it', () => {
    const before = smapsOfThisProcess();
    const memory = new wasm.Memory({ initial: 512 }); // 32 MB
    new Uint8Array(memory.buffer).fill(1);
    const after = smapsOfThisProcess();
    expect(after.regions.wasm).toBe(before.regions.wasm + 1);
    expect(after.wasmMemoriesMb.some((mb) => mb >= 32 && mb < 34)).toBe(true);
    expect(after.mb.wasm - before.mb.wasm).toBeGreaterThanOrEqual(32);
  });

  it('counts what a worker thread allocates in its glibc arena as arenas, not as other memory', async () => {
    const before = smapsOfThisProcess();
    const worker = new Worker(ARENA_FILLER, { eval: true });
    try {
      await once(worker, 'message');
      const after = smapsOfThisProcess();
      expect(after.mb['glibc-arenas'] - before.mb['glibc-arenas']).toBeGreaterThanOrEqual(35);
      expect(after.mb.wasm - before.mb.wasm).toBeLessThan(1);
    } finally {
      worker.postMessage('end');
      await once(worker, 'exit');
    }
  });

  it('sums the kinds to the process RSS and keeps the breakdown of the highest sample', () => {
    const b = smapsOfThisProcess();
    const vmRssMb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
    // Both read this very process a moment apart: within a few MB of each other.
    expect(Math.abs(b.rssMb - vmRssMb)).toBeLessThan(8);
    const peak = new PeakMemory(process.pid);
    peak.sample();
    expect(peak.peakRssKb).toBeGreaterThan(0);
    expect(peak.atPeak?.mb.files).toBeGreaterThan(0);
    expect(formatBreakdown(peak.atPeak!)).toMatch(/^ {2}at peak, \d+ MB by smaps: wasm \d+ MB in \d+, glibc-arenas \d+ MB in \d+, main-arena \d+ MB, anonymous \d+ MB, files \d+ MB/);
  });
});

describe('smaps text', () => {
  it('reads each mapping with its Rss, and pairs a readable region with the inaccessible rest of its reservation', () => {
    const GiB = 1024 ** 3;
    const hex = (n: number) => n.toString(16);
    const base = 0x7f0000000000;
    const text = [
      // A wasm memory: 2 MB readable, 8 GiB reserved after it.
      `${hex(base)}-${hex(base + 2 * 2 ** 20)} rw-p 00000000 00:00 0 `,
      'Rss:                2048 kB',
      `${hex(base + 2 * 2 ** 20)}-${hex(base + 8 * GiB)} ---p 00000000 00:00 0 `,
      'Rss:                   0 kB',
      // An arena heap: 64 MiB aligned, 8 MB used, the rest inaccessible.
      `${hex(base + 9 * GiB)}-${hex(base + 9 * GiB + 8 * 2 ** 20)} rw-p 00000000 00:00 0 `,
      'Rss:                8000 kB',
      `${hex(base + 9 * GiB + 8 * 2 ** 20)}-${hex(base + 9 * GiB + 64 * 2 ** 20)} ---p 00000000 00:00 0 `,
      'Rss:                   0 kB',
      '00400000-00a00000 r-xp 00000000 08:01 123 /usr/bin/node (deleted)',
      'Rss:                3000 kB',
      '01000000-02000000 rw-p 00000000 00:00 0 [heap]',
      'Rss:                1024 kB',
      `${hex(base + 10 * GiB)}-${hex(base + 10 * GiB + 2 ** 20)} rw-p 00000000 00:00 0 `,
      'Rss:                 512 kB',
    ].join('\n');
    const maps = parseSmaps(text);
    expect(maps).toHaveLength(7);
    expect(maps[4]!.path).toBe('/usr/bin/node (deleted)');
    const b = classify(maps);
    expect(b.mb).toEqual({ wasm: 2, 'glibc-arenas': 8000 / 1024, 'main-arena': 1, anonymous: 0.5, files: 3000 / 1024 });
    expect(b.regions.wasm).toBe(1);
    expect(b.regions['glibc-arenas']).toBe(1);
  });
});
