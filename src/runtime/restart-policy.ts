// When a pipeline fails: restart it after an exponential backoff, unless it has failed too often
// lately, in which case it is marked failed and left alone while the others go on. The decision
// reads the error's fields (code, retryable, domain), never its text: a user error (bad config, a
// transformer that throws on every batch with on_error=fail) is not retried at all.
//
// An outage of a peer (the broker unreachable, the catalog or the warehouse unavailable or
// unwritable, throttling, the schema registry not answering) is not a failure a restart could mend: it passes when the peer comes
// back, however long that takes. Such errors do not count toward `max_failures`; the pipeline is
// degraded, and retried with capped exponential backoff for as long as the outage lasts. The
// outage ends when the pipeline has proven it works again (see `endOutage`), which resets the
// backoff. `max_failures` keeps applying to what a restart could have mended but did not: a
// crashed worker, a commit that lost to another writer too often, a checkpoint that timed out.

import type { RestartPolicy } from '../config/types.js';
import { StreamError, type ErrorCode } from '../errors.js';

/** Codes that name a peer being away: retried for as long as they last. */
export const OUTAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'KAFKA_UNAVAILABLE',
  'KAFKA_TOPIC_MISSING',
  'KAFKA_PROTOCOL',
  'CATALOG_UNAVAILABLE',
  'STORAGE_FAILED',
  'SCHEMA_REGISTRY_UNAVAILABLE',
]);

/**
 * The link of `error`'s cause chain that names an outage, if any. The error itself must be
 * external and retryable: a wrapper that says retrying cannot help (a refused credential over a
 * lost connection) decides. Causes count because a wrapper (a failed checkpoint, a crashed
 * thread) often carries the peer's own error underneath.
 */
export function outageOf(error: StreamError): StreamError | undefined {
  if (!error.retryable) return undefined;
  let link: unknown = error;
  for (let depth = 0; link instanceof StreamError && depth <= 8; depth++, link = link.cause) {
    if (link.domain === 'external' && link.retryable && OUTAGE_CODES.has(link.code)) return link;
  }
  return undefined;
}

export type RestartDecision =
  | {
      action: 'restart';
      delayMs: number;
      attempt: number;
      /** Set when the failure is an outage: `began` is true for the first failure of one. */
      outage?: { began: boolean; error: StreamError };
    }
  | { action: 'give-up'; reason: string };

/** A peer's outage as the pipeline rides it out. */
export interface Outage {
  since: number;
  /** The error that began it (its code and message are logged once). */
  error: StreamError;
  /**
   * `source`: the Kafka source reported trouble and rides it out itself; the runner keeps
   * running, and the source says when it is over. `restart`: the runner failed and is being
   * restarted; the outage is over once a restarted runner commits a checkpoint past `epoch`.
   */
  kind: 'source' | 'restart';
  /** The last committed epoch when the runner failed. */
  epoch: number;
  attempts: number;
}

export class RestartTracker {
  private failures: number[] = [];
  private current: Outage | undefined;

  constructor(
    private readonly policy: RestartPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  /** The outage being ridden out, if any. */
  get outage(): Outage | undefined {
    return this.current;
  }

  /**
   * Records a failure and says what to do about it. `epoch` is the last epoch the failed runner
   * committed: an outage ends only with a commit past it.
   */
  onFailure(error: StreamError, epoch = 0): RestartDecision {
    const t = this.now();
    if (!error.retryable) {
      this.failures.push(t);
      return { action: 'give-up', reason: `${error.code} is not retryable (${error.domain} error)` };
    }
    const outage = outageOf(error);
    if (outage) {
      const began = this.current === undefined;
      this.current ??= { since: t, error: outage, kind: 'restart', epoch, attempts: 0 };
      // A source outage whose runner then failed: from now on only a commit proves it over.
      this.current.kind = 'restart';
      this.current.epoch = Math.max(this.current.epoch, epoch);
      const attempt = ++this.current.attempts;
      return { action: 'restart', delayMs: this.backoff(attempt), attempt, outage: { began, error: outage } };
    }
    this.failures = this.failures.filter((at) => t - at < this.policy.windowMs);
    this.failures.push(t);
    const attempt = this.failures.length;
    if (attempt >= this.policy.maxFailures) {
      return { action: 'give-up', reason: `failed ${attempt} times within ${Math.round(this.policy.windowMs / 1000)} s` };
    }
    return { action: 'restart', delayMs: this.backoff(attempt), attempt };
  }

  /** The source reports trouble while the runner runs on. True when this begins an outage. */
  sourceTrouble(error: StreamError, epoch: number): boolean {
    if (this.current) return false;
    this.current = { since: this.now(), error, kind: 'source', epoch, attempts: 0 };
    return true;
  }

  /**
   * Ends the outage if what just happened proves it over, and returns it with its duration:
   * - `source`: the source fetches again, which ends a source outage;
   * - `started`: a restarted runner reached the broker (partitions, offsets, fetching), which
   *   ends a restart outage of Kafka;
   * - `commit`: a restarted runner committed a checkpoint past the failed one's epoch, which ends
   *   a restart outage of the catalog or the warehouse. A checkpoint that wrote nothing proves
   *   nothing about storage, and a commit during a source outage may hold rows fetched before it.
   */
  endOutage(proof: { kind: 'source' } | { kind: 'started' } | { kind: 'commit'; epoch: number }): (Outage & { durationMs: number }) | undefined {
    const o = this.current;
    if (!o) return undefined;
    const kafka = o.error.code.startsWith('KAFKA_');
    const over =
      proof.kind === 'source' ? o.kind === 'source' : proof.kind === 'started' ? o.kind === 'restart' && kafka : o.kind === 'restart' && proof.epoch > o.epoch;
    if (!over) return undefined;
    this.current = undefined;
    return { ...o, durationMs: this.now() - o.since };
  }

  /** Failures inside the window, for metrics and logs. Outages are not counted. */
  recentFailures(): number {
    const t = this.now();
    return this.failures.filter((at) => t - at < this.policy.windowMs).length;
  }

  private backoff(attempt: number): number {
    return Math.min(this.policy.maxBackoffMs, this.policy.initialBackoffMs * 2 ** Math.min(attempt - 1, 30));
  }
}
