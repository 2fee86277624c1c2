#!/usr/bin/env node
// `npm start -- [options]` and `npm start -- maintain [options]`: the process is set up first —
// glibc's allocator tuned (malloc-tuning.ts, which may start the process again in place) and the
// module compile cache on (compile-cache.ts) — and only then is the command line loaded
// (command-line.ts), so a restart throws away no module loaded for nothing.

import { useCompileCache } from './compile-cache.js';
import { retuneMalloc } from './malloc-tuning.js';

retuneMalloc();
useCompileCache();
const { runCli } = await import('./command-line.js');
runCli();
