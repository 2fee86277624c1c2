import { describe, expect, it } from 'vitest';
import { parsePipelinesArgs } from '../../benchmarks/pipelines.js';

describe('npm run bench -- --pipelines options', () => {
  it('has the documented defaults, the broker on $KAFKA_PORT', () => {
    expect(parsePipelinesArgs(['--pipelines', '1,10,50'], { KAFKA_PORT: '9792' })).toEqual({
      counts: [1, 10, 50],
      records: 300,
      idleSeconds: 20,
      checkpointInterval: '5s',
      parallelism: 2,
      bootstrap: '127.0.0.1:9792',
      metricsPort: 59160,
      settings: [],
    });
  });

  it('takes settings for the runtime and refuses a count that is not a whole number ≥ 1', () => {
    expect(parsePipelinesArgs(['--pipelines=5', '--set', 'runtime.actor_threads=4'], {}).settings).toEqual(['runtime.actor_threads=4']);
    expect(() => parsePipelinesArgs(['--pipelines', '1,0'], {})).toThrow('--pipelines: found "0"; expected a whole number ≥ 1');
  });
});
