// Runs Python snippets in the project's virtualenv (.venv, made by scripts/setup-python.sh),
// which holds the real peers the Iceberg tests check against: pyiceberg and moto.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const VENV_BIN = join(ROOT, '.venv', 'bin');
export const PYTHON = join(VENV_BIN, 'python');

/** Creates the virtualenv when it is missing (the script is idempotent and locked). */
export function ensurePythonEnv(): void {
  if (existsSync(join(VENV_BIN, 'moto_server')) && existsSync(PYTHON)) return;
  execFileSync('bash', [join(ROOT, 'scripts/setup-python.sh')], { stdio: 'inherit', timeout: 900_000 });
}

/**
 * Runs `code` with `input` available as the JSON-decoded global `ARGS`; the snippet prints one
 * JSON document as its last line of output, which is returned parsed.
 */
export async function runPython<T = unknown>(code: string, input: unknown = {}, env: Record<string, string> = {}): Promise<T> {
  const prelude = 'import json, os, sys\nARGS = json.loads(os.environ["PY_ARGS"])\n';
  return new Promise<T>((resolvePromise, reject) => {
    const child = spawn(PYTHON, ['-c', prelude + code], {
      env: { ...process.env, ...env, PY_ARGS: JSON.stringify(input) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`python exited with ${code}:\n${err}\n${out}`));
        return;
      }
      const lines = out.trim().split('\n');
      try {
        resolvePromise(JSON.parse(lines[lines.length - 1]!) as T);
      } catch {
        reject(new Error(`python printed no JSON:\n${out}\n${err}`));
      }
    });
  });
}
