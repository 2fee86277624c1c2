import { describe, expect, it } from 'vitest';
import { memoryShares } from '../../src/runtime/supervisor.js';

const MB = 1024 * 1024;

describe('memoryShares', () => {
  it('splits a pipeline share of the budget between fetched chunks, the sink queue and the sink buffers', () => {
    expect(memoryShares(256 * MB, 1)).toEqual({ fetchBufferBytes: 16 * MB, sinkBufferBytes: 16 * MB, sinkWriteBytes: 32 * MB });
    // Two pipelines halve each share.
    expect(memoryShares(256 * MB, 2)).toEqual({ fetchBufferBytes: 8 * MB, sinkBufferBytes: 8 * MB, sinkWriteBytes: 16 * MB });
  });

  it('keeps each share within its floor and cap', () => {
    expect(memoryShares(4 * 1024 * MB, 1)).toEqual({ fetchBufferBytes: 32 * MB, sinkBufferBytes: 32 * MB, sinkWriteBytes: 64 * MB });
    expect(memoryShares(16 * MB, 8)).toEqual({ fetchBufferBytes: 4 * MB, sinkBufferBytes: 4 * MB, sinkWriteBytes: 8 * MB });
  });
});
