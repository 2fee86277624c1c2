import { describe, expect, it } from 'vitest';
import { isStreamError } from '../../src/errors.js';
import { PIPELINE_STATES } from '../../src/metrics/metrics.js';
import { PipelineLifecycle, TRANSITIONS, type PipelineState } from '../../src/runtime/pipeline-lifecycle.js';

describe('PipelineLifecycle', () => {
  it('declares every state the metric knows, and only those', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...PIPELINE_STATES].sort());
  });

  it('reports each state it enters once, the first included, with the state it left', () => {
    const seen: Array<[PipelineState, PipelineState | undefined]> = [];
    const life = new PipelineLifecycle('bids', (s, from) => seen.push([s, from]));
    life.to('running');
    life.to('running');
    life.to('restarting');
    life.to('starting');
    life.to('running');
    life.to('stopping');
    life.to('stopped');
    expect(seen).toEqual([
      ['starting', undefined],
      ['running', 'starting'],
      ['restarting', 'running'],
      ['starting', 'restarting'],
      ['running', 'starting'],
      ['stopping', 'running'],
      ['stopped', 'stopping'],
    ]);
    expect(life.final).toBe(true);
  });

  it('refuses a transition that is not declared, naming the pipeline and both states', () => {
    const life = new PipelineLifecycle('bids', () => {});
    life.to('failed');
    let thrown: unknown;
    try {
      life.to('running');
    } catch (err) {
      thrown = err;
    }
    expect(isStreamError(thrown) && [thrown.code, thrown.message]).toEqual(['PIPELINE_FAILED', 'pipeline bids: no transition from failed to running']);
    expect(life.state).toBe('failed');
    expect(() => new PipelineLifecycle('x', () => {}).to('stopping')).toThrow(/from starting to stopping/);
  });
});
