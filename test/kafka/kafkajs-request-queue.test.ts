// kafkajs' RequestQueue as every client of the runtime gets it (through client.ts): an idle
// connection arms no timer, so it does not wake its thread a thousand times a second; a request
// held back by a throttle is still sent when the throttle ends.

import { describe, expect, it } from 'vitest';
import '../../src/kafka/client.js';
import { RequestQueue } from '../../src/kafka/kafkajs-request-queue.js';

const logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

function queue() {
  return new RequestQueue({ maxInFlightRequests: 1, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: 'test', broker: 'b:1', logger }) as unknown as {
    pending: Array<{ send(): void }>;
    throttledUntil: number;
    throttleCheckTimeoutId: NodeJS.Timeout | null;
    canSendSocketRequestImmediately(): boolean;
    sendSocketRequest(r: unknown): void;
    checkPendingRequests(): void;
    destroy(): void;
  };
}

describe("kafkajs' RequestQueue, patched", () => {
  it('arms no timer when nothing is pending (kafkajs 2.2.4 re-armed a 1 ms timer for ever)', () => {
    const q = queue();
    try {
      // What a connection does after each completed request.
      q.checkPendingRequests();
      expect(q.throttleCheckTimeoutId).toBeNull();
    } finally {
      q.destroy();
    }
  });

  it('still checks a pending request again when the throttle ends', async () => {
    const q = queue();
    const sent: unknown[] = [];
    try {
      q.throttledUntil = Date.now() + 30;
      q.sendSocketRequest = (r) => sent.push(r);
      q.pending.push({ send: () => {} });
      q.checkPendingRequests();
      expect(sent).toEqual([]);
      expect(q.throttleCheckTimeoutId).not.toBeNull();
      await new Promise((resolve) => setTimeout(resolve, 80));
      expect(sent).toHaveLength(1);
      expect(q.pending).toEqual([]);
      expect(q.throttleCheckTimeoutId).toBeNull();
    } finally {
      q.destroy();
    }
  });
});
