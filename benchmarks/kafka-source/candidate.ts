// What a consumer candidate of benchmarks/kafka-source.ts is, shared by the harness and by the
// child processes the candidates run in. A candidate is one file under candidates/ exporting
// `candidate`: the harness finds it there, so adding a consumer to the comparison is one file.

export const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type Codec = (typeof CODECS)[number];

/** What one run of a candidate reads: the whole topic, from the log start to `ends`. */
export interface CandidateInput {
  bootstrap: string;
  topic: string;
  codec: Codec;
  /** Log start offset per partition (the earliest offset). */
  starts: Record<string, string>;
  /** End offsets per partition as seen when the run started; the candidate stops there. */
  ends: Record<string, string>;
  /** Σ (end − start): the records the candidate must report. */
  records: number;
  /** The child gives up after this long; the harness kills it a little later. */
  deadlineMs: number;
}

/** What a candidate reports when it has read the whole topic. */
export interface CandidateReport {
  records: number;
  /** Bytes of record values read; null where the client reports no such figure. */
  valueBytes: number | null;
  /**
   * Seconds from the first record seen to the last, on a monotonic clock (this machine's wall
   * clock was seen to step by seconds during a run); null where not observable.
   */
  readSeconds: number | null;
  /** Anything the harness should keep beside the figures (e.g. the client's own statistics). */
  details?: Record<string, unknown>;
}

/** What the harness observed of the child's stdout (performance.now() ms), for candidates that print per record. */
export interface Observed {
  firstOutputAt: number | null;
  lastOutputAt: number | null;
}

export interface Launch {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /**
   * Candidates that print per record (kcat) have their stdout counted as it arrives rather than
   * kept: 2 M lines held as one string would inflate the harness, not the candidate.
   */
  onStdoutLine?: (line: string) => void;
  /** Turns the child's stdout (or, for onStdoutLine candidates, what they counted) into a report. */
  report(stdout: string, observed: Observed): CandidateReport;
}

export interface Candidate {
  name: string;
  /** Codecs the client can decode; the others are recorded as unsupported, not run. */
  codecs: readonly Codec[];
  /** Why the candidate cannot run on this machine, or null when it can. */
  unavailable(): string | null;
  /** Version of the client, for the results file. */
  version(): string;
  launch(input: CandidateInput): Launch;
}
