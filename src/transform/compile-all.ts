// Every enabled pipeline's transformation loaded and compiled against its schemas, before
// anything runs: used by `--check` and by the supervisor at start.

import type { AppConfig } from '../config/types.js';
import { StreamError, toStreamError } from '../errors.js';
import { buildTransform, type TransformSpec } from './batch-transform.js';

/** Throws one TRANSFORMER_LOAD_FAILED listing every pipeline that fails, each named by topic. */
export async function compileTransforms(config: AppConfig): Promise<Map<string, TransformSpec>> {
  const specs = new Map<string, TransformSpec>();
  const problems: string[] = [];
  for (const p of config.pipelines.filter((x) => x.enabled)) {
    const entry = config.transformations[p.transformation]!;
    const spec: TransformSpec = { pipeline: p, entry, sessionTimeZone: config.runtime.localTimeZone };
    try {
      await buildTransform(spec);
      specs.set(p.topic, spec);
    } catch (err) {
      const e = toStreamError(err);
      if (e.domain !== 'user') throw err;
      problems.push(`topics.${p.topic} (transformation ${p.transformation}): ${e.message}`);
    }
  }
  if (problems.length > 0) {
    throw new StreamError('TRANSFORMER_LOAD_FAILED', problems.join('\n'), { details: { problems } });
  }
  return specs;
}
