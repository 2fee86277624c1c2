// Durations and sizes as written in YAML and on the command line. A bare number of milliseconds
// is accepted for durations, as Flink's TimeUtils.parseDuration does.

const DURATION_UNITS: Record<string, number> = {
  ms: 1, milli: 1, millis: 1,
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
};

export const ACCEPTED_DURATION = 'a duration such as 500ms, 30s, 5min, 1h, 3d, or a number of milliseconds';

/** Milliseconds, or undefined if the text is not a duration. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  if (!m) return undefined;
  const unit = m[2]!.toLowerCase();
  const scale = unit === '' ? 1 : DURATION_UNITS[unit];
  return scale === undefined ? undefined : Math.round(Number(m[1]) * scale);
}

const SIZE_UNITS: Record<string, number> = {
  b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3,
};

export const ACCEPTED_SIZE = 'a size such as 512kb, 64mb, 1gb, or a number of bytes';

/** Bytes (binary units), or undefined if the text is not a size. */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  if (!m) return undefined;
  const unit = m[2]!.toLowerCase();
  const scale = unit === '' ? 1 : SIZE_UNITS[unit];
  return scale === undefined ? undefined : Math.round(Number(m[1]) * scale);
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}min`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
