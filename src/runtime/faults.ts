// Failure injection for the recovery and fault tests, from STREAMBERG_FAULTS, a comma-separated
// list of:
//   transform-exit:<pipeline>:<n>        the n-th transform task of the pipeline ends its worker thread
//   sink-exit:<pipeline>:<n>             the n-th sink data message ends the sink thread
//   commit-fail:<pipeline>:<n>           the n-th table commit fails (COMMIT_FAILED)
//   kill-at:<step>:<pipeline>:<n>        the n-th time the commit order reaches <step> (a CommitStep
//                                        of checkpoint-coordinator.ts), the process is killed (SIGKILL)
//   transform-exit-every:<pipeline>:<n>  every n-th task run by each transform worker thread ends it
//   commit-delay:<pipeline>:<ms>         every scale-out commit waits <ms> between building on the
//                                        table's head and the swap, so processes' commits overlap
// Each fault but the last happens once per marker directory (STREAMBERG_FAULT_DIR), across threads
// and restarts of the process, so the restarted actor runs clean. `transform-exit-every` repeats for
// as long as the process runs: each new worker thread counts from zero, so with n ≥ 2 the retried
// task (the new worker's first) succeeds. Unset, this costs one Map lookup per task.

import { mkdirSync, openSync, closeSync } from 'node:fs';
import path from 'node:path';

export type FaultKind = 'transform-exit' | 'sink-exit' | 'commit-fail' | 'transform-exit-every' | `kill-at:${string}`;

const ONCE_KINDS = new Set(['transform-exit', 'sink-exit', 'commit-fail']);

const specs = new Map<string, number>();
for (const part of (process.env.STREAMBERG_FAULTS ?? '').split(',').filter((p) => p !== '')) {
  const fields = part.split(':');
  // kill-at names its step too: kill-at:<step>:<pipeline>:<n>.
  const kind = fields[0] === 'kill-at' ? `kill-at:${fields[1]}` : fields[0]!;
  const [pipeline, n] = fields[0] === 'kill-at' ? fields.slice(2) : fields.slice(1);
  const known = ONCE_KINDS.has(kind) || kind === 'transform-exit-every' || kind === 'commit-delay' || (kind.startsWith('kill-at:') && fields.length === 4);
  if (known && pipeline && Number(n) > 0) specs.set(`${kind}:${pipeline}`, Number(n));
}
const counts = new Map<string, number>();

/**
 * True when the fault is due (the caller then fails on purpose): exactly once per marker
 * directory for the one-shot kinds, every n-th call in this thread for `transform-exit-every`.
 */
export function shouldFail(kind: FaultKind, pipeline: string): boolean {
  if (specs.size === 0) return false;
  const key = `${kind}:${pipeline}`;
  const at = specs.get(key);
  if (at === undefined) return false;
  const n = (counts.get(key) ?? 0) + 1;
  counts.set(key, n);
  if (kind === 'transform-exit-every') return n % at === 0;
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

/** Kills the whole process, as kill -9 would, when a `kill-at` fault for `step` is due. */
export function killIfDue(step: string, pipeline: string): void {
  if (shouldFail(`kill-at:${step}`, pipeline)) process.kill(process.pid, 'SIGKILL');
}

/** The `commit-delay` of a pipeline in milliseconds; 0 without one. */
export function commitDelayMs(pipeline: string): number {
  return specs.get(`commit-delay:${pipeline}`) ?? 0;
}
