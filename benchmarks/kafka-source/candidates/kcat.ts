// kcat (librdkafka, C): the consume limit of this machine for a client that hands every record
// to user code. It prints each value's size (`%S`), which the harness sums as the lines arrive,
// and exits at the end of every partition (-e); -c bounds it to the topic's records.

import { execFileSync } from 'node:child_process';
import type { Candidate, CandidateReport } from '../candidate.js';

function kcatVersion(): string | null {
  try {
    const text = execFileSync('kcat', ['-V'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return /Version (\S+).*?(librdkafka \S+)/.exec(text)?.slice(1, 3).join(', ') ?? 'unknown';
  } catch {
    return null;
  }
}

export const candidate: Candidate = {
  name: 'kcat',
  codecs: ['none', 'gzip', 'snappy', 'lz4', 'zstd'],
  unavailable: () => (kcatVersion() === null ? 'kcat not found (bash scripts/setup.sh --test installs it)' : null),
  version: () => kcatVersion() ?? 'missing',
  launch(input) {
    let records = 0;
    let valueBytes = 0;
    return {
      command: 'kcat',
      args: ['-C', '-b', input.bootstrap, '-t', input.topic, '-o', 'beginning', '-e', '-q', '-c', String(input.records), '-f', '%S\n'],
      onStdoutLine(line) {
        records++;
        // A null value prints -1.
        const n = Number(line);
        if (n > 0) valueBytes += n;
      },
      report(_stdout, observed): CandidateReport {
        const { firstOutputAt: first, lastOutputAt: last } = observed;
        return { records, valueBytes, readSeconds: first !== null && last !== null ? (last - first) / 1000 : null };
      },
    };
  },
};
