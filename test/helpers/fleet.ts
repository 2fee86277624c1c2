// Several runtime processes of one project (runtime.scale_out), each a real CLI process with its
// own member name (STREAMBERG_MEMBER) and its own metrics port, that a test kills, stops, freezes
// and thaws, and asks through /metrics and /readyz what it reads. Spawning is startRuntime's
// (runtime.ts); this keeps the processes together and knows which are alive.

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startRuntime, type RuntimeProcess, type RuntimeProject } from './runtime.js';

/** Waits for `check` to return a value other than undefined, polling; fails naming `what`. */
export async function waitUntil<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export type MemberState = 'running' | 'frozen' | 'gone';

export interface Member {
  name: string;
  run: RuntimeProcess;
  /** http://127.0.0.1:<port> */
  base: string;
  state: MemberState;
}

/** The sum of a metric's samples whose labels include every `labels` pair (undefined: none). */
export function metricValue(body: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined;
  for (const m of body.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
    const set = m[1] ?? '';
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) sum = (sum ?? 0) + Number(m[2]);
  }
  return sum;
}

/**
 * Processes of one project. Every one runs the same configuration and arguments; only its
 * member name and its metrics port (ephemeral, read from its log) differ.
 */
export class Fleet {
  readonly members = new Map<string, Member>();

  constructor(
    private readonly project: RuntimeProject,
    private readonly args: string[],
  ) {}

  /** Starts a member; `env` adds to its environment (e.g. STREAMBERG_FAULTS for this one alone). */
  async start(name: string, env: Record<string, string> = {}): Promise<Member> {
    const run = startRuntime(this.project, this.args, { ...env, STREAMBERG_MEMBER: name, STREAMBERG_METRICS_EPHEMERAL: '1' });
    const member: Member = { name, run, base: '', state: 'running' };
    this.members.set(name, member);
    void run.exited.then(() => (member.state = 'gone'));
    const line = await run.waitFor(/metrics on http:\/\/127\.0\.0\.1:\d+\/metrics/, 60_000);
    member.base = /http:\/\/127\.0\.0\.1:\d+/.exec(line)![0];
    return member;
  }

  get(name: string): Member {
    const m = this.members.get(name);
    if (!m) throw new Error(`no member ${name} in this fleet (${[...this.members.keys()].join(', ')})`);
    return m;
  }

  /** Members whose process runs and is not frozen. */
  live(): Member[] {
    return [...this.members.values()].filter((m) => m.state === 'running');
  }

  /** kill -9: resolves once the process is gone. */
  async kill(name: string): Promise<void> {
    const m = this.get(name);
    m.run.child.kill('SIGKILL');
    await m.run.exited;
  }

  /** SIGTERM: resolves with the exit code once the process is gone (SIGKILL after `boundMs`). */
  async terminate(name: string, boundMs = 90_000): Promise<number | string> {
    const m = this.get(name);
    m.run.child.kill('SIGTERM');
    const timer = setTimeout(() => m.run.child.kill('SIGKILL'), boundMs);
    const code = await m.run.exited;
    clearTimeout(timer);
    return code;
  }

  freeze(name: string): void {
    const m = this.get(name);
    m.run.child.kill('SIGSTOP');
    m.state = 'frozen';
  }

  thaw(name: string): void {
    const m = this.get(name);
    m.run.child.kill('SIGCONT');
    if (m.run.child.exitCode === null && m.run.child.signalCode === null) m.state = 'running';
  }

  /** Ends every process still there: thawed, SIGTERM, then SIGKILL past the bound. */
  async stopAll(boundMs = 60_000): Promise<void> {
    const left = [...this.members.values()].filter((m) => m.state !== 'gone');
    for (const m of left) {
      m.run.child.kill('SIGCONT');
      m.run.child.kill('SIGTERM');
    }
    const timer = setTimeout(() => left.forEach((m) => m.run.child.kill('SIGKILL')), boundMs);
    await Promise.all(left.map((m) => m.run.exited));
    clearTimeout(timer);
  }

  /**
   * For a failing test: every member's whole output written to `<project>/logs/<name>.log`, and
   * the last lines of each above debug level, headed by its name and the file.
   */
  logs(lines = 15): string {
    const dir = path.join(path.dirname(this.project.configDir), 'logs');
    mkdirSync(dir, { recursive: true });
    return [...this.members.values()]
      .map((m) => {
        const file = path.join(dir, `${m.name}.log`);
        writeFileSync(file, m.run.output());
        const tail = m.run.output().split('\n').filter((l) => l !== '' && !l.includes('"level":"debug"')).slice(-lines);
        return `===== ${m.name} (${m.state}), whole output in ${file}\n${tail.join('\n')}`;
      })
      .join('\n');
  }

  /** The member's /metrics; a frozen process is never asked (it would not answer). */
  async scrape(name: string): Promise<string> {
    const m = this.get(name);
    const res = await fetch(`${m.base}/metrics`, { signal: AbortSignal.timeout(5000) });
    return res.text();
  }

  async ready(name: string): Promise<{ status: number; body: { ready: boolean; pipelines: Record<string, string> } }> {
    const res = await fetch(`${this.get(name).base}/readyz`, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: (await res.json()) as { ready: boolean; pipelines: Record<string, string> } };
  }

  /**
   * Waits until every live member is ready, the live members together read `partitions`
   * partitions of `pipeline` (the gauge's sum; who reads which is checked in the table), and
   * the group has balanced them (counts differ by one at most, as both protocols' assignors
   * leave them — a member that joined a moment ago is ready with none, so a sum alone would
   * pass mid-rebalance); returns each member's count.
   */
  async settled(pipeline: string, partitions: number, timeoutMs: number): Promise<Map<string, number>> {
    return waitUntil(
      `the live members (${this.live().map((m) => m.name).join(', ')}) ready and reading ${partitions} partitions of ${pipeline}`,
      async () => {
        const counts = new Map<string, number>();
        for (const m of this.live()) {
          if ((await this.ready(m.name)).status !== 200) return undefined;
          counts.set(m.name, metricValue(await this.scrape(m.name), 'streamberg_source_partitions', { pipeline }) ?? 0);
        }
        const n = [...counts.values()];
        return n.reduce((a, b) => a + b, 0) === partitions && Math.max(...n) - Math.min(...n) <= 1 ? counts : undefined;
      },
      timeoutMs,
      1000,
    );
  }
}
