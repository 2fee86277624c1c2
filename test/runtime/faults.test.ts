import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

// faults.ts reads STREAMBERG_FAULTS once, when loaded: each test loads it afresh.
async function load(faults: string) {
  vi.resetModules();
  vi.stubEnv('STREAMBERG_FAULTS', faults);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'faults-unit-'));
  vi.stubEnv('STREAMBERG_FAULT_DIR', dir);
  return { ...(await import('../../src/runtime/faults.js')), dir };
}

afterEach(() => vi.unstubAllEnvs());

describe('fault injection', () => {
  it('fires a one-shot fault at the n-th call, once per marker directory', async () => {
    const f = await load('commit-fail:bids:3,sink-exit:users:1');
    expect([1, 2, 3, 4, 5].map(() => f.shouldFail('commit-fail', 'bids'))).toEqual([false, false, true, false, false]);
    expect(f.shouldFail('commit-fail', 'users')).toBe(false);
    expect(f.shouldFail('sink-exit', 'users')).toBe(true);
    expect(readdirSync(f.dir).sort()).toEqual(['commit-fail_bids', 'sink-exit_users']);
  });

  it('repeats transform-exit-every on every n-th call of a thread, without markers', async () => {
    const f = await load('transform-exit-every:bids:3');
    expect(Array.from({ length: 9 }, () => f.shouldFail('transform-exit-every', 'bids'))).toEqual([false, false, true, false, false, true, false, false, true]);
    expect(readdirSync(f.dir)).toEqual([]);
  });

  it('parses kill-at with its commit step, and ignores what it does not know', async () => {
    const f = await load('kill-at:before-table-commit:bids:2,kill-at:bids:1,explode:bids:1,commit-fail:bids:0');
    expect(f.shouldFail('kill-at:before-table-commit', 'bids')).toBe(false);
    expect(f.shouldFail('kill-at:after-files-written', 'bids')).toBe(false);
    expect(f.shouldFail('kill-at:before-table-commit', 'bids')).toBe(true);
    expect(f.shouldFail('commit-fail', 'bids')).toBe(false);
    // Not due: killIfDue returns and the process lives on.
    f.killIfDue('before-group-commit', 'bids');
    expect(readdirSync(f.dir)).toEqual(['kill-at_before-table-commit_bids']);
  });
});
