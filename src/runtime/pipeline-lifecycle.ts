// The lifecycle of one pipeline under the supervisor, as a state machine: the states and the
// legal transitions between them are declared once, here, and every change of state goes
// through `to()`, which also sets the state metric (the one place it is set). A transition that
// is not declared throws: it is a bug in the supervisor, not something to carry on from.
//
//   starting ──▶ running ──▶ stopping ──▶ stopped
//      │  ▲         │  ▲         │
//      ▼  │         ▼  │         ▼
//    restarting ◀── degraded ◀───┘        any of starting, running, degraded, stopping ──▶ failed
//
// `degraded`: a peer (the broker, the catalog, the warehouse) is away and the pipeline rides the
// outage out: its runner retries (the source fetching with backoff, or the runner restarted with
// backoff) until the outage is proven over, then it is `running` again. A failure that is not an
// outage goes to `restarting` from there as from `running`. `stopped` and `failed` are final.

import { StreamError } from '../errors.js';
import type { PipelineState } from '../metrics/metrics.js';

export type { PipelineState };

export const TRANSITIONS: { readonly [S in PipelineState]: readonly PipelineState[] } = {
  starting: ['running', 'degraded', 'restarting', 'failed', 'stopped'],
  running: ['stopping', 'degraded', 'restarting', 'failed', 'stopped'],
  degraded: ['running', 'stopping', 'restarting', 'failed', 'stopped'],
  // A final checkpoint that fails: restarted (bounded runs) or failed for good (shutdown).
  stopping: ['stopped', 'restarting', 'degraded', 'failed'],
  // A restart during an outage stays degraded until the outage is proven over.
  restarting: ['starting', 'degraded', 'stopped'],
  stopped: [],
  failed: [],
};

export class PipelineLifecycle {
  private current: PipelineState = 'starting';

  constructor(
    readonly pipeline: string,
    /** Called with every state entered, the first included. */
    private readonly entered: (state: PipelineState, from: PipelineState | undefined) => void,
  ) {
    entered('starting', undefined);
  }

  get state(): PipelineState {
    return this.current;
  }

  /** Stopped or failed: nothing more will happen to this pipeline. */
  get final(): boolean {
    return TRANSITIONS[this.current].length === 0;
  }

  /** Moves to `next`; staying in the same state is allowed and changes nothing. */
  to(next: PipelineState): void {
    if (next === this.current) return;
    if (!TRANSITIONS[this.current].includes(next)) {
      throw new StreamError('PIPELINE_FAILED', `pipeline ${this.pipeline}: no transition from ${this.current} to ${next}`);
    }
    const from = this.current;
    this.current = next;
    this.entered(next, from);
  }
}
