// Thread entry of compaction's file rewriting (src/runtime/threads/rewrite-worker.ts).

import { parentPort, workerData } from 'node:worker_threads';
import { serveRewrites, type RewriteWorkerInit } from '../src/runtime/threads/rewrite-worker.js';

serveRewrites(parentPort!, workerData as RewriteWorkerInit);
