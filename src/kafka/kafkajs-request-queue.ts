// A fix to kafkajs' RequestQueue, applied once per thread on import (client.ts imports this, so
// every thread that makes a client has it). kafkajs 2.2.4 — its last release, pinned — re-arms the
// queue's pending-request check after every check, and with nothing pending and no throttle the
// delay it computes (throttledUntil - now, throttledUntil = -1) is negative: once a connection has
// completed a request, a 1 ms timer fires and re-arms itself for as long as the connection lives
// (tulios/kafkajs#1556 and #1704; the fix proposed in #1667 was never released). Every connection
// of every pipeline then woke its thread about a thousand times a second doing nothing — most of
// what an idle pipeline cost.
//
// Patched: the check is scheduled only while requests are pending, at the throttle's end (or after
// kafkajs' 10 ms when that has passed). Nothing else needs it: a request pushed with room is sent
// at once, and each request that completes checks the queue itself.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface RequestQueueState {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs' own interval for a throttle that has already passed (requestQueue/index.js). */
const CHECK_PENDING_REQUESTS_INTERVAL = 10;

function scheduleCheckPendingRequests(this: RequestQueueState): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const untilUnthrottled = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(
    () => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    },
    untilUnthrottled > 0 ? untilUnthrottled : CHECK_PENDING_REQUESTS_INTERVAL,
  );
}

/** kafkajs' RequestQueue class, as its connections construct it. */
export const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (options: Record<string, unknown>) => RequestQueueState;
(RequestQueue.prototype as RequestQueueState).scheduleCheckPendingRequests = scheduleCheckPendingRequests;
