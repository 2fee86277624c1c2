// What the outage and fault tests do to real parts: stop and start the test broker, make a
// table's files unwritable (chattr +i, which even root cannot write through), put a warehouse on
// a small file system and fill it, and read the runtime's /metrics while it runs.

import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './build.js';
import { KAFKA_PORT } from './kafka.js';
import type { RuntimeProcess } from './runtime.js';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `scripts/kafka.sh start|stop` on the test broker. */
export function kafkaSh(cmd: 'start' | 'stop'): void {
  execFileSync('bash', [path.join(ROOT, 'scripts/kafka.sh'), cmd], { env: { ...process.env, KAFKA_PORT: String(KAFKA_PORT) }, stdio: 'ignore', timeout: 300_000 });
}

/**
 * Why the immutable flag cannot be used here, or undefined when it can: it needs root (or
 * CAP_LINUX_IMMUTABLE), chattr, and a file system that keeps the flag (not tmpfs).
 */
export function immutableUnavailable(dir: string): string | undefined {
  if (process.getuid?.() !== 0) return 'chattr +i needs root (CAP_LINUX_IMMUTABLE); this process is not root';
  const probe = spawnSync('chattr', ['+i', dir], { encoding: 'utf8' });
  if (probe.error) return `chattr is not installed (${probe.error.message})`;
  if (probe.status !== 0) return `chattr +i is refused on ${dir}: ${probe.stderr.trim()}`;
  spawnSync('chattr', ['-i', dir]);
  return undefined;
}

/**
 * Mounts a tmpfs of `mb` MiB on `dir`; why it cannot, or undefined when it did. Needs root (or
 * CAP_SYS_ADMIN) and a kernel that lets this process mount.
 */
export function mountSmallDisk(dir: string, mb: number): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root; this process is not root';
  const probe = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${mb}m`, 'tmpfs', dir], { encoding: 'utf8' });
  if (probe.error) return `mount is not installed (${probe.error.message})`;
  if (probe.status !== 0) return `mount -t tmpfs is refused on ${dir}: ${probe.stderr.trim()}`;
  return undefined;
}

export function unmount(dir: string): void {
  spawnSync('umount', [dir]);
}

/** Writes `file` until the file system is full (ENOSPC); the bytes written. */
export function fillDisk(file: string): number {
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(64 * 1024, 1);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, block);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
  return written;
}

/** The data and metadata folders of a table in a file warehouse (`<namespace>.db/<table>/`, as pyiceberg lays it out). */
export function tableDirs(warehouse: string, namespace: string, table: string): string[] {
  const dirs = ['data', 'metadata'].map((d) => path.join(warehouse, `${namespace}.db`, table, d));
  for (const d of dirs) if (!existsSync(d)) throw new Error(`no table folder ${d}`);
  return dirs;
}

/** Sets or clears the immutable flag on folders, recursively: no file can be created, written or removed. */
export function setImmutable(dirs: string[], on: boolean): void {
  execFileSync('chattr', ['-R', on ? '+i' : '-i', ...dirs], { stdio: 'ignore' });
}

/** The /metrics address a runtime started with STREAMBERG_METRICS_EPHEMERAL=1 printed. */
export async function metricsUrl(run: RuntimeProcess): Promise<string> {
  const line = await run.waitFor(/metrics on http:\/\/127\.0\.0\.1:\d+\/metrics/);
  return /http:\/\/\S+\/metrics/.exec(line)![0];
}

/** One sample of a metric from a scrape, or undefined when absent or the process is gone. */
export async function scrape(url: string, name: string, labels: string): Promise<number | undefined> {
  const body = await fetch(url)
    .then((r) => r.text())
    .catch(() => '');
  const m = new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(body);
  return m ? Number(m[1]) : undefined;
}

/** JSON log lines of a runtime's output whose message matches, for one pipeline. */
export function logLines(output: string, msg: RegExp, pipeline: string): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (rec.pipeline === pipeline && typeof rec.msg === 'string' && msg.test(rec.msg)) lines.push(rec);
  }
  return lines;
}

/** Samples a metric every `everyMs` until `stop` resolves; the values seen, in order. */
export function watchMetric(url: string, name: string, labels: string, stop: Promise<unknown>, everyMs = 100): Promise<Array<number | undefined>> {
  return (async () => {
    const seen: Array<number | undefined> = [];
    let done = false;
    void stop.finally(() => (done = true));
    while (!done) {
      seen.push(await scrape(url, name, labels));
      await sleep(everyMs);
    }
    return seen;
  })();
}
