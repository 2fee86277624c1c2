import { describe, expect, it } from 'vitest';
import { resetPolicyOf, resolveOutOfRange } from '../../src/kafka/offset-reset.js';

describe('resolveOutOfRange', () => {
  it('below the log start: from the log start, whatever the policy, with the lost range', () => {
    for (const policy of ['earliest', 'latest'] as const) {
      expect(resolveOutOfRange(10n, 40n, 90n, policy)).toEqual({ kind: 'retention', to: 40n, lostFrom: 10n, lostTo: 40n });
    }
  });

  it('past the end: the log start with earliest, the end with latest', () => {
    expect(resolveOutOfRange(1000n, 0n, 100n, 'earliest')).toEqual({ kind: 'past-end', to: 0n, policy: 'earliest' });
    expect(resolveOutOfRange(1000n, 0n, 100n, 'latest')).toEqual({ kind: 'past-end', to: 100n, policy: 'latest' });
  });

  it('inside the range, ends included: fetched again, nothing skipped', () => {
    for (const position of [40n, 60n, 90n]) expect(resolveOutOfRange(position, 40n, 90n, 'earliest')).toEqual({ kind: 'retry' });
  });
});

describe('resetPolicyOf', () => {
  it('follows scan_mode as Flink sets auto.offset.reset', () => {
    expect(resetPolicyOf('earliest-offset')).toBe('earliest');
    expect(resetPolicyOf('group-offsets')).toBe('earliest');
    expect(resetPolicyOf('latest-offset')).toBe('latest');
    expect(resetPolicyOf('timestamp')).toBe('latest');
  });
});
