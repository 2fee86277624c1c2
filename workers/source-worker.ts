// Thread entry of the Kafka sources (src/runtime/threads/source-worker.ts): one thread hosts many.

import { parentPort } from 'node:worker_threads';
import { serveSources } from '../src/runtime/threads/source-worker.js';

serveSources(parentPort!);
