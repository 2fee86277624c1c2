// Compaction's plan: which small files of which partitions one round rewrites, by the thresholds
// (files or bytes per partition) and the round's caps (files and bytes).

import { describe, expect, it } from 'vitest';
import { planCompaction, type CompactLimits } from '../../src/iceberg/compact.js';

const LIMITS: CompactLimits = { target: 100, minInputFiles: 3, minInputBytes: 100, maxBytesPerRound: 1000, maxFilesPerRound: 1000 };
const files = (partition: string, ...sizes: number[]) => sizes.map((size, i) => ({ path: `${partition}/${i}`, size, partitionKey: partition }));
const paths = (groups: Array<Array<{ path: string }>>) => groups.map((g) => g.map((e) => e.path));

describe('planCompaction', () => {
  it('takes a partition with min-input-files small files, and leaves files at the target size out', () => {
    expect(paths(planCompaction([...files('a', 10, 10, 10, 100), ...files('b', 10, 10)], LIMITS))).toEqual([['a/0', 'a/1', 'a/2']]);
  });

  it('takes a partition whose small files total min-input-bytes, even with fewer files', () => {
    expect(paths(planCompaction(files('a', 60, 40), LIMITS))).toEqual([['a/0', 'a/1']]);
    expect(paths(planCompaction(files('a', 60, 39), LIMITS))).toEqual([]);
    // One file alone is never rewritten, however large.
    expect(paths(planCompaction(files('a', 99), { ...LIMITS, minInputBytes: 10 }))).toEqual([]);
  });

  it('stops at the round caps, cutting a partition short and dropping what is left with one file', () => {
    const entries = [...files('a', 10, 10, 10, 10), ...files('b', 10, 10, 10)];
    expect(paths(planCompaction(entries, { ...LIMITS, maxFilesPerRound: 5 }))).toEqual([['a/0', 'a/1', 'a/2', 'a/3']]);
    expect(paths(planCompaction(entries, { ...LIMITS, maxFilesPerRound: 6 }))).toEqual([['a/0', 'a/1', 'a/2', 'a/3'], ['b/0', 'b/1']]);
    expect(paths(planCompaction(entries, { ...LIMITS, maxBytesPerRound: 30 }))).toEqual([['a/0', 'a/1', 'a/2']]);
    expect(paths(planCompaction(entries, { ...LIMITS, maxBytesPerRound: 19 }))).toEqual([]);
  });
});
