// The checkout this code runs from, whether from sources (src/) or from tsc's output (dist/src/).
// Transformer modules and worker entry points are found relative to it.

import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const PROJECT_ROOT = path.basename(here) === 'src' && path.basename(path.dirname(here)) === 'dist' ? path.resolve(here, '..', '..') : path.resolve(here, '..');
