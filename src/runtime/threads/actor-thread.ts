// The thread side of a shared actor thread (actor-threads.ts is the main side): one worker thread
// hosts many actors of one kind, each with a MessagePort of its own, so every actor speaks its own
// protocol (source-messages.ts, sink-messages.ts) exactly as it would on a thread of its own. The
// thread's own port (parentPort) carries only these host commands.
//
// Hazard: an actor's failure must not end the thread, or every actor on it would go down with
// it. Actors report their failures as `failed` on their own port; only an uncaught error or a
// process.exit takes the thread and all its actors (the main side then fails each of them).

import type { MessagePort } from 'node:worker_threads';
import type { HostedEvent } from './worker-host.js';
import { nameThisThread } from './thread-name.js';

/** Main thread → shared actor thread, on the thread's own port. */
export type ActorThreadCommand =
  /** Start an actor: `port` is its end of its own channel (transferred), `init` its start data. */
  | { kind: 'host'; actor: number; init: unknown; port: MessagePort }
  /** Stop an actor and let go of everything it holds; its port is closed. */
  | { kind: 'drop'; actor: number };

/** Shared actor thread → main thread, on the thread's own port. */
export type ActorThreadEvent = HostedEvent | { kind: 'dropped'; actor: number };

/** What an actor on a shared thread gives its host: a way to stop it. */
export interface HostedActor {
  close(): Promise<void> | void;
}

/** Serves host commands on `parent` until the thread ends; `serve` starts one actor on its port. */
export function serveActors<Init>(parent: MessagePort, threadName: string, serve: (port: MessagePort, init: Init) => HostedActor): void {
  nameThisThread(threadName);
  const actors = new Map<number, { actor: HostedActor; port: MessagePort }>();
  parent.on('message', (cmd: ActorThreadCommand) => {
    switch (cmd.kind) {
      case 'host':
        actors.set(cmd.actor, { actor: serve(cmd.port, cmd.init as Init), port: cmd.port });
        return;
      case 'drop': {
        const hosted = actors.get(cmd.actor);
        actors.delete(cmd.actor);
        void Promise.resolve(hosted?.actor.close())
          .catch(() => {})
          .finally(() => {
            hosted?.port.close();
            parent.postMessage({ kind: 'dropped', actor: cmd.actor } satisfies ActorThreadEvent);
          });
        return;
      }
    }
  });
  parent.postMessage({ kind: 'started' } satisfies ActorThreadEvent);
}
