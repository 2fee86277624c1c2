// Every error the runtime raises on purpose is a StreamError with a stable code. The supervisor's
// restart policy reads `domain` and `retryable`, never the message text: messages are for people.
//
// Anything else that is thrown (a kafkajs error, a file-system error, a string, a plain object) is
// classified by its data — its `name`, its `code`, kafkajs' `retriable` flag, an AWS SDK response
// status (foreign-errors.ts reads each link) — and translated into a StreamError that keeps the
// original message, name and code. Serialization is total and bounded: whatever was thrown, a
// plain object that survives a structured clone comes out, with at most MAX_CAUSE_DEPTH causes,
// and cycles cut.

import { foreignVerdict, guard, read, type Peer, type Verdict } from './foreign-errors.js';

import { ERROR_CODES, type ErrorCode, type ErrorDomain } from './error-codes.js';

export { ERROR_CODES, type ErrorCode, type ErrorDomain };

export interface StreamErrorOptions {
  cause?: unknown;
  /** Overrides the code's default, e.g. a conflict that is known to be final. */
  retryable?: boolean;
  /** Machine-readable context: file, path, topic, partition, offset, table... */
  details?: Record<string, unknown>;
  /** The `name` of the foreign error this one translates ('TypeError', 'KafkaJSConnectionError'). */
  foreignName?: string | undefined;
  /** The `code` of the foreign error this one translates ('ECONNREFUSED', a Kafka error number). */
  foreignCode?: string | number | undefined;
  /** An AggregateError's members. */
  errors?: StreamError[] | undefined;
}

export class StreamError extends Error {
  readonly code: ErrorCode;
  readonly domain: ErrorDomain;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;
  readonly foreignName: string | undefined;
  readonly foreignCode: string | number | undefined;
  readonly errors: readonly StreamError[];
  /** Set when the cause chain was cut: too deep, or it led back to an error already in it. */
  truncated: 'depth' | 'cycle' | undefined;

  constructor(code: ErrorCode, message: string, options: StreamErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StreamError';
    this.code = code;
    this.domain = ERROR_CODES[code].domain;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
    this.details = options.details ?? {};
    this.foreignName = options.foreignName;
    this.foreignCode = options.foreignCode;
    this.errors = options.errors ?? [];
    this.truncated = undefined;
  }

  /** A plain object that survives structured clone (worker → main thread). Never throws. */
  toJSON(): SerializedError {
    return serializeError(this);
  }
}

export interface SerializedError {
  code: ErrorCode;
  message: string;
  domain: ErrorDomain;
  retryable: boolean;
  details: Record<string, unknown>;
  stack?: string | undefined;
  cause?: SerializedError | undefined;
  /** See StreamError.foreignName. */
  name?: string | undefined;
  /** See StreamError.foreignCode. */
  foreignCode?: string | number | undefined;
  /** An AggregateError's members, at most MAX_AGGREGATE_MEMBERS of them. */
  errors?: SerializedError[] | undefined;
  truncated?: 'depth' | 'cycle' | undefined;
}

export type { Peer };

/** Causes kept below the outermost error; deeper ones are cut (`truncated: 'depth'`). */
export const MAX_CAUSE_DEPTH = 8;
export const MAX_AGGREGATE_MEMBERS = 8;
const MAX_MESSAGE_CHARS = 8192;
const MAX_STACK_CHARS = 16384;

export function isStreamError(value: unknown): value is StreamError {
  return guard(() => value instanceof StreamError, false);
}

/**
 * Classifies any thrown value. A value that nothing recognizes gets `fallback`: internal and
 * retryable by default, because a restart from the last checkpoint is safe and a real bug will
 * exhaust the restart policy. `peer` says whom the caller was talking to, for network errors.
 */
export function toStreamError(value: unknown, fallback: ErrorCode = 'ACTOR_FAILED', peer?: Peer): StreamError {
  if (isStreamError(value)) return value;
  return deserializeError(serializeError(value, fallback, peer));
}

/** Any thrown value → a plain, structured-clone-safe description. Total: never throws. */
export function serializeError(value: unknown, fallback: ErrorCode = 'ACTOR_FAILED', peer?: Peer): SerializedError {
  return serializeAt(value, fallback, peer, 0, new Set());
}

export function deserializeError(value: SerializedError): StreamError {
  return deserializeAt(value, 0);
}

/**
 * The log fields of an error: its code and message, and below it each cause as
 * `name [code]: message`, so an operator sees the ECONNREFUSED under a wrapper's words.
 */
export function errorFields(e: StreamError): Record<string, unknown> {
  const fields: Record<string, unknown> = { code: e.code, error: e.message };
  if (e.foreignCode !== undefined) fields.foreignCode = e.foreignCode;
  const causes: string[] = [];
  for (let c: unknown = e.cause; c instanceof StreamError && causes.length < MAX_CAUSE_DEPTH; c = c.cause) {
    causes.push(`${c.foreignName ?? c.code}${c.foreignCode === undefined ? '' : ` [${c.foreignCode}]`}: ${c.message}`);
  }
  if (causes.length > 0) fields.causes = causes;
  return fields;
}

// ---------------------------------------------------------------------------------------------
// Serialization

function serializeAt(value: unknown, fallback: ErrorCode, peer: Peer | undefined, depth: number, seen: Set<object>): SerializedError {
  try {
    if (typeof value === 'object' && value !== null) seen.add(value);
    if (isStreamError(value)) return serializeOwn(value, fallback, peer, depth, seen);
    if (isSerializedError(value)) return serializeOwn(deserializeAt(value, depth), fallback, peer, depth, seen);
    return serializeForeign(value, fallback, peer, depth, seen);
  } catch {
    // Only a value hostile at every turn (a Proxy whose traps throw) gets here.
    return { code: fallback, domain: ERROR_CODES[fallback].domain, retryable: ERROR_CODES[fallback].retryable, message: 'a value was thrown that cannot be inspected', details: {} };
  }
}

function serializeOwn(e: StreamError, fallback: ErrorCode, peer: Peer | undefined, depth: number, seen: Set<object>): SerializedError {
  const out: SerializedError = {
    code: e.code,
    message: clip(String(e.message), MAX_MESSAGE_CHARS),
    domain: e.domain,
    retryable: e.retryable,
    details: plainDetails(e.details),
  };
  const stack = read(e, 'stack');
  if (typeof stack === 'string') out.stack = clip(stack, MAX_STACK_CHARS);
  if (e.foreignName !== undefined) out.name = e.foreignName;
  if (e.foreignCode !== undefined) out.foreignCode = e.foreignCode;
  if (e.truncated !== undefined) out.truncated = e.truncated;
  linkCause(out, read(e, 'cause'), fallback, peer, depth, seen);
  if (e.errors.length > 0) out.errors = members(e.errors, fallback, peer, depth, seen);
  return out;
}

function serializeForeign(value: unknown, fallback: ErrorCode, peer: Peer | undefined, depth: number, seen: Set<object>): SerializedError {
  const { code, retryable } = classify(value, fallback, peer);
  const out: SerializedError = { code, message: clip(messageOf(value), MAX_MESSAGE_CHARS), domain: ERROR_CODES[code].domain, retryable, details: foreignDetails(value) };
  if (typeof value !== 'object' || value === null) return out;
  const name = read(value, 'name');
  if (typeof name === 'string' && name !== '') out.name = clip(name, 200);
  const foreignCode = read(value, 'code');
  if (typeof foreignCode === 'string' || (typeof foreignCode === 'number' && Number.isFinite(foreignCode))) out.foreignCode = typeof foreignCode === 'string' ? clip(foreignCode, 200) : foreignCode;
  const stack = read(value, 'stack');
  if (typeof stack === 'string') out.stack = clip(stack, MAX_STACK_CHARS);
  linkCause(out, read(value, 'cause'), fallback, peer, depth, seen);
  const errors = read(value, 'errors');
  if (Array.isArray(errors) && errors.length > 0) out.errors = members(errors, fallback, peer, depth, seen);
  return out;
}

function linkCause(out: SerializedError, cause: unknown, fallback: ErrorCode, peer: Peer | undefined, depth: number, seen: Set<object>): void {
  if (cause === undefined || cause === null) return;
  if (typeof cause === 'object' && seen.has(cause)) out.truncated = 'cycle';
  else if (depth + 1 > MAX_CAUSE_DEPTH) out.truncated = 'depth';
  else out.cause = serializeAt(cause, fallback, peer, depth + 1, seen);
}

function members(list: readonly unknown[], fallback: ErrorCode, peer: Peer | undefined, depth: number, seen: Set<object>): SerializedError[] {
  const out: SerializedError[] = [];
  const n = guard(() => Math.min(list.length, MAX_AGGREGATE_MEMBERS), 0);
  for (let i = 0; i < n && depth + 1 <= MAX_CAUSE_DEPTH; i++) {
    const m = read(list, i);
    if (typeof m === 'object' && m !== null && seen.has(m)) continue;
    out.push(serializeAt(m, fallback, peer, depth + 1, seen));
  }
  return out;
}

function deserializeAt(value: SerializedError, depth: number): StreamError {
  const code: ErrorCode = typeof value.code === 'string' && Object.hasOwn(ERROR_CODES, value.code) ? value.code : 'ACTOR_FAILED';
  const cause = depth < MAX_CAUSE_DEPTH && isSerializedError(value.cause) ? deserializeAt(value.cause, depth + 1) : undefined;
  const errors = depth < MAX_CAUSE_DEPTH && Array.isArray(value.errors)
    ? value.errors.slice(0, MAX_AGGREGATE_MEMBERS).filter(isSerializedError).map((m) => deserializeAt(m, depth + 1))
    : [];
  const err = new StreamError(code, typeof value.message === 'string' ? value.message : '', {
    retryable: typeof value.retryable === 'boolean' ? value.retryable : ERROR_CODES[code].retryable,
    details: typeof value.details === 'object' && value.details !== null ? value.details : {},
    cause,
    foreignName: typeof value.name === 'string' ? value.name : undefined,
    foreignCode: typeof value.foreignCode === 'string' || typeof value.foreignCode === 'number' ? value.foreignCode : undefined,
    errors,
  });
  if (typeof value.stack === 'string') err.stack = value.stack;
  if (value.truncated === 'depth' || value.truncated === 'cycle') err.truncated = value.truncated;
  else if (value.cause !== undefined && cause === undefined) err.truncated = 'depth';
  return err;
}

function isSerializedError(value: unknown): value is SerializedError {
  return guard(
    () =>
      typeof value === 'object' &&
      value !== null &&
      !(value instanceof Error) &&
      typeof (value as SerializedError).code === 'string' &&
      Object.hasOwn(ERROR_CODES, (value as SerializedError).code) &&
      typeof (value as SerializedError).message === 'string' &&
      typeof (value as SerializedError).domain === 'string',
    false,
  );
}

/** What a thrown value says about itself, for people. */
function messageOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return `${String(value)} was thrown`;
  if (typeof value !== 'object') return `${typeof value} ${guard(() => String(value), '?')} was thrown`;
  const message = read(value, 'message');
  if (typeof message === 'string') return message !== '' ? message : (guard(() => String(read(value, 'name') ?? ''), '') || 'an error without a message was thrown');
  if (message !== undefined) return `an error whose message is ${textOf(message)} was thrown`;
  return `an object was thrown: ${textOf(value)}`;
}

function textOf(value: unknown): string {
  const json = guard(() => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)), undefined);
  if (typeof json === 'string') return clip(json, 500);
  return guard(() => Object.prototype.toString.call(value), '[object]');
}

const FOREIGN_DETAIL_KEYS = ['errno', 'syscall', 'address', 'port', 'path', 'dest', 'hostname', 'type', 'retriable', 'broker', 'retryCount'] as const;

/** The machine-readable fields of Node's system errors and kafkajs errors, primitives only. */
function foreignDetails(value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (typeof value !== 'object' || value === null) return out;
  for (const key of FOREIGN_DETAIL_KEYS) {
    const v = read(value, key);
    if (typeof v === 'string') out[key] = clip(v, 1000);
    else if (typeof v === 'number' || typeof v === 'boolean') out[key] = v;
  }
  const status = read(read(value, '$metadata'), 'httpStatusCode');
  if (typeof status === 'number') out.httpStatusCode = status;
  return out;
}

/**
 * A copy of `details` that structured clone accepts: primitives, arrays and plain objects down to
 * a few levels; anything else (a function, a class instance, a socket) becomes its text.
 */
function plainDetails(details: Record<string, unknown>): Record<string, unknown> {
  const v = plain(details, 0);
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function plain(v: unknown, depth: number): unknown {
  switch (typeof v) {
    case 'string':
      return clip(v, MAX_MESSAGE_CHARS);
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return v;
    case 'object': {
      if (v === null) return null;
      if (depth >= 6) return '…';
      if (Array.isArray(v)) return v.slice(0, 1000).map((x) => plain(x, depth + 1));
      const proto = guard(() => Object.getPrototypeOf(v) as unknown, undefined);
      if (proto !== Object.prototype && proto !== null) return textOf(v);
      const out: Record<string, unknown> = {};
      for (const key of guard(() => Object.keys(v).slice(0, 1000), [] as string[])) out[key] = plain(read(v, key), depth + 1);
      return out;
    }
    default:
      return guard(() => String(v), '?');
  }
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

// ---------------------------------------------------------------------------------------------
// Classification of a whole thrown value: our own errors decide; foreign ones by their data.

/** What one link of a cause chain says on its own; null when it says nothing we recognize. */
function verdictOf(v: unknown, peer: Peer | undefined): Verdict | null {
  if (isStreamError(v)) return { code: v.code, retryable: v.retryable };
  if (isSerializedError(v)) return { code: v.code, retryable: v.retryable };
  return foreignVerdict(v, peer);
}

/**
 * The verdict on a whole thrown value. It walks the cause chain and an AggregateError's members
 * (bounded, cycle-safe): a StreamError anywhere in it is authoritative; otherwise a link that says
 * "final" (a refused credential, a missing codec) outweighs one that says "retry", because the
 * outer error is often only a wrapper (kafkajs' NumberOfRetriesExceeded around an auth failure);
 * otherwise the outermost recognized link decides; otherwise `fallback`.
 */
function classify(value: unknown, fallback: ErrorCode, peer: Peer | undefined): Verdict {
  const links: unknown[] = [];
  const seen = new Set<unknown>();
  const queue: Array<[unknown, number]> = [[value, 0]];
  while (queue.length > 0 && links.length < 4 * MAX_CAUSE_DEPTH) {
    const [v, depth] = queue.shift()!;
    if (v === undefined || v === null || seen.has(v) || depth > MAX_CAUSE_DEPTH) continue;
    seen.add(v);
    links.push(v);
    queue.push([read(v, 'cause'), depth + 1]);
    const errors = read(v, 'errors');
    if (Array.isArray(errors)) for (let i = 0; i < Math.min(errors.length, MAX_AGGREGATE_MEMBERS); i++) queue.push([read(errors, i), depth + 1]);
  }
  const verdicts = links.map((l) => ({ own: isStreamError(l) || isSerializedError(l), verdict: verdictOf(l, peer) }));
  const own = verdicts.find((x) => x.own);
  if (own?.verdict) return own.verdict;
  const final = verdicts.find((x) => x.verdict !== null && !x.verdict.retryable);
  if (final?.verdict) return final.verdict;
  const first = verdicts.find((x) => x.verdict !== null);
  return first?.verdict ?? { code: fallback, retryable: ERROR_CODES[fallback].retryable };
}
