// Where a process's resident memory is, read from outside at its peak: /proc/<pid>/smaps cut into
// the kinds of region a Node.js runtime holds, so a peak RSS figure says what to bound.
//
// The kinds are told apart by shape, not by name (anonymous memory has none):
//   - WebAssembly memories (parquet-wasm's heap): V8 reserves 8 GiB plus guard regions for each
//     wasm32 memory and makes the used part readable; a readable anonymous region followed by an
//     inaccessible one, together ≥ 4 GiB.
//   - glibc arenas of threads other than the main one: heaps of 64 MiB (HEAP_MAX_SIZE on 64-bit),
//     aligned on 64 MiB, the used part readable and the rest inaccessible. ArrayBuffer contents
//     (Kafka chunks, Arrow columns and IPC bytes) below glibc's mmap threshold live here.
//   - `[heap]`: the main thread's arena (brk).
//   - other anonymous memory: V8's heap pages (256 KiB each), large objects, and malloc's own
//     mmaps of large blocks (above the threshold), thread stacks.
//   - files: the node binary, shared libraries, native addons.
// Hazard: reading smaps walks the process's page tables while holding its memory map lock; the
// sampler reads it only when RSS reaches a new peak, a few times per run.

import { readFileSync } from 'node:fs';

export interface Mapping {
  start: number;
  end: number;
  perms: string;
  path: string;
  rssKb: number;
}

const HEADER = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \d+\s*(.*)$/;

/** The mappings of /proc/<pid>/smaps text, each with its Rss. */
export function parseSmaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  let cur: Mapping | undefined;
  for (const line of text.split('\n')) {
    const h = HEADER.exec(line);
    if (h) {
      // Addresses reach 2^47: above 2^53 they would lose bits, below they are exact in a double.
      cur = { start: parseInt(h[1]!, 16), end: parseInt(h[2]!, 16), perms: h[3]!, path: h[4]!.trim(), rssKb: 0 };
      out.push(cur);
    } else if (cur && line.startsWith('Rss:')) {
      cur.rssKb = Number(line.slice(4).trim().split(/\s+/)[0]);
    }
  }
  return out;
}

export type MemoryKind = 'wasm' | 'glibc-arenas' | 'main-arena' | 'anonymous' | 'files';
export const MEMORY_KINDS: readonly MemoryKind[] = ['wasm', 'glibc-arenas', 'main-arena', 'anonymous', 'files'];

const MiB = 1024 * 1024;
const ARENA_HEAP_BYTES = 64 * MiB;
const WASM_RESERVATION_BYTES = 4 * 1024 * MiB;

/** Resident MB by kind; each kind's regions counted (wasm memories, arena heaps). */
export interface MemoryBreakdown {
  rssMb: number;
  mb: Record<MemoryKind, number>;
  regions: Record<MemoryKind, number>;
  /** Resident MB of each WebAssembly memory, largest first. */
  wasmMemoriesMb: number[];
}

export function classify(maps: readonly Mapping[]): MemoryBreakdown {
  const kb: Record<MemoryKind, number> = { wasm: 0, 'glibc-arenas': 0, 'main-arena': 0, anonymous: 0, files: 0 };
  const regions: Record<MemoryKind, number> = { wasm: 0, 'glibc-arenas': 0, 'main-arena': 0, anonymous: 0, files: 0 };
  const wasm: number[] = [];
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i]!;
    if (m.path === '[heap]') {
      kb['main-arena'] += m.rssKb;
      regions['main-arena']++;
      continue;
    }
    if (m.path !== '' && !m.path.startsWith('[anon')) {
      kb.files += m.rssKb;
      continue;
    }
    // A readable region and the inaccessible rest of its reservation, adjacent.
    const next = maps[i + 1];
    const reserved = next && next.start === m.end && next.perms.startsWith('---') && next.path === '' ? next.end - next.start : 0;
    const whole = m.end - m.start + reserved;
    if (m.perms.startsWith('rw') && whole >= WASM_RESERVATION_BYTES) {
      kb.wasm += m.rssKb;
      regions.wasm++;
      wasm.push(m.rssKb / 1024);
      i += reserved > 0 ? 1 : 0;
    } else if (m.perms.startsWith('rw') && m.start % ARENA_HEAP_BYTES === 0 && whole === ARENA_HEAP_BYTES) {
      kb['glibc-arenas'] += m.rssKb;
      regions['glibc-arenas']++;
      i += reserved > 0 ? 1 : 0;
    } else {
      kb.anonymous += m.rssKb;
    }
  }
  const mb = Object.fromEntries(MEMORY_KINDS.map((k) => [k, kb[k] / 1024])) as Record<MemoryKind, number>;
  return { rssMb: MEMORY_KINDS.reduce((s, k) => s + mb[k], 0), mb, regions, wasmMemoriesMb: wasm.sort((a, b) => b - a) };
}

function vmRssKb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Polls one process's RSS; at each new peak (1 % above the last) reads and keeps its breakdown. */
export class PeakMemory {
  peakRssKb = 0;
  atPeak: MemoryBreakdown | undefined;
  private lastReadKb = 0;

  constructor(readonly pid: number) {}

  sample(): void {
    const rss = vmRssKb(this.pid);
    if (rss === null) return;
    this.peakRssKb = Math.max(this.peakRssKb, rss);
    if (rss <= this.lastReadKb * 1.01) return;
    try {
      this.atPeak = classify(parseSmaps(readFileSync(`/proc/${this.pid}/smaps`, 'utf8')));
      this.lastReadKb = rss;
    } catch {
      // The process ended between the two reads.
    }
  }
}

/** One line per kind: resident MB at the peak, and how many regions. */
export function formatBreakdown(b: MemoryBreakdown): string {
  const parts = MEMORY_KINDS.map((k) => {
    const n = k === 'wasm' || k === 'glibc-arenas' ? ` in ${b.regions[k]}` : '';
    return `${k} ${b.mb[k].toFixed(0)} MB${n}`;
  });
  const wasm = b.wasmMemoriesMb.length > 0 ? ` (wasm memories ${b.wasmMemoriesMb.map((x) => x.toFixed(0)).join(' + ')} MB)` : '';
  return `  at peak, ${b.rssMb.toFixed(0)} MB by smaps: ${parts.join(', ')}${wasm}`;
}
