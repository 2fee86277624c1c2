// A bounded set of worker threads that host the actors of one kind (every pipeline's source, or
// every pipeline's sink): an actor is not a thread. Each actor gets a MessageChannel of its own,
// whose far end is handed to the thread that hosts it (actor-thread.ts), so the actor protocols
// and a pipeline's restart of its own actors are what they were with a thread per actor.
//
// Placement: a new actor starts a new thread while there are fewer than `maxThreads` and every
// thread hosts at least one actor; otherwise it joins the thread hosting the fewest. So one
// pipeline has threads of its own, and fifty share `maxThreads` per kind (runtime.actor_threads,
// by default the core count). A thread left with no actor ends.
//
// Failure: an actor that reports `failed` on its port fails alone; its pipeline restarts it (a new
// actor, perhaps on another thread), and the old one is dropped from its thread. A thread that
// crashes or exits fails every actor it hosted, each once, and each pipeline restarts its own.

import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { StreamError, deserializeError, type ErrorCode } from '../../errors.js';
import type { ActorThreadCommand, ActorThreadEvent } from './actor-thread.js';
import { WorkerHost, type HostedEvent } from './worker-host.js';

export interface ActorThreadsOptions {
  /** The thread entry (workerFile('source-worker') or workerFile('sink-worker')). */
  file: string;
  /** "source" or "sink": names the threads ("sink actors 2"). */
  kind: string;
  maxThreads: number;
  /** Code of a thread's crash, as the actors' peer decides it. */
  crashCode: ErrorCode;
}

export interface HostedActorOptions<Evt> {
  init: unknown;
  /** The actor's name, the subject of its errors: "sink actor of bids". */
  name: string;
  onEvent(event: Evt): void;
  /** The actor failed: it reported `failed`, or its thread crashed or exited. */
  onFailure(err: StreamError): void;
}

/** One actor on a shared thread, as its owner sees it: the same shape as a thread of its own. */
export interface ActorHost<Cmd> {
  /** Resolves on the actor's `started`; rejects if it or its thread fails first. */
  readonly started: Promise<void>;
  /** Resolves when the actor is gone: dropped from its thread, or its thread ended. */
  readonly exited: Promise<unknown>;
  post(cmd: Cmd, transfer?: ArrayBuffer[]): void;
  /** From now on the actor's end is expected, not a failure. */
  expectExit(): void;
  /** Ends the actor now (its thread goes on for the others); its end is expected. */
  terminate(): Promise<void>;
}

/** How long a thread may take to drop an actor before its owner stops waiting. */
const DROP_WAIT_MS = 10_000;

interface ActorThread {
  host: WorkerHost<ActorThreadCommand, ActorThreadEvent>;
  actors: Set<SharedActor<unknown, { kind: string }>>;
  drops: Map<number, () => void>;
  dead: boolean;
}

let actorSeq = 0;

export class ActorThreads {
  private readonly threads: ActorThread[] = [];
  private threadSeq = 0;

  constructor(private readonly o: ActorThreadsOptions) {}

  /** Threads running now (for tests and the benchmark's account). */
  get threadCount(): number {
    return this.threads.length;
  }

  host<Cmd, Evt extends { kind: string }>(o: HostedActorOptions<Exclude<Evt, HostedEvent>>): ActorHost<Cmd> {
    const thread = this.place();
    const actor = new SharedActor<Cmd, Evt>(++actorSeq, o, (a) => this.drop(thread, a));
    thread.actors.add(actor as unknown as SharedActor<unknown, { kind: string }>);
    const { port1, port2 } = new MessageChannel();
    actor.attach(port1);
    thread.host.post({ kind: 'host', actor: actor.id, init: o.init, port: port2 }, [port2]);
    return actor;
  }

  private place(): ActorThread {
    const live = this.threads.filter((t) => !t.dead);
    if (live.length < Math.max(1, this.o.maxThreads) && live.every((t) => t.actors.size > 0)) return this.spawn();
    return live.reduce((a, b) => (b.actors.size < a.actors.size ? b : a));
  }

  private spawn(): ActorThread {
    const name = `${this.o.kind} actors ${++this.threadSeq}`;
    const thread: ActorThread = { host: undefined as never, actors: new Set(), drops: new Map(), dead: false };
    thread.host = new WorkerHost<ActorThreadCommand, ActorThreadEvent>({
      file: this.o.file,
      workerData: null,
      name,
      crashCode: this.o.crashCode,
      onEvent: (event) => thread.drops.get(event.actor)?.(),
      onFailure: (err) => this.lost(thread, err),
    });
    this.threads.push(thread);
    return thread;
  }

  /** The thread crashed or exited: every actor it hosted fails (once), and it hosts no more. */
  private lost(thread: ActorThread, err: StreamError): void {
    if (thread.dead) return;
    thread.dead = true;
    this.threads.splice(this.threads.indexOf(thread), 1);
    for (const resolve of thread.drops.values()) resolve();
    thread.drops.clear();
    for (const actor of thread.actors) actor.threadLost(err);
    thread.actors.clear();
  }

  private async drop(thread: ActorThread, actor: SharedActor<unknown, { kind: string }>): Promise<void> {
    if (thread.dead || !thread.actors.delete(actor)) return;
    if (thread.actors.size === 0) {
      // Nothing else lives there: ending the thread ends the actor and frees its heap.
      thread.dead = true;
      this.threads.splice(this.threads.indexOf(thread), 1);
      await thread.host.terminate();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      thread.drops.set(actor.id, resolve);
      thread.host.post({ kind: 'drop', actor: actor.id });
      // An actor that does not let go in time stays behind on its thread (its port is closed,
      // so it reaches nobody); ending the thread for it would take the other actors down.
      timer = setTimeout(resolve, DROP_WAIT_MS);
    });
    clearTimeout(timer);
    thread.drops.delete(actor.id);
  }

  /** Ends every thread; their actors' ends are expected. */
  async close(): Promise<void> {
    const threads = this.threads.splice(0);
    for (const t of threads) {
      t.dead = true;
      for (const a of t.actors) a.expectExit();
    }
    await Promise.all(threads.map((t) => t.host.terminate()));
    // Their ports would otherwise keep this thread's event loop alive.
    for (const t of threads) for (const a of t.actors) a.release();
  }
}

/** One actor's end of its own channel, with the start handshake and failure rules of WorkerHost. */
class SharedActor<Cmd, Evt extends { kind: string }> implements ActorHost<Cmd> {
  readonly started: Promise<void>;
  readonly exited: Promise<void>;
  private resolveStart!: () => void;
  private rejectStart!: (e: StreamError) => void;
  private resolveExit!: () => void;
  private port: MessagePort | undefined;
  private stopping = false;
  private failedOnce = false;

  constructor(
    readonly id: number,
    private readonly o: HostedActorOptions<Exclude<Evt, HostedEvent>>,
    private readonly dropFromThread: (a: SharedActor<unknown, { kind: string }>) => Promise<void>,
  ) {
    this.started = new Promise<void>((resolve, reject) => {
      this.resolveStart = resolve;
      this.rejectStart = reject;
    });
    this.started.catch(() => {});
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  attach(port: MessagePort): void {
    this.port = port;
    port.on('message', (event: Evt | HostedEvent) => {
      if (event.kind === 'started') this.resolveStart();
      else if (event.kind === 'failed') this.fail(deserializeError((event as Extract<HostedEvent, { kind: 'failed' }>).error));
      else this.o.onEvent(event as Exclude<Evt, HostedEvent>);
    });
  }

  private fail(e: StreamError): void {
    this.rejectStart(e);
    if (this.failedOnce || this.stopping) return;
    this.failedOnce = true;
    this.o.onFailure(e);
  }

  threadLost(err: StreamError): void {
    this.fail(new StreamError(err.code, `${this.o.name}: ${err.message}`, { cause: err, retryable: err.retryable }));
    this.release();
  }

  post(cmd: Cmd, transfer: ArrayBuffer[] = []): void {
    this.port?.postMessage(cmd, transfer);
  }

  expectExit(): void {
    this.stopping = true;
  }

  async terminate(): Promise<void> {
    this.stopping = true;
    this.rejectStart(new StreamError('ACTOR_FAILED', `${this.o.name} was stopped before it started`));
    await this.dropFromThread(this as unknown as SharedActor<unknown, { kind: string }>);
    this.release();
  }

  /** Closes this end of the actor's channel; the actor is gone. */
  release(): void {
    this.port?.close();
    this.port = undefined;
    this.resolveExit();
  }
}
