import { describe, expect, it } from 'vitest';
import { BenchUsageError, parseBenchArgs, type BenchOptions } from '../../../benchmarks/run/args.js';

const parse = (args: string[], env: NodeJS.ProcessEnv = {}): BenchOptions => {
  const o = parseBenchArgs(args, env);
  if (o === 'help') throw new Error('unexpected help');
  return o;
};

describe('npm run bench options', () => {
  it('has the documented defaults, the broker on $KAFKA_PORT', () => {
    expect(parse([], { KAFKA_PORT: '9792' })).toMatchObject({
      workloads: ['w1'],
      records: 2_000_000,
      partitions: 8,
      codecs: ['none', 'snappy'],
      parallelisms: [1, 2],
      runs: 3,
      references: ['kcat', 'kafka-java'],
      withFlink: false,
      stages: false,
      stageRecords: 500_000,
      freshnessSeconds: 30,
      freshnessRate: 20_000,
      checkpointInterval: '10s',
      checkpointSeconds: 10,
      settings: [],
      noCharts: false,
      bootstrap: '127.0.0.1:9792',
      metricsPort: 59150,
      deadlineMs: 900_000,
    });
    expect(parse([]).bootstrap).toBe('127.0.0.1:9092');
  });

  it('reads lists, intervals and settings', () => {
    const o = parse(['--workloads', 'w1, w2', '--codecs', 'zstd', '--parallelism', '1,4', '--references', 'none', '--checkpoint-interval', '500ms', '--freshness-seconds', '0', '--set', 'runtime.batch_size=5000', '--set', 'sink.properties.write.target-file-size-bytes=big', '--with-flink']);
    expect(o).toMatchObject({ workloads: ['w1', 'w2'], codecs: ['zstd'], parallelisms: [1, 4], references: [], checkpointSeconds: 0.5, freshnessSeconds: 0, withFlink: true });
    expect(o.settings).toEqual([
      { key: 'runtime.batch_size', value: 5000 },
      { key: 'sink.properties.write.target-file-size-bytes', value: 'big' },
    ]);
    expect(parse(['--checkpoint-interval', '2min']).checkpointSeconds).toBe(120);
    expect(parseBenchArgs(['--help'])).toBe('help');
  });

  it('refuses a bad value naming the option, what was found and what is accepted', () => {
    const refused = (args: string[]) => {
      try {
        parseBenchArgs(args, {});
      } catch (err) {
        expect(err).toBeInstanceOf(BenchUsageError);
        return (err as Error).message;
      }
      throw new Error(`accepted ${args.join(' ')}`);
    };
    expect(refused(['--workloads', 'w1,w3'])).toBe('--workloads: found "w3"; expected some of w1,w2');
    expect(refused(['--codecs', 'brotli'])).toBe('--codecs: found "brotli"; expected some of none,gzip,snappy,lz4,zstd');
    expect(refused(['--records', '0'])).toBe('--records: found "0"; expected a whole number ≥ 1');
    expect(refused(['--parallelism', '1,1.5'])).toBe('--parallelism: found "1.5"; expected a whole number ≥ 1');
    expect(refused(['--freshness-seconds=-1'])).toBe('--freshness-seconds: found "-1"; expected a whole number ≥ 0');
    expect(refused(['--references', 'kcat,spark'])).toBe('--references: found "spark"; expected kcat, kafka-java or none');
    expect(refused(['--checkpoint-interval', '1h'])).toBe('--checkpoint-interval: found "1h"; expected e.g. 500ms, 10s, 1min');
    expect(refused(['--set', 'kafka.x=1'])).toBe('--set: found "kafka.x=1"; expected runtime.<key>=VALUE or sink.properties.<property>=VALUE');
    // The first bad option in the order they are checked is the one named.
    expect(refused(['--deadline', '0', '--records', 'x'])).toMatch(/^--records:/);
    expect(() => parseBenchArgs(['--bogus'], {})).toThrow(/Unknown option '--bogus'/);
  });
});
