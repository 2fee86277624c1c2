// When a pipeline fails: restart it after an exponential backoff, unless it has failed too often
// lately, in which case it is marked failed and left alone while the others go on. The decision
// reads the error's fields (retryable, domain), never its text: a user error (bad config, a
// transformer that throws on every batch with on_error=fail) is not retried at all.

import type { RestartPolicy } from '../config/types.js';
import type { StreamError } from '../errors.js';

export type RestartDecision = { action: 'restart'; delayMs: number; attempt: number } | { action: 'give-up'; reason: string };

export class RestartTracker {
  private failures: number[] = [];

  constructor(
    private readonly policy: RestartPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a failure and says what to do about it. */
  onFailure(error: StreamError): RestartDecision {
    const t = this.now();
    this.failures = this.failures.filter((at) => t - at < this.policy.windowMs);
    this.failures.push(t);
    if (!error.retryable) return { action: 'give-up', reason: `${error.code} is not retryable (${error.domain} error)` };
    const attempt = this.failures.length;
    if (attempt >= this.policy.maxFailures) {
      return { action: 'give-up', reason: `failed ${attempt} times within ${Math.round(this.policy.windowMs / 1000)} s` };
    }
    const delayMs = Math.min(this.policy.maxBackoffMs, this.policy.initialBackoffMs * 2 ** (attempt - 1));
    return { action: 'restart', delayMs, attempt };
  }

  /** Failures inside the window, for metrics and logs. */
  recentFailures(): number {
    const t = this.now();
    return this.failures.filter((at) => t - at < this.policy.windowMs).length;
  }
}
