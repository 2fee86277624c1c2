// Loaded into every thread of a measured runtime by `NODE_OPTIONS=--require <this file>`
// (Node.js runs --require preloads in worker threads too; --import ones it does not): each
// thread keeps the peak of its own V8 heap (v8.getHeapStatistics) and of the WebAssembly memories
// it instantiated, and writes them to BENCH_MEMORY_PROBE_DIR/<tid>.json whenever they grow by a
// tenth, so a thread that is ended before the process exits has left its figures behind.
//
// Hazard: this changes what it measures a little — one timer per thread every 100 ms, unref'd so
// it never keeps a thread alive, a wrapped WebAssembly.Instance constructor and Atomics.wait. Only the
// benchmark loads it, and only with --memory-probe.

import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';

export interface ThreadMemory {
  tid: number;
  name: string;
  /**
   * Peaks, in MB: V8's heap resident (total_physical_size), its live objects, the off-heap memory
   * V8 knows of (external: ArrayBuffers, WebAssembly memories included), and WebAssembly memories.
   */
  heapPhysicalMb: number;
  heapUsedMb: number;
  externalMb: number;
  wasmMb: number;
}

const dir = process.env.BENCH_MEMORY_PROBE_DIR;
if (dir !== undefined && process.platform === 'linux') startProbe(dir);

// The part of the WebAssembly namespace used here (the project's lib has no DOM types).
interface WasmMemory {
  buffer: ArrayBuffer;
}
interface WasmApi {
  Instance: new (...args: unknown[]) => { exports: Record<string, unknown> };
  Memory: new (...args: unknown[]) => WasmMemory;
}

function startProbe(out: string): void {
  const wa = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
  const memories: WasmMemory[] = [];
  // Every instance's exported memory is seen: parquet-wasm exports its heap as `memory`.
  wa.Instance = new Proxy(wa.Instance, {
    construct(target, args: unknown[]) {
      const instance = Reflect.construct(target, args) as InstanceType<WasmApi['Instance']>;
      for (const e of Object.values(instance.exports)) if (e instanceof wa.Memory) memories.push(e);
      return instance;
    },
  });
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  const MB = 1024 * 1024;
  const peak: ThreadMemory = { tid, name: '', heapPhysicalMb: 0, heapUsedMb: 0, externalMb: 0, wasmMb: 0 };
  let written = 0;
  const tick = (): void => {
    const h = v8.getHeapStatistics();
    peak.heapPhysicalMb = Math.max(peak.heapPhysicalMb, h.total_physical_size / MB);
    peak.heapUsedMb = Math.max(peak.heapUsedMb, h.used_heap_size / MB);
    peak.externalMb = Math.max(peak.externalMb, h.external_memory / MB);
    peak.wasmMb = Math.max(peak.wasmMb, memories.reduce((s, m) => s + m.buffer.byteLength, 0) / MB);
    const sum = peak.heapPhysicalMb + peak.externalMb + peak.wasmMb;
    if (sum < written * 1.1 && written > 0) return;
    written = sum;
    try {
      peak.name = readFileSync('/proc/thread-self/comm', 'utf8').trim();
      writeFileSync(path.join(out, `${tid}.json`), JSON.stringify(peak));
    } catch {
      // The folder is gone: the benchmark has finished with this run.
    }
  };
  setInterval(tick, 100).unref();
  // piscina's workers wait for tasks in Atomics.wait, so their event loop (and the timer) does
  // not run between tasks: they are read on the way into that wait instead, at most every 100 ms.
  const atomics = Atomics as unknown as { wait: (...args: unknown[]) => string };
  const wait = atomics.wait;
  let last = 0;
  atomics.wait = (...args: unknown[]) => {
    const now = Date.now();
    if (now - last >= 100) {
      last = now;
      tick();
    }
    return wait(...args);
  };
}
