// Structured logs: one JSON object per line on stderr, or a short human line on a terminal.
// Every string of a line is cleaned of the configuration's secrets before it is written: error
// messages from libraries and servers may quote a credential back.

import type { SecretScrubber } from '../config/secrets.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  /** True when lines are JSON (not a terminal); human lines then carry no field list. */
  readonly json: boolean;
  log(level: Level, msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(options: { json?: boolean; fields?: Record<string, unknown>; minLevel?: Level; scrubber?: SecretScrubber } = {}): Logger {
  const json = options.json ?? !process.stderr.isTTY;
  const scrub = (s: string): string => (options.scrubber ? options.scrubber.scrub(s) : s);
  // Strings are scrubbed before JSON escapes them, so a secret holding a quote is still found.
  const jsonSafe = (_: string, v: unknown): unknown => (typeof v === 'bigint' ? v.toString() : typeof v === 'string' ? scrub(v) : v);
  const base = options.fields ?? {};
  const order: Level[] = ['debug', 'info', 'warn', 'error'];
  const min = order.indexOf(options.minLevel ?? (process.env.LOG_LEVEL as Level | undefined) ?? 'info');
  return {
    json,
    log(level, msg, fields = {}) {
      if (order.indexOf(level) < min) return;
      const all = { ...base, ...fields };
      if (json) {
        process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...all }, jsonSafe)}\n`);
      } else {
        const extra = Object.entries(all).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v, jsonSafe)}`).join(' ');
        process.stderr.write(scrub(`${level === 'info' ? '' : `${level.toUpperCase()} `}${msg}${extra ? `  ${extra}` : ''}`) + '\n');
      }
    },
    child(fields) {
      return createLogger({ ...options, json, fields: { ...base, ...fields } });
    },
  };
}
