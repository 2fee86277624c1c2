// Reads `topics.yaml` and `transformations.yaml` from a config folder, interpolates `${ENV}`,
// validates both files completely (every problem, not the first), applies the defaults that the
// PyFlink job hard-coded in config.py and the command-line overrides, and returns the resolved
// configuration. Nothing here touches Kafka or a catalog.

import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../project-root.js';
import { ConfigError, type ConfigIssue } from './issues.js';
import { resolveCatalog } from './resolve-catalog.js';
import { resolveKafka } from './resolve-kafka.js';
import { resolvePipelines, resolveRuntime } from './resolve.js';
import { resolveTransformations } from './resolve-transformations.js';
import type { z } from 'zod';
import { catalogSchema, kafkaSchema, runtimeSchema, topicsFileSchema, transformationsFileSchema } from './schema.js';
import { SourceFile } from './source-file.js';
import type { AppConfig, ConfigOverrides } from './types.js';

export type { ConfigOverrides };

export interface LoadOptions {
  /** Folder holding topics.yaml and transformations.yaml. */
  configDir: string;
  env?: Readonly<Record<string, string | undefined>>;
  overrides?: ConfigOverrides;
  /**
   * Root that `transformations.x` module names resolve against; default: this checkout, whose
   * transformations/ folder is compiled with the rest of the code.
   */
  projectRoot?: string;
}

export interface LoadedConfig {
  config: AppConfig;
  /** Settings that were accepted but have no effect, and similar notes. */
  warnings: string[];
}

export const TOPICS_FILE = 'topics.yaml';
export const TRANSFORMATIONS_FILE = 'transformations.yaml';

/** Loads and validates; throws ConfigError listing every problem found. */
export function loadConfig(options: LoadOptions): LoadedConfig {
  const env = options.env ?? process.env;
  const configDir = path.resolve(options.configDir);
  const projectRoot = path.resolve(options.projectRoot ?? PROJECT_ROOT);
  if (!existsSync(configDir)) {
    throw new ConfigError([
      { file: options.configDir, path: [], problem: 'config folder not found', hasFound: false, accepted: `a folder holding ${TOPICS_FILE} and ${TRANSFORMATIONS_FILE}` },
    ]);
  }

  const topicsFile = SourceFile.read(path.join(configDir, TOPICS_FILE), env);
  const transformationsFile = SourceFile.read(path.join(configDir, TRANSFORMATIONS_FILE), env);
  const rawTopics = topicsFile.validate(topicsFileSchema);
  const rawTransformations = transformationsFile.validate(transformationsFileSchema);
  const warnings: string[] = [];

  const transformations = rawTransformations
    ? resolveTransformations(transformationsFile, rawTransformations, projectRoot)
    : undefined;

  // Each section is resolved on its own, so that a structural mistake in one section does not
  // hide the mistakes in the others: the user sees every problem in one run.
  let config: AppConfig | undefined;
  const data = topicsFile.data as Record<string, unknown> | undefined;
  if (data !== undefined && data !== null && typeof data === 'object') {
    const section = <S extends z.ZodType>(schema: S, value: unknown): z.infer<S> | undefined => {
      const r = schema.safeParse(value);
      return r.success ? r.data : undefined;
    };
    const rawKafka = section(kafkaSchema, data.kafka);
    const kafka = rawKafka && resolveKafka(topicsFile, rawKafka, configDir, warnings);
    const rawRuntime = section(runtimeSchema.optional(), data.runtime);
    const runtime = data.runtime === undefined || rawRuntime
      ? resolveRuntime(topicsFile, rawRuntime, options.overrides ?? {}, os.availableParallelism())
      : undefined;
    const rawCatalog = section(catalogSchema.optional(), data.catalog);
    const catalog = data.catalog === undefined || rawCatalog ? resolveCatalog(topicsFile, rawCatalog, configDir) : undefined;
    const pipelines = resolvePipelines(topicsFile, data.topics, transformations, catalog, warnings, configDir);
    if (rawTopics && kafka && runtime && catalog && pipelines && transformations) {
      config = {
        configDir,
        files: { topics: topicsFile.absolutePath, transformations: transformationsFile.absolutePath },
        kafka,
        runtime,
        catalog,
        pipelines,
        transformations,
      };
    }
  }

  // In file order, as an editor would walk them; structural and semantic checks run apart.
  const byPlace = (a: ConfigIssue, b: ConfigIssue) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
  const issues: ConfigIssue[] = [...topicsFile.issues.sort(byPlace), ...transformationsFile.issues.sort(byPlace)];
  if (issues.length > 0 || !config) throw new ConfigError(issues);
  if (!config.pipelines.some((p) => p.enabled)) warnings.push(`${topicsFile.displayName}: no topic is enabled`);
  if (config.runtime.checkpointMode === 'AT_LEAST_ONCE') {
    warnings.push(`${topicsFile.displayName}: runtime.checkpoint_mode AT_LEAST_ONCE has no effect: every pipeline commits exactly once`);
  }
  return { config, warnings };
}
