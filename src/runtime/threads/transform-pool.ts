// The transform actors: a piscina pool of worker threads shared by every pipeline, sized by
// --parallelism. A task that fails because its worker died is rejected here and retried by the
// source actor on a fresh worker (piscina replaces dead workers by itself).

import { Piscina } from 'piscina';
import { StreamError, deserializeError, toStreamError } from '../../errors.js';
import type { TransformSpec } from '../../transform/batch-transform.js';
import { workerFile } from './worker-host.js';
import type { TransformTask, TransformTaskOutcome, TransformTaskResult } from './transform-messages.js';

/** Young generation of each transform worker's V8 heap (benchmarks/README.md, Memory). */
export const TRANSFORM_YOUNG_GENERATION_MB = 16;

export class TransformPool {
  private readonly piscina: Piscina;

  constructor(specs: Map<string, TransformSpec>, threads: number) {
    this.piscina = new Piscina({
      filename: workerFile('transform-worker'),
      // Started by the first tasks, not with the process: a runtime waiting for its first
      // record holds no worker (each is ~25 MB of V8 heap before its first task).
      minThreads: 0,
      maxThreads: threads,
      // The bound is the per-partition in-flight limit of the source actors, not this queue:
      // a full queue would reject tasks instead of slowing the sources down.
      maxQueue: Infinity,
      // Ended after ten minutes without a task: a quiet runtime gives their memory back, and a
      // trickle of records does not start them over and over.
      idleTimeout: 600_000,
      workerData: { specs: [...specs] },
      // V8 lets a worker's young generation grow to 48 MB; a task's garbage (one chunk's strings
      // and column arrays) dies young whatever the size, so a smaller one holds less for the
      // same work. Measured on W1 (interleaved): 60 → 45 MB of heap per worker, peak RSS −35 MB,
      // the workers' CPU the same within the noise. Too small (2 MB semi-spaces) cost 20 % CPU.
      resourceLimits: { maxYoungGenerationSizeMb: TRANSFORM_YOUNG_GENERATION_MB },
    });
  }

  async run(task: TransformTask): Promise<TransformTaskResult> {
    let outcome: TransformTaskOutcome;
    try {
      outcome = (await this.piscina.run(task)) as TransformTaskOutcome;
    } catch (err) {
      const e = toStreamError(err, 'WORKER_CRASHED');
      // A user error thrown by the transformation (on_error: fail) is final; anything else —
      // a worker that died or threw unexpectedly — is worth a retry on another worker.
      if (e.domain === 'user') throw e;
      throw new StreamError('WORKER_CRASHED', `transform task failed: ${e.message}`, { cause: err, retryable: true });
    }
    if (outcome.kind === 'failed') throw deserializeError(outcome.error);
    return outcome;
  }

  get utilization(): number {
    return this.piscina.utilization;
  }

  get queueSize(): number {
    return this.piscina.queueSize;
  }

  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}
