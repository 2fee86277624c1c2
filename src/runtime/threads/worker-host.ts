// One host for every long-lived worker thread the runtime starts (a pipeline's source thread, its
// sink thread): the start handshake, a thread that crashes, reports a failure or exits, and
// message dispatch, the same way on every side. The thread posts `{kind: 'started'}` once it
// takes commands, or `{kind: 'failed'}`; everything else it posts goes to `onEvent`.
//
// Hazard: a thread can die before it has started. The start promise must then reject, or a
// pipeline's start would never settle; so every way to fail rejects it (a no-op once started).

import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker, type TransferListItem } from 'node:worker_threads';
import { StreamError, deserializeError, type ErrorCode, type SerializedError } from '../../errors.js';
import { PROJECT_ROOT } from '../../project-root.js';

/**
 * The young generation of the long-lived threads (source, sink, compaction): V8's own on a 64-bit
 * machine (16 MB semi-spaces), stated because the CLI gives the main thread smaller ones by a V8
 * flag (malloc-tuning.ts), which every thread started after it would take. Smaller ones here
 * cost CPU: 4 MB semi-spaces for main, source and sink together, +0.3 CPU-s per million records.
 */
export const ACTOR_THREAD_YOUNG_GENERATION_MB = 48;

/**
 * A compiled worker entry point. Workers always start from tsc's output in dist/, also when the
 * caller runs from sources (vitest): a worker thread cannot load .ts without a loader, and dist/
 * needs none.
 */
export function workerFile(name: 'sink-worker' | 'transform-worker' | 'source-worker' | 'rewrite-worker'): string {
  const file = path.join(PROJECT_ROOT, 'dist', 'workers', `${name}.js`);
  if (!existsSync(file)) throw new StreamError('NOT_IMPLEMENTED', `${file} is missing: run npm run build`);
  return file;
}

/** The messages every hosted thread posts besides its own: declared once, used by both sides. */
export type HostedEvent = { kind: 'started' } | { kind: 'failed'; error: SerializedError };

export interface WorkerHostOptions<Evt> {
  file: string;
  workerData: unknown;
  /** Thread name, and the subject of its errors: "sink actor of bids", "source thread of bids". */
  name: string;
  /** Code of a crash (an uncaught error in the thread): the peer the thread talks to decides it. */
  crashCode: ErrorCode;
  onEvent(event: Evt): void;
  /** The thread failed: it crashed, reported `failed`, or exited while not being stopped. */
  onFailure(err: StreamError): void;
}

export class WorkerHost<Cmd, Evt extends { kind: string }> {
  /** Resolves on the thread's `started`; rejects if it fails or exits first. */
  readonly started: Promise<void>;
  /** Resolves when the thread has exited, for whatever reason. */
  readonly exited: Promise<number>;
  private readonly worker: Worker;
  private stopping = false;

  constructor(o: WorkerHostOptions<Exclude<Evt, HostedEvent>>) {
    this.worker = new Worker(o.file, { workerData: o.workerData, name: o.name, resourceLimits: { maxYoungGenerationSizeMb: ACTOR_THREAD_YOUNG_GENERATION_MB } });
    let resolveStart!: () => void;
    let rejectStart!: (e: StreamError) => void;
    this.started = new Promise<void>((resolve, reject) => {
      resolveStart = resolve;
      rejectStart = reject;
    });
    this.started.catch(() => {});
    const fail = (e: StreamError): void => {
      rejectStart(e);
      o.onFailure(e);
    };
    this.exited = new Promise((resolve) => this.worker.on('exit', resolve));
    this.worker.on('error', (err) => fail(new StreamError(o.crashCode, `${o.name} crashed: ${err.message}`, { cause: err })));
    this.worker.on('exit', (code) => {
      const e = new StreamError('ACTOR_FAILED', `${o.name} exited with code ${code}`);
      rejectStart(e);
      if (!this.stopping) o.onFailure(e);
    });
    this.worker.on('message', (event: Evt | HostedEvent) => {
      if (event.kind === 'started') resolveStart();
      else if (event.kind === 'failed') fail(deserializeError((event as Extract<HostedEvent, { kind: 'failed' }>).error));
      else o.onEvent(event as Exclude<Evt, HostedEvent>);
    });
  }

  post(cmd: Cmd, transfer: TransferListItem[] = []): void {
    this.worker.postMessage(cmd, transfer);
  }

  /** From now on the thread's exit is expected, not a failure. */
  expectExit(): void {
    this.stopping = true;
  }

  /** Ends the thread now; its exit is expected. */
  async terminate(): Promise<void> {
    this.stopping = true;
    await this.worker.terminate();
  }
}
