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

  it('goes degraded from running, starting, stopping and restarting, and back to running, setting the metrics', async () => {
    const { RuntimeMetrics } = await import('../../src/metrics/metrics.js');
    const { Registry } = await import('prom-client');
    const metrics = new RuntimeMetrics(new Registry(), { processMetrics: false });
    const life = new PipelineLifecycle('bids', (s) => metrics.setState('bids', s));
    const degraded = async () => (await metrics.pipelineDegraded.get()).values.find((v) => v.labels.pipeline === 'bids')?.value;
    const state = async (s: PipelineState) => (await metrics.pipelineState.get()).values.find((v) => v.labels.state === s)?.value;
    expect(await degraded()).toBe(0);
    life.to('degraded');
    expect(await degraded()).toBe(1);
    expect(await state('degraded')).toBe(1);
    expect(await state('starting')).toBe(0);
    life.to('running');
    expect(await degraded()).toBe(0);
    life.to('degraded');
    life.to('restarting');
    life.to('degraded');
    life.to('stopping');
    life.to('degraded');
    life.to('stopped');
    expect(await degraded()).toBe(0);
    expect(() => new PipelineLifecycle('x', () => {}).to('failed')).not.toThrow();
    const done = new PipelineLifecycle('y', () => {});
    done.to('stopped');
    expect(() => done.to('degraded')).toThrow(/from stopped to degraded/);
  });
});
