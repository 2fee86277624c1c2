// Thread entry of a sink actor (src/runtime/threads/sink-worker.ts): one per table.

import { parentPort, workerData } from 'node:worker_threads';
import type { SinkActorInit } from '../src/runtime/sink-actor.js';
import { serveSink } from '../src/runtime/threads/sink-worker.js';

serveSink(parentPort!, workerData as SinkActorInit);
