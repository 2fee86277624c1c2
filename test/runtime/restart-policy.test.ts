import { describe, expect, it } from 'vitest';
import { StreamError } from '../../src/errors.js';
import { RestartTracker } from '../../src/runtime/restart-policy.js';

const policy = { maxFailures: 3, windowMs: 60_000, initialBackoffMs: 1000, maxBackoffMs: 3000 };

describe('RestartTracker', () => {
  it('backs off exponentially up to the cap, and marks the pipeline failed at the maxFailures-th failure within the window', () => {
    let now = 0;
    const t = new RestartTracker({ ...policy, maxFailures: 4 }, () => now);
    const crash = new StreamError('ACTOR_FAILED', 'sink died');
    expect(t.onFailure(crash)).toEqual({ action: 'restart', delayMs: 1000, attempt: 1 });
    now += 5000;
    expect(t.onFailure(crash)).toEqual({ action: 'restart', delayMs: 2000, attempt: 2 });
    now += 5000;
    expect(t.onFailure(crash)).toEqual({ action: 'restart', delayMs: 3000, attempt: 3 });
    now += 5000;
    expect(t.onFailure(crash)).toMatchObject({ action: 'give-up', reason: 'failed 4 times within 60 s' });
  });

  it('forgets failures older than the window', () => {
    let now = 0;
    const t = new RestartTracker(policy, () => now);
    const crash = new StreamError('COMMIT_FAILED', 'catalog away');
    for (let i = 0; i < 2; i++) {
      expect(t.onFailure(crash).action).toBe('restart');
      now += 30_000;
    }
    // The first is now outside the 60 s window.
    expect(t.recentFailures()).toBe(1);
    expect(t.onFailure(crash)).toEqual({ action: 'restart', delayMs: 2000, attempt: 2 });
  });

  it('never retries an error that is not retryable, whatever the count', () => {
    const t = new RestartTracker(policy, () => 0);
    expect(t.onFailure(new StreamError('SCHEMA_INCOMPATIBLE_CHANGE', 'column dropped'))).toEqual({
      action: 'give-up',
      reason: 'SCHEMA_INCOMPATIBLE_CHANGE is not retryable (user error)',
    });
  });
});
