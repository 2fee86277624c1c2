// Loads the transformer class a transformations.yaml entry names and instantiates it with its
// topic's configuration, as the PyFlink job's load_and_instantiate_transformer did. Every failure is a
// TRANSFORMER_LOAD_FAILED naming the entry, because the operator has to find it in the YAML.
//
// Module resolution works both where the code runs: from TypeScript sources (vitest, tsx) the
// `.ts` file is imported as is; from tsc's output (this file at <root>/dist/src/transform/)
// `<root>/transformations/x.ts` maps to `<root>/dist/transformations/x.js`.

import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { PipelineConfig, TransformationEntry } from '../config/types.js';
import { StreamError } from '../errors.js';
import { transformerKind, type Transformer, type TransformerKind } from './transformer.js';

const HERE = fileURLToPath(import.meta.url);
const DIST_MARKER = `${path.sep}dist${path.sep}src${path.sep}transform${path.sep}`;

/** Where this code runs from: the project root, and the dist root when running compiled output. */
export function runtimeLayout(here = HERE): { projectRoot: string; distRoot: string | null } {
  if (here.includes(DIST_MARKER)) {
    const distRoot = path.resolve(path.dirname(here), '../..');
    return { projectRoot: path.dirname(distRoot), distRoot };
  }
  return { projectRoot: path.resolve(path.dirname(here), '../..'), distRoot: null };
}

export interface ResolveOptions {
  /** Defaults to the root of this checkout. */
  projectRoot?: string;
  /** Set to a dist directory to load compiled `.js` files; defaults to how this file is running. */
  distRoot?: string | null;
}

export interface ResolvedModule {
  /** The transformer's source file under transformations/. */
  sourcePath: string;
  /** What is imported: the source itself, or its compiled counterpart under dist/. */
  importPath: string;
}

function loadFailed(entry: TransformationEntry, message: string, cause?: unknown): StreamError {
  return new StreamError('TRANSFORMER_LOAD_FAILED', `transformation '${entry.name}' (class ${entry.className}, module ${entry.module !== '' ? entry.module : entry.modulePath}): ${message}`, {
    cause,
    details: { transformation: entry.name, className: entry.className, module: entry.module, modulePath: entry.modulePath },
  });
}

function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

export function resolveTransformerModule(entry: TransformationEntry, options: ResolveOptions = {}): ResolvedModule {
  if (entry.moduleRoot !== undefined) {
    // A module beside the configuration runs as it is: plain JavaScript, or TypeScript whose types
    // Node.js strips. Confined again here, through symlinks too.
    const p = entry.modulePath;
    if (!existsSync(p)) throw loadFailed(entry, `module file ${p} does not exist`);
    if (!isInside(realpathSync(entry.moduleRoot), realpathSync(p))) throw loadFailed(entry, `module path ${p} is outside ${entry.moduleRoot}`);
    return { sourcePath: p, importPath: p };
  }
  const layout = runtimeLayout();
  const projectRoot = options.projectRoot ?? layout.projectRoot;
  const distRoot = options.distRoot === undefined ? layout.distRoot : options.distRoot;
  const transformationsDir = path.join(projectRoot, 'transformations');
  const fromModule = entry.module.includes('/') || /\.[jt]s$/.test(entry.module) ? entry.module : entry.module.replace(/\./g, '/') + '.ts';
  const sourcePath = path.resolve(projectRoot, entry.modulePath !== '' ? entry.modulePath : fromModule);
  // The config loader checks this too; a worker may be handed a spec from elsewhere, so check again,
  // including through symlinks, which a plain path comparison would let out.
  const confined = (p: string) => isInside(transformationsDir, p) && (!existsSync(p) || isInside(realpathSync(transformationsDir), realpathSync(p)));
  if (!confined(sourcePath)) throw loadFailed(entry, `module path ${sourcePath} is outside ${transformationsDir}`);
  if (distRoot === null) {
    if (!existsSync(sourcePath)) throw loadFailed(entry, `module file ${sourcePath} does not exist`);
    return { sourcePath, importPath: sourcePath };
  }
  const rel = path.relative(projectRoot, sourcePath).replace(/\.ts$/, '.js');
  const importPath = path.join(distRoot, rel);
  if (!existsSync(importPath)) {
    const why = existsSync(sourcePath) ? `is not compiled: ${importPath} is missing (run npm run build)` : `file ${sourcePath} does not exist`;
    throw loadFailed(entry, `module ${why}`);
  }
  return { sourcePath, importPath };
}

export interface LoadedTransformer {
  instance: Transformer;
  kind: TransformerKind;
  resolved: ResolvedModule;
}

/** Imports the module, finds the class, instantiates it with the topic's configuration. */
export async function loadTransformer(entry: TransformationEntry, pipeline: PipelineConfig, options: ResolveOptions = {}): Promise<LoadedTransformer> {
  const resolved = resolveTransformerModule(entry, options);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolved.importPath).href)) as Record<string, unknown>;
  } catch (e) {
    throw loadFailed(entry, `importing ${resolved.importPath} failed: ${(e as Error).message}`, e);
  }
  const cls = mod[entry.className];
  if (cls === undefined) {
    const exported = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    throw loadFailed(entry, `the module has no export named ${entry.className}${exported.length > 0 ? ` (it exports ${exported.join(', ')})` : ''}`);
  }
  if (typeof cls !== 'function') throw loadFailed(entry, `export ${entry.className} is not a class`);
  let instance: Transformer;
  try {
    instance = new (cls as new (config: PipelineConfig) => Transformer)(pipeline);
  } catch (e) {
    throw loadFailed(entry, `constructing ${entry.className} failed: ${(e as Error).message}`, e);
  }
  const kind = transformerKind(instance);
  if (kind === null) {
    throw loadFailed(entry, `class ${entry.className} implements none of getTransformationSql(sourceTable), transform(batch), map(row) / filter(row)`);
  }
  return { instance, kind, resolved };
}
