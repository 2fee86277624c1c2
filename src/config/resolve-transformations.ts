// transformations.yaml: each entry resolved to what a worker loads — a class in a module of the
// project's transformations/, a module beside the configuration, or a SQL SELECT — each checked
// for existence and confinement at load time, so `--check` finds every problem before a run.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ConfigPath } from './issues.js';
import type { RawTransformationsFile } from './schema.js';
import type { SourceFile } from './source-file.js';
import type { TransformationEntry } from './types.js';

/**
 * Resolves each registry entry. A `module` is a source file under `<root>/transformations/`
 * (`transformations.bid_events_raw` → `transformations/bid_events_raw.ts`, or a relative path such
 * as `transformations/x.ts`, `./x.ts` from inside transformations/), compiled with the project. A
 * `file` is a module beside the configuration, loaded as it is. `sql` / `sql_file` is a SQL
 * SELECT. Modules outside their folder are refused: the registry must not be a way to load
 * arbitrary code from elsewhere on disk.
 */
export function resolveTransformations(
  file: SourceFile,
  raw: RawTransformationsFile,
  projectRoot: string,
): Record<string, TransformationEntry> | undefined {
  const dir = path.join(projectRoot, 'transformations');
  const configDir = path.dirname(file.absolutePath);
  const out: Record<string, TransformationEntry> = {};
  let ok = true;
  const refuse = (p: ConfigPath, problem: string, accepted: string) => {
    file.add(p, problem, { accepted });
    ok = false;
  };
  const FORMS = 'one of: `class` with `module` (under transformations/) or `file` (beside transformations.yaml), `sql` (a SELECT), or `sql_file`';
  for (const [name, entry] of Object.entries(raw.transformations)) {
    const base: ConfigPath = ['transformations', name];
    const given = (['module', 'file', 'sql', 'sql_file'] as const).filter((k) => entry[k] !== undefined);
    if (given.length !== 1) {
      refuse(base, given.length === 0 ? 'says nowhere what the transformation is' : `gives ${given.join(' and ')}; only one may be given`, FORMS);
      continue;
    }
    const description = entry.description ?? entry.class ?? name;
    if (entry.sql !== undefined || entry.sql_file !== undefined) {
      if (entry.class !== undefined) {
        refuse([...base, 'class'], 'a SQL transformation has no class', 'no `class` beside `sql` or `sql_file`');
        continue;
      }
      if (entry.sql !== undefined) {
        out[name] = { name, className: '', module: '', modulePath: '', sql: entry.sql, sqlOrigin: { file: file.displayName, line: scalarStartLine(file, [...base, 'sql']) }, description };
        continue;
      }
      const sqlPath = path.resolve(configDir, entry.sql_file!);
      if (!isInside(configDir, sqlPath)) {
        refuse([...base, 'sql_file'], 'the file is outside the configuration folder', `a .sql file inside ${configDir}`);
        continue;
      }
      let sql: string;
      try {
        sql = readFileSync(sqlPath, 'utf8');
      } catch (e) {
        refuse([...base, 'sql_file'], `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, `a readable .sql file inside ${configDir}`);
        continue;
      }
      if (sql.trim() === '') {
        refuse([...base, 'sql_file'], 'the file is empty', 'a file holding one SELECT');
        continue;
      }
      const shown = path.relative(process.cwd(), sqlPath);
      out[name] = { name, className: '', module: '', modulePath: '', sql, sqlOrigin: { file: shown.startsWith('..') ? sqlPath : shown, line: 1 }, description };
      continue;
    }
    if (entry.class === undefined) {
      refuse(base, `gives \`${given[0]}\` but no \`class\``, 'the name of the class the module exports');
      continue;
    }
    if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(entry.class)) {
      refuse([...base, 'class'], 'not a class name', 'an exported class name such as BidEventsRawTransformer');
      continue;
    }
    if (entry.file !== undefined) {
      const modulePath = path.resolve(configDir, entry.file);
      if (!isInside(configDir, modulePath)) {
        refuse([...base, 'file'], 'the module is outside the configuration folder', `a .js, .mjs or .ts file inside ${configDir}`);
        continue;
      }
      if (!/\.(m?js|ts)$/.test(modulePath) || !existsSync(modulePath)) {
        refuse([...base, 'file'], existsSync(modulePath) ? 'not a module Node.js can load as it is' : `module file not found (${modulePath})`, 'a .js, .mjs or .ts file inside the configuration folder');
        continue;
      }
      out[name] = { name, className: entry.class, module: '', modulePath, moduleRoot: configDir, description };
      continue;
    }
    const module = entry.module!;
    const p: ConfigPath = [...base, 'module'];
    let candidate: string;
    if (/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(module)) {
      candidate = path.join(projectRoot, ...module.split('.'));
    } else {
      candidate = module.startsWith('./') || module.startsWith('../') ? path.resolve(dir, module) : path.resolve(projectRoot, module);
    }
    if (!isInside(dir, candidate)) {
      refuse(p, 'module is outside the transformations/ folder', 'transformations.<name> or a path inside transformations/ (or `file:` for a module beside transformations.yaml)');
      continue;
    }
    const resolved = [candidate, `${candidate}.ts`, `${candidate}.js`].find((c) => /\.(ts|js)$/.test(c) && existsSync(c));
    if (resolved === undefined) {
      refuse(p, `module file not found (looked for ${path.relative(process.cwd(), candidate)}.ts)`, 'a module under transformations/ that exists');
      continue;
    }
    out[name] = { name, className: entry.class, module, modulePath: resolved, description };
  }
  return ok ? out : undefined;
}

function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** The line where a scalar's text begins: the line after the indicator for a `|` or `>` block. */
function scalarStartLine(file: SourceFile, p: ConfigPath): number {
  const line = file.positionOf(p).line ?? 1;
  let text = '';
  try {
    text = readFileSync(file.absolutePath, 'utf8').split('\n')[line - 1] ?? '';
  } catch {
    return line;
  }
  return /:\s*[|>][-+0-9]*\s*(#.*)?$/.test(text) ? line + 1 : line;
}
