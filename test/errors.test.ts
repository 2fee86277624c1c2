import { readFileSync } from 'node:fs';
import {
  KafkaJSConnectionError,
  KafkaJSNotImplemented,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSRequestTimeoutError,
  KafkaJSSASLAuthenticationError,
} from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { MAX_CAUSE_DEPTH, StreamError, deserializeError, errorFields, serializeError, toStreamError, type SerializedError } from '../src/errors.js';

/** What a worker thread does with an error, and what the main thread gets back. */
function acrossThread(value: unknown, ...args: Parameters<typeof serializeError> extends [unknown, ...infer R] ? R : never): StreamError {
  return deserializeError(structuredClone(serializeError(value, ...args)));
}

function chain(e: StreamError | SerializedError): Array<StreamError | SerializedError> {
  const out: Array<StreamError | SerializedError> = [];
  for (let c: unknown = e; c !== undefined && out.length < 100; c = (c as { cause?: unknown }).cause) out.push(c as StreamError);
  return out;
}

/** kafkajs' declarations leave some constructors without parameters; its code takes a message. */
function make(cls: new (...args: never[]) => Error, message: string): Error {
  return new (cls as unknown as new (m: string) => Error)(message);
}

function systemError(code: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { code, ...extra });
}

describe('serializeError: foreign errors', () => {
  it('serializes a plain Error without overflowing the stack, keeping its message and name', () => {
    const s = serializeError(new TypeError('x is not a function'));
    expect(s.message).toBe('x is not a function');
    expect(s.name).toBe('TypeError');
    expect(s.code).toBe('ACTOR_FAILED');
    expect(s.cause).toBeUndefined();
    expect(s.stack).toContain('x is not a function');
  });

  it('keeps code, errno and syscall of a connection refusal across a structured clone, and calls it an outage of the peer', () => {
    const refused = systemError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1', { errno: -111, syscall: 'connect', address: '127.0.0.1', port: 1 });
    const kafka = acrossThread(refused, 'ACTOR_FAILED', 'kafka');
    expect(kafka).toBeInstanceOf(StreamError);
    expect(kafka.message).toBe('connect ECONNREFUSED 127.0.0.1:1');
    expect(kafka.foreignCode).toBe('ECONNREFUSED');
    expect(kafka.foreignName).toBe('Error');
    expect(kafka.details).toMatchObject({ errno: -111, syscall: 'connect', address: '127.0.0.1', port: 1 });
    expect([kafka.code, kafka.domain, kafka.retryable]).toEqual(['KAFKA_UNAVAILABLE', 'external', true]);
    expect(acrossThread(refused, 'ACTOR_FAILED', 'storage').code).toBe('STORAGE_FAILED');
    expect(acrossThread(refused, 'ACTOR_FAILED', 'catalog').code).toBe('CATALOG_UNAVAILABLE');
  });

  it.each(['ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'EPIPE'])('%s is a retryable outage', (code) => {
    const e = acrossThread(systemError(code, `${code.toLowerCase()} happened`), 'ACTOR_FAILED', 'kafka');
    expect([e.code, e.domain, e.retryable, e.foreignCode]).toEqual(['KAFKA_UNAVAILABLE', 'external', true, code]);
  });

  it.each(['EACCES', 'EPERM', 'EROFS', 'ENOSPC'])('%s is a retryable storage failure whatever the peer', (code) => {
    const e = acrossThread(systemError(code, `open '/w/x.parquet': ${code}`), 'ACTOR_FAILED', 'kafka');
    expect([e.code, e.domain, e.retryable, e.foreignCode]).toEqual(['STORAGE_FAILED', 'external', true, code]);
  });

  it('keeps a real ENOENT from the file system', () => {
    let thrown: unknown;
    try {
      readFileSync('/nonexistent/streamberg/file');
    } catch (err) {
      thrown = err;
    }
    const e = acrossThread(thrown);
    expect(e.message).toContain('/nonexistent/streamberg/file');
    expect(e.foreignCode).toBe('ENOENT');
    expect(e.details).toMatchObject({ syscall: 'open', path: '/nonexistent/streamberg/file' });
    expect(e.code).toBe('STORAGE_FAILED');
  });

  it('never reads the message text: an error that only says ECONNREFUSED in words gets the fallback', () => {
    const e = acrossThread(new Error('connect ECONNREFUSED 127.0.0.1:9092'), 'ACTOR_FAILED', 'kafka');
    expect(e.code).toBe('ACTOR_FAILED');
    expect(e.foreignCode).toBeUndefined();
  });

  it('classifies by a code deeper in the cause chain, and keeps the chain', () => {
    const fetchFailed = new TypeError('fetch failed', { cause: systemError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:4566') });
    const e = acrossThread(fetchFailed, 'COMMIT_FAILED', 'catalog');
    expect(e.code).toBe('CATALOG_UNAVAILABLE');
    expect(e.message).toBe('fetch failed');
    expect(e.foreignName).toBe('TypeError');
    const cause = e.cause as StreamError;
    expect(cause).toBeInstanceOf(StreamError);
    expect(cause.message).toBe('connect ECONNREFUSED 127.0.0.1:4566');
    expect(cause.foreignCode).toBe('ECONNREFUSED');
  });

  it('serializes an AggregateError with its members, classified by them', () => {
    const agg = new AggregateError([systemError('ECONNREFUSED', 'connect ECONNREFUSED ::1:1'), systemError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1')], 'all addresses failed');
    const e = acrossThread(agg, 'ACTOR_FAILED', 'kafka');
    expect(e.message).toBe('all addresses failed');
    expect(e.foreignName).toBe('AggregateError');
    expect(e.code).toBe('KAFKA_UNAVAILABLE');
    expect(e.errors.map((m) => [m.message, m.foreignCode])).toEqual([
      ['connect ECONNREFUSED ::1:1', 'ECONNREFUSED'],
      ['connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED'],
    ]);
  });

  it('a StreamError inside a foreign error decides the code', () => {
    const inner = new StreamError('SCHEMA_MISMATCH', 'column x is missing');
    const e = acrossThread(new Error('wrapped', { cause: inner }));
    expect([e.code, e.retryable, e.message]).toEqual(['SCHEMA_MISMATCH', false, 'wrapped']);
    expect((e.cause as StreamError).message).toBe('column x is missing');
  });
});

describe('serializeError: kafkajs errors, by name and retriable flag', () => {
  it('a connection error is an outage, with its code kept', () => {
    const e = acrossThread(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:1', { broker: '127.0.0.1:1', code: 'ECONNREFUSED' } as never), 'ACTOR_FAILED', 'kafka');
    expect([e.code, e.retryable, e.foreignName, e.foreignCode]).toEqual(['KAFKA_UNAVAILABLE', true, 'KafkaJSConnectionError', 'ECONNREFUSED']);
    expect(e.details.broker).toBe('127.0.0.1:1');
  });

  it('a request timeout is an outage', () => {
    expect(acrossThread(make(KafkaJSRequestTimeoutError, 'Request Produce timed out')).code).toBe('KAFKA_UNAVAILABLE');
  });

  it('retries exhausted over a connection error is an outage, although kafkajs marks it non-retriable', () => {
    const e = acrossThread(new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection timeout'), { retryCount: 5, retryTime: 100 } as never));
    expect([e.code, e.retryable]).toEqual(['KAFKA_UNAVAILABLE', true]);
    expect((e.cause as StreamError).foreignName).toBe('KafkaJSConnectionError');
  });

  it('a SASL authentication failure is final, also when wrapped in retries exhausted', () => {
    const auth = make(KafkaJSSASLAuthenticationError, 'SASL SCRAM SHA512 authentication failed: bad password');
    expect([acrossThread(auth).code, acrossThread(auth).domain, acrossThread(auth).retryable]).toEqual(['KAFKA_AUTH_FAILED', 'user', false]);
    const wrapped = acrossThread(new KafkaJSNumberOfRetriesExceeded(auth, { retryCount: 5, retryTime: 100 } as never), 'ACTOR_FAILED', 'kafka');
    expect([wrapped.code, wrapped.retryable]).toEqual(['KAFKA_AUTH_FAILED', false]);
  });

  it('a TLS handshake refused over certificates is an auth failure, not an outage, also after retries', () => {
    for (const code of ['ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'SELF_SIGNED_CERT_IN_CHAIN', 'ERR_TLS_CERT_ALTNAME_INVALID']) {
      const refused = new KafkaJSConnectionError('Connection error: ssl/tls alert bad certificate', { broker: '127.0.0.1:9093', code } as never);
      const wrapped = acrossThread(new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 8, retryTime: 100 } as never), 'ACTOR_FAILED', 'kafka');
      expect([wrapped.code, wrapped.retryable, code]).toEqual(['KAFKA_AUTH_FAILED', false, code]);
      const bare = Object.assign(new Error('handshake failed'), { code });
      expect([acrossThread(bare, 'ACTOR_FAILED', 'kafka').code, code]).toEqual(['KAFKA_AUTH_FAILED', code]);
    }
    const down = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED', { broker: '127.0.0.1:9093', code: 'ECONNREFUSED' } as never);
    expect([acrossThread(down, 'ACTOR_FAILED', 'kafka').code, acrossThread(down).retryable]).toEqual(['KAFKA_UNAVAILABLE', true]);
  });

  it('a protocol error follows its retriable flag; an authorization type is an auth failure', () => {
    const retriable = acrossThread(new KafkaJSProtocolError({ message: 'leader not available', type: 'LEADER_NOT_AVAILABLE', code: 5, retriable: true } as never));
    expect([retriable.code, retriable.retryable, retriable.foreignCode]).toEqual(['KAFKA_PROTOCOL', true, 5]);
    const final = acrossThread(new KafkaJSProtocolError({ message: 'record too large', type: 'MESSAGE_TOO_LARGE', code: 10, retriable: false } as never));
    expect([final.code, final.retryable]).toEqual(['KAFKA_PROTOCOL', false]);
    const denied = acrossThread(new KafkaJSProtocolError({ message: 'not authorized', type: 'TOPIC_AUTHORIZATION_FAILED', code: 29, retriable: false } as never));
    expect([denied.code, denied.retryable, denied.details.type]).toEqual(['KAFKA_AUTH_FAILED', false, 'TOPIC_AUTHORIZATION_FAILED']);
  });

  it('a missing codec is not retried', () => {
    const e = acrossThread(make(KafkaJSNotImplemented, 'LZ4 compression not implemented'));
    expect([e.code, e.retryable, e.message]).toEqual(['KAFKA_PROTOCOL', false, 'LZ4 compression not implemented']);
  });
});

describe('serializeError: StreamErrors', () => {
  it('round-trips code, retryable override, details, stack and a cause chain through structured clone', () => {
    const root = systemError('EACCES', "EACCES: permission denied, open '/w/data/x.parquet'", { errno: -13, syscall: 'open' });
    const err = new StreamError('STORAGE_FAILED', 'write file:///w/data/x.parquet failed', { cause: root, details: { uri: 'file:///w/data/x.parquet', n: 3n } });
    const outer = new StreamError('CHECKPOINT_FAILED', 'epoch 4 failed', { cause: err, retryable: false });
    const back = acrossThread(outer);
    expect([back.code, back.retryable, back.domain, back.message]).toEqual(['CHECKPOINT_FAILED', false, 'external', 'epoch 4 failed']);
    expect(back.stack).toBe(outer.stack);
    const [, storage, foreign] = chain(back) as StreamError[];
    expect([storage!.code, storage!.message, storage!.details]).toEqual(['STORAGE_FAILED', 'write file:///w/data/x.parquet failed', { uri: 'file:///w/data/x.parquet', n: 3n }]);
    expect([foreign!.foreignCode, foreign!.message, foreign!.details.errno]).toEqual(['EACCES', "EACCES: permission denied, open '/w/data/x.parquet'", -13]);
  });

  it('toJSON does not recurse: JSON.stringify of a StreamError with a foreign cause works', () => {
    const text = JSON.stringify(new StreamError('ACTOR_FAILED', 'outer', { cause: new Error('inner') }));
    expect(JSON.parse(text).cause.message).toBe('inner');
  });

  it('details that structured clone refuses are turned into text', () => {
    class Socket {
      fd = 3;
    }
    const e = new StreamError('ACTOR_FAILED', 'x', { details: { fn: () => 1, socket: new Socket(), nested: { list: [1, 'a', null] } } });
    const back = acrossThread(e);
    expect(typeof back.details.fn).toBe('string');
    expect(back.details.socket).toEqual('{"fd":3}');
    expect(back.details.nested).toEqual({ list: [1, 'a', null] });
  });

  it('toStreamError returns a StreamError as it is, and rebuilds one from its serialized form', () => {
    const e = new StreamError('SQL_INVALID', 'bad');
    expect(toStreamError(e)).toBe(e);
    const rebuilt = toStreamError(e.toJSON());
    expect([rebuilt.code, rebuilt.message]).toEqual(['SQL_INVALID', 'bad']);
  });
});

describe('serializeError: any thrown value, bounded', () => {
  it.each([
    ['a string', 'disk on fire', 'disk on fire'],
    ['null', null, 'null was thrown'],
    ['undefined', undefined, 'undefined was thrown'],
    ['a number', 42, 'number 42 was thrown'],
    ['a bigint', 10n, 'bigint 10 was thrown'],
    ['a symbol', Symbol('s'), 'symbol Symbol(s) was thrown'],
    ['a plain object', { status: 503 }, 'an object was thrown: {"status":503}'],
    ['an object with a message and code', { message: 'nope', code: 'EPIPE' }, 'nope'],
    ['an object without a prototype', Object.create(null) as object, 'an object was thrown: {}'],
  ])('%s', (_what, value, message) => {
    const e = acrossThread(value, 'ACTOR_FAILED', 'kafka');
    expect(e.message).toBe(message);
    expect(e.code).toBe(typeof value === 'object' && value !== null && 'code' in value ? 'KAFKA_UNAVAILABLE' : 'ACTOR_FAILED');
  });

  it('an object that refers to itself', () => {
    const o: Record<string, unknown> = { a: 1 };
    o.self = o;
    const e = acrossThread(o);
    expect(e.message).toMatch(/^an object was thrown: \[object Object\]$/);
  });

  it('an error whose getters throw', () => {
    const hostile = new Error('hidden');
    for (const key of ['message', 'code', 'name', 'stack', 'cause']) {
      Object.defineProperty(hostile, key, {
        get() {
          throw new Error(`no ${key} for you`);
        },
      });
    }
    const s = serializeError(hostile);
    expect(s.code).toBe('ACTOR_FAILED');
    expect(typeof s.message).toBe('string');
    expect(() => structuredClone(s)).not.toThrow();
  });

  it('a proxy whose every trap throws', () => {
    const trap = () => {
      throw new Error('trap');
    };
    const p = new Proxy({}, { get: trap, getPrototypeOf: trap, has: trap, ownKeys: trap, getOwnPropertyDescriptor: trap });
    const s = serializeError(p, 'WORKER_CRASHED');
    expect(s.code).toBe('WORKER_CRASHED');
    expect(() => deserializeError(structuredClone(s))).not.toThrow();
  });

  it('cuts a cause chain that is too deep', () => {
    let e: Error = new Error('root');
    for (let i = 0; i < 100; i++) e = new Error(`level ${i}`, { cause: e });
    const back = acrossThread(e);
    const links = chain(back) as StreamError[];
    expect(links).toHaveLength(MAX_CAUSE_DEPTH + 1);
    expect(links[0]!.message).toBe('level 99');
    expect(links.at(-1)!.truncated).toBe('depth');
  });

  it('cuts a cyclic cause chain', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    const back = acrossThread(a);
    expect((chain(back) as StreamError[]).map((x) => x.message)).toEqual(['a', 'b']);
    expect((back.cause as StreamError).truncated).toBe('cycle');
    const self = new Error('me');
    (self as { cause?: unknown }).cause = self;
    expect(acrossThread(self).truncated).toBe('cycle');
  });

  it('a cyclic StreamError chain', () => {
    const a = new StreamError('ACTOR_FAILED', 'a');
    const b = new StreamError('ACTOR_FAILED', 'b', { cause: a });
    Object.defineProperty(a, 'cause', { value: b });
    expect(() => JSON.stringify(a)).not.toThrow();
    expect(acrossThread(a).cause?.constructor).toBe(StreamError);
  });

  it('clips an enormous message', () => {
    const e = acrossThread(new Error('x'.repeat(1_000_000)));
    expect(e.message.length).toBeLessThan(10_000);
    expect(e.message).toMatch(/more characters\)$/);
  });

  it('an AggregateError with very many members keeps a few', () => {
    const agg = new AggregateError(Array.from({ length: 1000 }, (_, i) => new Error(`m${i}`)), 'many');
    const e = acrossThread(agg);
    expect(e.errors.length).toBeGreaterThan(0);
    expect(e.errors.length).toBeLessThanOrEqual(8);
    expect(e.errors[0]!.message).toBe('m0');
  });
});

describe('errorFields', () => {
  it('lists the causes below a wrapper with their names and codes, for the log', () => {
    const e = toStreamError(new Error('checkpoint 3 failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), { code: 'ECONNREFUSED' }) }), 'CHECKPOINT_FAILED', 'catalog');
    expect(errorFields(e)).toEqual({
      code: 'CATALOG_UNAVAILABLE',
      error: 'checkpoint 3 failed',
      causes: ['Error [ECONNREFUSED]: connect ECONNREFUSED 127.0.0.1:4566'],
    });
  });
});
