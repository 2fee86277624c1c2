// Thread entry of the sink actors (src/runtime/threads/sink-worker.ts): one thread hosts many.

import { parentPort } from 'node:worker_threads';
import { serveSinks } from '../src/runtime/threads/sink-worker.js';

serveSinks(parentPort!);
