// The lifecycle of one pipeline under the supervisor, as a state machine: the states and the
// legal transitions between them are declared once, here, and every change of state goes
// through `to()`, which also sets the state metric (the one place it is set). A transition that
// is not declared throws: it is a bug in the supervisor, not something to carry on from.
//
//   starting ──▶ running ──▶ stopping ──▶ stopped
//      │  ▲         │            │
//      ▼  │         ▼            ▼
//    restarting ◀───┴────────────┘        any of starting, running, stopping ──▶ failed
//
// `stopped` and `failed` are final. A new state (e.g. a degraded pipeline riding out an outage)
// is one more key here and in the metric's list of states.

import { StreamError } from '../errors.js';
import type { PipelineState } from '../metrics/metrics.js';

export type { PipelineState };

export const TRANSITIONS: { readonly [S in PipelineState]: readonly PipelineState[] } = {
  starting: ['running', 'restarting', 'failed', 'stopped'],
  running: ['stopping', 'restarting', 'failed', 'stopped'],
  // A final checkpoint that fails: restarted (bounded runs) or failed for good (shutdown).
  stopping: ['stopped', 'restarting', 'failed'],
  restarting: ['starting', 'stopped'],
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
