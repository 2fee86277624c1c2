import { describe, expect, it } from 'vitest';
import { checkResults, ratios, summarize, type Results, type RunFigures } from '../../benchmarks/harness/summary.js';

function run(over: Partial<RunFigures>): RunFigures {
  return { system: 'streamberg', workload: 'w1', codec: 'none', parallelism: 2, round: 1, ok: true, loadAverage1m: 1, records: 2_000_000, payloadBytes: 258_000_000, wallSeconds: 10, cpuSeconds: 20, peakRssMb: 900, ...over };
}

describe('summarize', () => {
  const runs = [
    run({ round: 1, wallSeconds: 10, cpuSeconds: 20, peakRssMb: 900 }),
    run({ round: 2, wallSeconds: 8, cpuSeconds: 18, peakRssMb: 950 }),
    run({ round: 3, wallSeconds: 20, cpuSeconds: 22, peakRssMb: 880 }),
    run({ system: 'pyflink', round: 1, wallSeconds: 40, processingSeconds: 25, startupSeconds: 15, cpuSeconds: 100, peakRssMb: 2000 }),
    run({ system: 'pyflink', round: 2, ok: false, error: 'exited with 1' }),
    run({ system: 'kcat', parallelism: null, wallSeconds: 2, cpuSeconds: 1, peakRssMb: 40 }),
  ];
  const summary = summarize(runs);

  it('groups runs by system, workload, codec and parallelism, counting the failed ones apart', () => {
    expect(summary.map((s) => [s.system, s.parallelism, s.runs, s.failed])).toEqual([
      ['streamberg', 2, 3, 0],
      ['pyflink', 2, 1, 1],
      ['kcat', null, 1, 0],
    ]);
  });

  it('derives records/s, MB/s and CPU-seconds per million records from every run, as median and range', () => {
    const ours = summary[0]!;
    expect(ours.recordsPerSecond).toEqual({ median: 200_000, min: 100_000, max: 250_000, n: 3 });
    expect(ours.payloadMBPerSecond!.median).toBeCloseTo(25.8);
    expect(ours.cpuSecondsPerMillion).toEqual({ median: 10, min: 9, max: 11, n: 3 });
    expect(ours.peakRssMb).toEqual({ median: 900, min: 880, max: 950, n: 3 });
    const flink = summary[1]!;
    expect(flink.recordsPerSecondProcessing!.median).toBe(80_000);
    expect(flink.startupSeconds!.median).toBe(15);
  });

  it('compares ours with Flink at the same parallelism and with each consumer, start-up in or out', () => {
    const r = ratios(summary);
    expect(r.map((x) => x.theirs)).toEqual(['pyflink', 'kcat']);
    const flink = r[0]!;
    expect(flink.recordsPerSecond).toBeCloseTo(200_000 / 50_000);
    expect(flink.recordsPerSecondVsProcessing).toBeCloseTo(200_000 / 80_000);
    expect(flink.peakRss).toBeCloseTo(900 / 2000);
    expect(r[1]!.recordsPerSecond).toBeCloseTo(200_000 / 1_000_000);
    expect(r[1]!.recordsPerSecondVsProcessing).toBeNull();
  });
});

describe('checkResults', () => {
  const good = (): Results => {
    const runs = [run({})];
    return {
      benchmark: 'streamberg', version: 1, startedAt: '2026-12-01T07:00:00.000Z', finishedAt: '2026-12-01T07:10:00.000Z',
      machine: { cores: 2, cpuModel: 'x', memoryMb: 1, os: 'Linux', loadAverageAtStart: [0, 0, 0], loadAverageAtEnd: [0, 0, 0] },
      versions: {}, configuration: {}, workloads: [], runs, freshness: [], summary: summarize(runs), ratios: [],
    };
  };

  it('accepts a sound file', () => {
    expect(checkResults(good())).toEqual([]);
    expect(checkResults(JSON.parse(JSON.stringify(good())))).toEqual([]);
  });

  it('names what is wrong: a run without a summary row, a failure without a reason, a success without its time', () => {
    const r = good();
    r.runs.push(run({ system: 'kcat', parallelism: null, ok: false }), run({ parallelism: 1, wallSeconds: undefined }));
    const problems = checkResults(r);
    expect(problems).toContain('runs[1].error: a failed run must say why');
    expect(problems).toContain('runs[2].wallSeconds: a successful run needs its wall time');
    expect(problems).toContain('summary: no row for kcat|w1|none|-');
    expect(checkResults({ ...good(), version: 2 })).toEqual(['version: expected 1, found 2']);
    expect(checkResults(null)).toEqual(['results: expected an object']);
  });
});
