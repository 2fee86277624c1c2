// A configuration problem names the file, the path inside it, where it is (line:column), what
// was found and what would be accepted. Loading collects every problem before it reports.

import { StreamError } from '../errors.js';

export type ConfigPath = ReadonlyArray<string | number>;

export interface ConfigIssue {
  /** The file as the user named it (relative to the working directory when inside it). */
  file: string;
  path: ConfigPath;
  line?: number | undefined;
  column?: number | undefined;
  /** What is wrong, in a few words. */
  problem: string;
  /** What was there; `undefined` when nothing was. */
  found?: unknown;
  /** Whether `found` is meaningful (a missing key has nothing to show). */
  hasFound: boolean;
  /** What would be accepted. */
  accepted?: string | undefined;
}

/** `topics.bid-events.sink.schema[2].type` */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out === '' ? '(top level)' : out;
}

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  return 'a mapping';
}

export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}:${issue.column ?? 1}`;
  let text = `${where}: ${formatPath(issue.path)}: ${issue.problem}`;
  if (issue.hasFound) text += `; found ${describeValue(issue.found)}`;
  if (issue.accepted !== undefined) text += `; expected ${issue.accepted}`;
  return text;
}

export class ConfigError extends StreamError {
  constructor(readonly issues: ConfigIssue[]) {
    super(
      'CONFIG_INVALID',
      `${issues.length} configuration error${issues.length === 1 ? '' : 's'}:\n` +
        issues.map((i) => `  - ${formatIssue(i)}`).join('\n'),
      { details: { issues } },
    );
  }
}
