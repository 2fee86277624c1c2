// Where the compiled worker entry points are. Workers always start from tsc's output in dist/,
// also when the caller runs from sources (vitest): a worker thread cannot load .ts on Node 20
// without a loader, and dist/ needs none.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { StreamError } from '../errors.js';
import { PROJECT_ROOT } from '../project-root.js';

export function workerFile(name: 'sink-worker' | 'transform-worker' | 'source-worker'): string {
  const file = path.join(PROJECT_ROOT, 'dist', 'workers', `${name}.js`);
  if (!existsSync(file)) throw new StreamError('NOT_IMPLEMENTED', `${file} is missing: run npm run build`);
  return file;
}
