// The child-process side of the Node.js candidates: parses the harness's input, counts what the
// client delivers, prints one JSON report line and exits. Kept tiny so each candidate file holds
// only what is particular to its client.

import { fileURLToPath } from 'node:url';
import type { CandidateInput, CandidateReport, Launch } from './candidate.js';

/**
 * Counts records below each partition's end offset and says when every partition reached it.
 * Offsets arrive as numbers: W1's offsets are far below 2^53, and a BigInt per record would be
 * counted against the client.
 */
export class Tally {
  records = 0;
  valueBytes = 0;
  /** performance.now() at the first and the last record: monotonic, unlike Date.now(). */
  firstRecordAt: number | null = null;
  lastRecordAt: number | null = null;
  private readonly ends = new Map<number, number>();
  private open: number;
  private readonly done: Promise<void>;
  private finish!: () => void;

  constructor(input: CandidateInput) {
    for (const [p, end] of Object.entries(input.ends)) {
      const start = Number(input.starts[p] ?? '0');
      if (Number(end) > start) this.ends.set(Number(p), Number(end));
    }
    this.open = this.ends.size;
    this.done = new Promise((resolve) => (this.finish = resolve));
    if (this.open === 0) this.finish();
  }

  /** One record of `partition` at `offset` with a value of `bytes` bytes. */
  add(partition: number, offset: number, bytes: number): void {
    const end = this.ends.get(partition);
    // Past the end seen at start (a producer still writing): not part of the workload.
    if (end === undefined || offset >= end) return;
    if (this.firstRecordAt === null) this.firstRecordAt = performance.now();
    this.records++;
    this.valueBytes += bytes;
    if (offset === end - 1) {
      this.ends.delete(partition);
      this.lastRecordAt = performance.now();
      if (--this.open === 0) this.finish();
    }
  }

  /** Partitions not yet read to their end offset. */
  get pending(): number[] {
    return [...this.ends.keys()];
  }

  whenDone(): Promise<void> {
    return this.done;
  }
}

/** Runs `read` in this process as a candidate's child entry point. */
export function runNodeChild(read: (input: CandidateInput, tally: Tally) => Promise<Record<string, unknown> | void>): void {
  const input = JSON.parse(process.argv[2] ?? '{}') as CandidateInput;
  const tally = new Tally(input);
  const deadline = setTimeout(() => {
    process.stderr.write(`deadline of ${input.deadlineMs} ms passed with ${tally.records} records read; partitions not at their end: ${tally.pending.join(',')}\n`);
    process.exit(3);
  }, input.deadlineMs);
  deadline.unref();
  read(input, tally).then(
    (details) => {
      const report: CandidateReport = {
        records: tally.records,
        valueBytes: tally.valueBytes,
        readSeconds: tally.firstRecordAt !== null && tally.lastRecordAt !== null ? (tally.lastRecordAt - tally.firstRecordAt) / 1000 : null,
        ...(details ? { details } : {}),
      };
      process.stdout.write(`${JSON.stringify(report)}\n`);
      // Clients may keep sockets or timers alive after close; the report is what counts.
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}

/** The harness's side: run the compiled candidate file `moduleUrl` in a fresh node. */
export function nodeLaunch(moduleUrl: string, input: CandidateInput, env?: NodeJS.ProcessEnv): Launch {
  return {
    command: process.execPath,
    args: [fileURLToPath(moduleUrl), JSON.stringify(input)],
    ...(env ? { env } : {}),
    report(stdout) {
      const line = stdout.trim().split('\n').at(-1) ?? '';
      return JSON.parse(line) as CandidateReport;
    },
  };
}

/** True when the candidate file `moduleUrl` is this process's entry point. */
export function isEntry(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(moduleUrl) === process.argv[1];
}
