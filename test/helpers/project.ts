// A throw-away project folder: config/ with the given YAML, transformations/ with stand-in module
// files (the registry only needs them to exist for the checks that use this helper).

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './build.js';

export const SHIPPED_TOPICS = readFileSync(path.join(ROOT, 'config/topics.yaml'), 'utf8');
export const SHIPPED_TRANSFORMATIONS = readFileSync(path.join(ROOT, 'config/transformations.yaml'), 'utf8');

export function tempProject(files: { topics: string; transformations?: string; modules?: string[] }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'streamberg-'));
  mkdirSync(path.join(dir, 'config'));
  mkdirSync(path.join(dir, 'transformations'));
  writeFileSync(path.join(dir, 'config/topics.yaml'), files.topics);
  writeFileSync(path.join(dir, 'config/transformations.yaml'), files.transformations ?? SHIPPED_TRANSFORMATIONS);
  for (const m of files.modules ?? ['bid_events_raw', 'user_events_enriched', 'new_transformation']) {
    writeFileSync(path.join(dir, 'transformations', `${m}.ts`), 'export {};\n');
  }
  return path.join(dir, 'config');
}
