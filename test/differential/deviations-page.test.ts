// docs/FLINK-DIFFERENCES.md is generated from test/differential/deviations.yaml; the committed page
// must be what the list makes, so the published account never drifts from the checked one.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/build.js';
import { loadDeviations } from './corpus.js';

const SCRIPT = path.join(ROOT, 'scripts/deviations-page.mjs');

describe('docs/FLINK-DIFFERENCES.md', () => {
  it('is what deviations.yaml makes', () => {
    const r = spawnSync(process.execPath, [SCRIPT, '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('names every listed query, and the check fails when the list changes', () => {
    const page = readFileSync(path.join(ROOT, 'docs/FLINK-DIFFERENCES.md'), 'utf8');
    for (const d of loadDeviations()) expect(page).toContain(`\`${d.query}\``);
    // A copy of the project layout with one more deviation: the committed page is then stale.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'deviations-page-'));
    for (const sub of ['scripts', 'test/differential', 'docs']) mkdirSync(path.join(dir, sub), { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    copyFileSync(SCRIPT, path.join(dir, 'scripts/deviations-page.mjs'));
    copyFileSync(path.join(ROOT, 'docs/FLINK-DIFFERENCES.md'), path.join(dir, 'docs/FLINK-DIFFERENCES.md'));
    const yaml = readFileSync(path.join(ROOT, 'test/differential/deviations.yaml'), 'utf8').replace(/^deviations: \[\]$/m, 'deviations:');
    writeFileSync(path.join(dir, 'test/differential/deviations.yaml'), `${yaml}\n  - {query: extra-one, kind: rows, reason: r, flink: f, ours: o}\n`);
    const r = spawnSync(process.execPath, [path.join(dir, 'scripts/deviations-page.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('run npm run docs:deviations');
  });
});
