// Tests that start the compiled CLI or worker threads need dist/ to be current. tsc emits even
// when some file has a type error, so a half-finished file elsewhere does not block these
// tests; `npm test` type-checks separately and fails on any error.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
let built = false;

export function ensureBuilt(): void {
  if (built || process.env.STREAMBERG_PREBUILT === '1') return;
  try {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.json')], {
      cwd: ROOT,
      stdio: 'pipe',
    });
  } catch {
    // Type errors: reported by `npm run build`; the emitted JavaScript is still usable here.
  }
  if (!existsSync(path.join(ROOT, 'dist/src/cli.js'))) throw new Error('tsc produced no dist/src/cli.js');
  built = true;
}
