// Thread entry of the transform pool (piscina): the task is src/runtime/threads/transform-worker.ts.

import { workerData } from 'node:worker_threads';
import type { TransformSpec } from '../src/transform/batch-transform.js';
import { transformTaskRunner } from '../src/runtime/threads/transform-worker.js';

export default transformTaskRunner((workerData as { specs: Array<[string, TransformSpec]> }).specs);
