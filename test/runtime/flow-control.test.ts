import { describe, expect, it } from 'vitest';
import { FlowControl } from '../../src/runtime/flow-control.js';

/** A FlowControl over partitions 0..n-1 whose pause/resume commands are recorded as the source's state. */
function setup(n: number, sinkBudget: number, finished: Set<number> = new Set()) {
  const paused = new Set<number>();
  const buffered: number[] = [];
  const flow = new FlowControl({
    sinkBudget,
    pause: (ps) => ps.forEach((p) => paused.add(p)),
    resume: (ps) => ps.forEach((p) => paused.delete(p)),
    finished: (p) => finished.has(p),
    buffered: (b) => buffered.push(b),
  });
  for (let p = 0; p < n; p++) flow.add(p);
  return { flow, paused, buffered };
}

describe('FlowControl', () => {
  it('pauses only the partition whose actor asks, and resumes it when it asks again', () => {
    const { flow, paused } = setup(3, 100);
    flow.backpressure(1, true);
    expect([...paused]).toEqual([1]);
    flow.backpressure(1, false);
    expect([...paused]).toEqual([]);
  });

  it('pauses every partition above the sink budget and resumes them only below half of it', () => {
    const { flow, paused, buffered } = setup(3, 100);
    flow.sent(60);
    expect(paused.size).toBe(0);
    flow.sent(60);
    expect([...paused].sort()).toEqual([0, 1, 2]);
    flow.consumed(10); // 110: still above half the budget
    expect(paused.size).toBe(3);
    flow.consumed(60); // 50: at half the budget
    expect(paused.size).toBe(0);
    expect(buffered).toEqual([60, 120, 110, 50]);
    expect(flow.buffered).toBe(50);
  });

  it('keeps a partition its actor paused paused when the sink resumes the rest', () => {
    const { flow, paused } = setup(2, 100);
    flow.backpressure(0, true);
    flow.sent(150);
    flow.consumed(150);
    expect([...paused]).toEqual([0]);
  });

  it('never resumes a finished partition, and changes nothing once frozen', () => {
    const finished = new Set([2]);
    const { flow, paused } = setup(3, 100, finished);
    paused.add(2); // paused when it finished
    flow.sent(150);
    flow.consumed(150);
    expect([...paused]).toEqual([2]);
    flow.freeze();
    flow.sent(500);
    expect([...paused]).toEqual([2]);
  });
});
