// Runs one candidate as a child process and measures it from outside: wall time, CPU-seconds
// and peak RSS of its whole process tree. GNU time gives the CPU of every process it waited for
// (the JVM's and node's threads included), exactly; RSS of a tree has no such counter, so it is
// sampled from /proc every SAMPLE_MS and summed over the tree (the larger of that and GNU time's
// peak of the largest process is reported, so a peak between samples of a one-process tree is
// not missed).

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CandidateReport, Launch } from './candidate.js';

const SAMPLE_MS = 50;
const PAGE_BYTES = 4096;

export interface Measured {
  report: CandidateReport;
  wallSeconds: number;
  cpuSeconds: number;
  userSeconds: number;
  systemSeconds: number;
  peakRssMb: number;
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ')) if (c) out.push(Number(c));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/** Resident bytes of `root`'s descendants (not `root` itself: that is GNU time). */
function treeRssBytes(root: number): number {
  let total = 0;
  const stack = childrenOf(root);
  while (stack.length > 0) {
    const pid = stack.pop()!;
    try {
      const resident = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
      total += resident * PAGE_BYTES;
    } catch {
      continue;
    }
    stack.push(...childrenOf(pid));
  }
  return total;
}

/** Runs `launch`, killing it after `deadlineMs`; rejects on a non-zero exit or a bad report. */
export async function measure(launch: Launch, deadlineMs: number): Promise<Measured> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-kafka-source-'));
  const timeFile = path.join(dir, 'time');
  const t0 = performance.now();
  const child = spawn('/usr/bin/time', ['-o', timeFile, '-f', '%e %U %S %M', launch.command, ...launch.args], {
    env: { ...process.env, ...launch.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let partial = '';
  const observed = { firstOutputAt: null as number | null, lastOutputAt: null as number | null };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const now = performance.now();
    observed.firstOutputAt ??= now;
    observed.lastOutputAt = now;
    if (!launch.onStdoutLine) {
      stdout += chunk;
      return;
    }
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) launch.onStdoutLine(line);
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    // Only the end is kept: enough to say why a run failed.
    stderr = (stderr + chunk).slice(-8000);
  });
  let peakTree = 0;
  const sampler = setInterval(() => {
    if (child.pid !== undefined) peakTree = Math.max(peakTree, treeRssBytes(child.pid));
  }, SAMPLE_MS);
  const killer = setTimeout(() => {
    stderr += `\n[harness] killed after ${deadlineMs} ms`;
    // The candidate is GNU time's child; killing time alone would leave it running.
    for (const pid of child.pid !== undefined ? childrenOf(child.pid) : []) process.kill(pid, 'SIGKILL');
  }, deadlineMs);
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  const wallSeconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  clearTimeout(killer);
  if (partial && launch.onStdoutLine) launch.onStdoutLine(partial);
  let timeLine = '';
  try {
    timeLine = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1) ?? '';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (code !== 0) throw new Error(`${launch.command} exited with ${code}:\n${stderr.slice(-3000)}`);
  const [, user, sys, maxRssKb] = timeLine.split(' ').map(Number);
  if (user === undefined || sys === undefined || maxRssKb === undefined) throw new Error(`GNU time wrote "${timeLine}"`);
  let report: CandidateReport;
  try {
    report = launch.report(stdout, observed);
  } catch (err) {
    throw new Error(`${launch.command} printed no report (${(err as Error).message}); stderr:\n${stderr.slice(-3000)}`, { cause: err });
  }
  return {
    report,
    wallSeconds,
    cpuSeconds: user + sys,
    userSeconds: user,
    systemSeconds: sys,
    peakRssMb: Math.max(peakTree, maxRssKb * 1024) / (1024 * 1024),
  };
}
