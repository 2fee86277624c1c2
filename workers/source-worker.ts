// Thread entry of a pipeline's Kafka source (src/runtime/threads/source-worker.ts).

import { parentPort, workerData } from 'node:worker_threads';
import type { SourceThreadInit } from '../src/runtime/threads/source-messages.js';
import { serveSource } from '../src/runtime/threads/source-worker.js';

serveSource(parentPort!, workerData as SourceThreadInit);
