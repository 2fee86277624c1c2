// Failure injection for the recovery tests: STREAMBERG_FAULTS="transform-exit:<pipeline>:<n>,
// sink-exit:<pipeline>:<n>,commit-fail:<pipeline>:<n>" makes the n-th transform task / sink data
// message of that pipeline end its worker thread abruptly, or its n-th table commit fail, once
// per marker directory (STREAMBERG_FAULT_DIR), so the restarted actor runs clean. Unset, this
// costs one Map lookup per task.

import { mkdirSync, openSync, closeSync } from 'node:fs';
import path from 'node:path';

export type FaultKind = 'transform-exit' | 'sink-exit' | 'commit-fail';

const specs = new Map<string, number>();
for (const part of (process.env.STREAMBERG_FAULTS ?? '').split(',').filter((p) => p !== '')) {
  const [kind, pipeline, n] = part.split(':');
  if ((kind === 'transform-exit' || kind === 'sink-exit' || kind === 'commit-fail') && pipeline && Number(n) > 0) specs.set(`${kind}:${pipeline}`, Number(n));
}
const counts = new Map<string, number>();

/** True exactly once per fault (across threads and restarts): the caller then fails on purpose. */
export function shouldFail(kind: FaultKind, pipeline: string): boolean {
  if (specs.size === 0) return false;
  const key = `${kind}:${pipeline}`;
  const at = specs.get(key);
  if (at === undefined) return false;
  const n = (counts.get(key) ?? 0) + 1;
  counts.set(key, n);
  if (n < at) return false;
  const dir = process.env.STREAMBERG_FAULT_DIR ?? path.join(process.cwd(), '.run', 'faults');
  mkdirSync(dir, { recursive: true });
  try {
    // O_EXCL: of all threads that reach the count, one creates the marker and fails.
    closeSync(openSync(path.join(dir, key.replace(/[^A-Za-z0-9_.-]/g, '_')), 'wx'));
    return true;
  } catch {
    return false;
  }
}
