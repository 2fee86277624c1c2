import { describe, expect, it } from 'vitest';
import { StreamError } from '../../src/errors.js';
import { RestartTracker, outageOf } from '../../src/runtime/restart-policy.js';

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

  it('rides out an outage without counting it toward max_failures: capped backoff, for as long as it lasts', () => {
    let now = 0;
    const t = new RestartTracker(policy, () => now);
    const away = new StreamError('STORAGE_FAILED', 'warehouse unwritable', { foreignCode: 'EACCES' });
    const delays: number[] = [];
    // Fifty failures in 50 minutes, far past maxFailures (3) within the 60 s window.
    for (let i = 0; i < 50; i++) {
      const d = t.onFailure(away, 7);
      expect(d.action).toBe('restart');
      if (d.action !== 'restart') return;
      expect(d.outage?.began).toBe(i === 0);
      expect(d.outage?.error.code).toBe('STORAGE_FAILED');
      delays.push(d.delayMs);
      now += 60_000;
    }
    expect(delays.slice(0, 4)).toEqual([1000, 2000, 3000, 3000]);
    expect(Math.max(...delays)).toBe(3000);
    expect(t.recentFailures()).toBe(0);
    expect(t.outage).toMatchObject({ since: 0, kind: 'restart', epoch: 7, attempts: 50 });
  });

  it('ends a storage outage only with a commit past the failed epoch, and reports its duration', () => {
    let now = 1000;
    const t = new RestartTracker(policy, () => now);
    t.onFailure(new StreamError('CATALOG_UNAVAILABLE', 'catalog away'), 4);
    now += 90_000;
    // A restarted runner that started, or a checkpoint that committed nothing new, proves nothing.
    expect(t.endOutage({ kind: 'started' })).toBeUndefined();
    expect(t.endOutage({ kind: 'commit', epoch: 4 })).toBeUndefined();
    expect(t.endOutage({ kind: 'source' })).toBeUndefined();
    const over = t.endOutage({ kind: 'commit', epoch: 5 });
    expect(over).toMatchObject({ durationMs: 90_000, attempts: 1, kind: 'restart' });
    expect(over?.error.code).toBe('CATALOG_UNAVAILABLE');
    expect(t.outage).toBeUndefined();
    // The next outage starts its backoff again from the first step.
    const next = t.onFailure(new StreamError('CATALOG_UNAVAILABLE', 'catalog away again'), 5);
    expect(next).toMatchObject({ action: 'restart', delayMs: 1000, attempt: 1, outage: { began: true } });
  });

  it('ends a Kafka outage of a restarted runner once a runner starts (it reached the broker)', () => {
    const t = new RestartTracker(policy, () => 0);
    t.onFailure(new StreamError('KAFKA_UNAVAILABLE', 'broker away'), 2);
    expect(t.endOutage({ kind: 'source' })).toBeUndefined();
    expect(t.endOutage({ kind: 'started' })).toMatchObject({ kind: 'restart', attempts: 1 });
  });

  it('ends a source outage only when the source says so; a runner failing during it turns it into a restart outage', () => {
    let now = 0;
    const t = new RestartTracker(policy, () => now);
    const away = new StreamError('KAFKA_UNAVAILABLE', 'connection refused');
    expect(t.sourceTrouble(away, 3)).toBe(true);
    expect(t.sourceTrouble(away, 3)).toBe(false);
    // Rows fetched before the outage may still commit: that proves nothing about the broker.
    expect(t.endOutage({ kind: 'commit', epoch: 9 })).toBeUndefined();
    now = 5000;
    expect(t.endOutage({ kind: 'source' })).toMatchObject({ kind: 'source', durationMs: 5000, attempts: 0 });

    expect(t.sourceTrouble(away, 3)).toBe(true);
    const d = t.onFailure(new StreamError('KAFKA_UNAVAILABLE', 'source thread gave up'), 3);
    // The same outage: no new "degraded" line.
    expect(d).toMatchObject({ action: 'restart', outage: { began: false } });
    expect(t.outage?.kind).toBe('restart');
    expect(t.endOutage({ kind: 'started' })).toBeDefined();
  });

  it('counts what a restart could mend toward max_failures, even during an outage', () => {
    const t = new RestartTracker({ ...policy, maxFailures: 2 }, () => 0);
    t.onFailure(new StreamError('STORAGE_FAILED', 'disk away'), 1);
    expect(t.onFailure(new StreamError('WORKER_CRASHED', 'sink thread died'))).toEqual({ action: 'restart', delayMs: 1000, attempt: 1 });
    expect(t.onFailure(new StreamError('CHECKPOINT_FAILED', 'ack timed out'))).toMatchObject({ action: 'give-up', reason: 'failed 2 times within 60 s' });
  });

  it('classifies outages by code, retryability and cause chain', () => {
    expect(outageOf(new StreamError('KAFKA_UNAVAILABLE', 'x'))?.code).toBe('KAFKA_UNAVAILABLE');
    expect(outageOf(new StreamError('STORAGE_FAILED', 'x', { retryable: false }))).toBeUndefined();
    expect(outageOf(new StreamError('COMMIT_FAILED', 'fenced'))).toBeUndefined();
    expect(outageOf(new StreamError('KAFKA_AUTH_FAILED', 'refused', { cause: new StreamError('KAFKA_UNAVAILABLE', 'x') }))).toBeUndefined();
    const wrapped = new StreamError('ACTOR_FAILED', 'sink thread failed', { cause: new StreamError('STORAGE_FAILED', 'EROFS', { foreignCode: 'EROFS' }) });
    expect(outageOf(wrapped)?.foreignCode).toBe('EROFS');
    // A task that failed because the registry is away names the registry, not the ECONNREFUSED
    // underneath it (which, on its own, would read as storage).
    const registry = new StreamError('ACTOR_FAILED', 'source actor of partition 0 failed', {
      cause: new StreamError('SCHEMA_REGISTRY_UNAVAILABLE', 'schema id 1: connect ECONNREFUSED', {
        cause: new StreamError('STORAGE_FAILED', 'connect ECONNREFUSED', { foreignCode: 'ECONNREFUSED' }),
      }),
    });
    expect(outageOf(registry)?.code).toBe('SCHEMA_REGISTRY_UNAVAILABLE');
    expect(outageOf(new StreamError('SCHEMA_REGISTRY_REFUSED', 'HTTP 401'))).toBeUndefined();
  });
});
