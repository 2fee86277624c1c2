import { describe, expect, it } from 'vitest';
import { StreamError } from '../../src/errors.js';
import { SourceActor, type SourceOutput } from '../../src/runtime/source-actor.js';
import type { FetchedChunk } from '../../src/runtime/threads/source-port.js';
import type { TransformTaskResult } from '../../src/runtime/threads/transform-messages.js';

/** A chunk of records [first, first + n); the actor never looks inside its bytes. */
function batch(first: number, n: number): FetchedChunk {
  const chunk = { topic: 't', partition: 0, bytes: new Uint8Array(0), fromOffset: BigInt(first), nextOffset: BigInt(first + n), recordCount: n, compressedBytes: 0, weight: 0, abortedTransactions: null };
  return { partition: 0, chunk, highWatermark: BigInt(first + n) };
}

function result(tag: number): TransformTaskResult {
  return { rows: new Uint8Array([tag]), deadLetters: null, stats: { records: 0, rows: 0, filtered: 0, tombstones: 0, deadLetters: { RECORD_DECODE_FAILED: 0, RECORD_TOO_LARGE: 0, EXPRESSION_FAILED: 0 } }, valueBytes: 0 };
}

/** Transform tasks that finish when the test says so, in any order. */
function controlledTransform() {
  const pending: Array<{ first: bigint; resolve: (r: TransformTaskResult) => void; reject: (e: unknown) => void }> = [];
  return {
    pending,
    transform: (b: FetchedChunk) =>
      new Promise<TransformTaskResult>((resolve, reject) => pending.push({ first: b.chunk.fromOffset, resolve, reject })),
  };
}

function actor(transform: (b: FetchedChunk) => Promise<TransformTaskResult>, out: SourceOutput[], extra: { maxInFlight?: number; events?: string[] } = {}) {
  return new SourceActor({
    partition: 0,
    startOffset: 0n,
    firstEpoch: 1,
    maxInFlight: extra.maxInFlight ?? 10,
    maxTaskAttempts: 3,
    transform,
    forward: (o) => out.push(o),
    backpressure: (p) => extra.events?.push(p ? 'pause' : 'resume'),
    fail: (e) => extra.events?.push(`fail:${e.code}`),
    retried: (e, n) => extra.events?.push(`retry:${n}`),
  });
}

const tick = () => new Promise((r) => setTimeout(r, 0));
const describeOut = (o: SourceOutput) => (o.kind === 'data' ? `data:${o.result.rows[0]}` : `barrier:${o.epoch}@${o.nextOffset}`);

describe('SourceActor', () => {
  it('stamps each batch with the epoch it belongs to: the one after the last barrier forwarded before it', async () => {
    const c = controlledTransform();
    const out: SourceOutput[] = [];
    const a = actor(c.transform, out);
    a.accept(batch(0, 10));
    a.barrier(1);
    a.accept(batch(10, 5));
    a.barrier(2);
    a.barrier(3);
    a.accept(batch(15, 5));
    // Finishing out of order must not change which side of a barrier a batch is on.
    c.pending[2]!.resolve(result(3));
    c.pending[1]!.resolve(result(2));
    c.pending[0]!.resolve(result(1));
    await tick();
    expect(out.map((o) => (o.kind === 'data' ? `data:${o.result.rows[0]}@${o.epoch}` : `barrier:${o.epoch}`))).toEqual([
      'data:1@1',
      'barrier:1',
      'data:2@2',
      'barrier:2',
      'barrier:3',
      'data:3@4',
    ]);
  });

  it('forwards results in submission order even when tasks finish out of order, and barriers in place', async () => {
    const c = controlledTransform();
    const out: SourceOutput[] = [];
    const a = actor(c.transform, out);
    a.accept(batch(0, 10));
    a.accept(batch(10, 5));
    a.barrier(1);
    a.accept(batch(15, 5));
    c.pending[2]!.resolve(result(3));
    c.pending[1]!.resolve(result(2));
    await tick();
    expect(out).toEqual([]); // the head (first batch) is still running: nothing may overtake it
    c.pending[0]!.resolve(result(1));
    await tick();
    expect(out.map(describeOut)).toEqual(['data:1', 'data:2', 'barrier:1@15', 'data:3']);
    await a.idle();
  });

  it('reports each chunk settled once, whether its task succeeded or failed for good, so the source can fetch again', async () => {
    const settled: bigint[] = [];
    const a = new SourceActor({
      partition: 0,
      startOffset: 0n,
      firstEpoch: 1,
      maxInFlight: 10,
      maxTaskAttempts: 2,
      transform: async (b) => {
        if (b.chunk.fromOffset === 5n) throw new StreamError('WORKER_CRASHED', 'died');
        return result(1);
      },
      forward: () => {},
      backpressure: () => {},
      fail: () => {},
      retried: () => {},
      settled: (f) => settled.push(f.chunk.fromOffset),
    });
    a.accept(batch(0, 5));
    a.accept(batch(5, 5));
    for (let i = 0; i < 10 && settled.length < 2; i++) await tick();
    expect(settled.sort()).toEqual([0n, 5n]);
  });

  it('puts a barrier at the current offset even with nothing in flight', async () => {
    const out: SourceOutput[] = [];
    const a = actor(async () => result(0), out);
    a.barrier(7);
    expect(out.map(describeOut)).toEqual(['barrier:7@0']);
  });

  it('asks for a pause at maxInFlight and for a resume once half have finished', async () => {
    const c = controlledTransform();
    const events: string[] = [];
    const a = actor(c.transform, [], { maxInFlight: 4, events });
    for (let i = 0; i < 4; i++) a.accept(batch(i * 10, 10));
    expect(events).toEqual(['pause']);
    c.pending[0]!.resolve(result(0));
    await tick();
    expect(events).toEqual(['pause']);
    c.pending[1]!.resolve(result(0));
    await tick();
    expect(events).toEqual(['pause', 'resume']);
  });

  it('retries a task whose worker crashed, forwarding one result only', async () => {
    let calls = 0;
    const out: SourceOutput[] = [];
    const events: string[] = [];
    const a = actor(async () => {
      calls++;
      if (calls < 3) throw new StreamError('WORKER_CRASHED', 'worker exited');
      return result(9);
    }, out, { events });
    a.accept(batch(0, 3));
    await a.idle();
    expect(calls).toBe(3);
    expect(events).toEqual(['retry:1', 'retry:2']);
    expect(out.map(describeOut)).toEqual(['data:9']);
  });

  it('names topic, partition and the offset range of a task that still fails after its attempts', async () => {
    let failure: StreamError | undefined;
    const a = new SourceActor({
      partition: 0,
      startOffset: 0n,
      firstEpoch: 1,
      maxInFlight: 10,
      maxTaskAttempts: 3,
      transform: async () => {
        throw Object.assign(new Error('worker ran out of memory'), { code: 'ERR_WORKER_OUT_OF_MEMORY' });
      },
      forward: () => {},
      backpressure: () => {},
      fail: (e) => (failure = e),
      retried: () => {},
    });
    a.accept(batch(40, 5));
    for (let i = 0; i < 10 && failure === undefined; i++) await tick();
    expect(failure?.message).toBe('transform of topic t partition 0 offsets 40..44 failed after 3 attempt(s): worker ran out of memory');
    expect(failure?.details).toMatchObject({ topic: 't', partition: 0, firstOffset: '40', lastOffset: '44', attempts: 3 });
    expect((failure?.cause as StreamError).foreignCode).toBe('ERR_WORKER_OUT_OF_MEMORY');
  });

  it('fails, without retrying, on a user error, and forwards nothing after it', async () => {
    const out: SourceOutput[] = [];
    const events: string[] = [];
    const a = actor(async (b) => {
      if (b.chunk.fromOffset === 0n) throw new StreamError('RECORD_DECODE_FAILED', 'bad record (on_error is fail)');
      return result(1);
    }, out, { events });
    a.accept(batch(0, 1));
    a.accept(batch(1, 1));
    await tick();
    await tick();
    expect(events).toEqual(['fail:RECORD_DECODE_FAILED']);
    a.barrier(1);
    expect(out).toEqual([]);
  });
});
