// The command line, once src/cli.ts has set up the process: loads the configuration, and either
// checks it (--check) or runs the pipelines; `maintain` maintains their tables once
// (tools/maintain.ts). Exit codes: 0 done, 1 a pipeline (or a table's maintenance) failed, 2
// configuration or usage error.

import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeConfig } from './config/describe.js';
import { ConfigError, formatIssue } from './config/issues.js';
import { loadConfig, type ConfigOverrides } from './config/load.js';
import { maskUserinfo, SecretScrubber } from './config/secrets.js';
import { PARALLELISM, parallelismSchema } from './config/schema.js';
import type { RestCatalogConfig } from './config/types.js';
import { ACCEPTED_DURATION, parseDuration } from './config/units.js';
import { isStreamError } from './errors.js';

export const USAGE = `Usage: npm start -- [options]
       npm start -- maintain [options]   (expire snapshots, remove orphan files; maintain --help)

Runs every enabled pipeline in <config>/topics.yaml: Kafka topic → transformation → Iceberg table.

Options:
  --config DIR               folder with topics.yaml and transformations.yaml (default: config)
  --parallelism N            transform worker threads (default: runtime.parallelism, else CPU cores)
  --checkpoint-interval D    time between checkpoints, e.g. 10s, 1min (default: runtime.checkpoint_interval, 60s)
  --metrics-port P           Prometheus /metrics port, 0 to disable (default: runtime.metrics_port, 9464)
  --bounded                  consume up to the end offsets seen at start, commit, and exit
  --check                    validate the configuration, print the resolved pipelines, and exit
  --help                     show this text
`;

export const EXIT = { OK: 0, FAILED: 1, CONFIG: 2 } as const;

export interface CliOptions {
  configDir: string;
  overrides: ConfigOverrides;
  bounded: boolean;
  check: boolean;
  help: boolean;
}

export class UsageError extends Error {}

export function parseCli(argv: string[]): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        parallelism: { type: 'string' },
        'checkpoint-interval': { type: 'string' },
        'metrics-port': { type: 'string' },
        bounded: { type: 'boolean', default: false },
        check: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  const overrides: ConfigOverrides = {};
  if (v.parallelism !== undefined) {
    const n = parallelismSchema.safeParse(v.parallelism);
    if (!n.success) throw new UsageError(`--parallelism: found "${v.parallelism}"; expected a whole number from ${PARALLELISM.min} to ${PARALLELISM.max}`);
    overrides.parallelism = n.data;
  }
  if (v['checkpoint-interval'] !== undefined) {
    const ms = parseDuration(v['checkpoint-interval']);
    if (ms === undefined || ms < 100) throw new UsageError(`--checkpoint-interval: found "${v['checkpoint-interval']}"; expected ${ACCEPTED_DURATION}, at least 100ms`);
    overrides.checkpointIntervalMs = ms;
  }
  if (v['metrics-port'] !== undefined) {
    const n = Number(v['metrics-port']);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--metrics-port: found "${v['metrics-port']}"; expected a port from 0 to 65535`);
    overrides.metricsPort = n;
  }
  return { configDir: v.config ?? 'config', overrides, bounded: v.bounded, check: v.check, help: v.help };
}

/**
 * `--check` with a REST catalog: does it answer `GET /v1/config` with our credentials? Refused
 * credentials or a refused request are configuration errors (exit 2); no answer exits 1.
 */
async function checkRestCatalog(config: RestCatalogConfig, out: Output): Promise<number> {
  const { createCatalog } = await import('./iceberg/catalogs.js');
  try {
    const catalog = await createCatalog(config);
    await catalog.close();
    out.stdout(`REST catalog ${config.uri}: GET /v1/config answered\n`);
    return EXIT.OK;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    out.stderr(`REST catalog ${config.uri}: ${message}\n`);
    return isStreamError(err) && !err.retryable ? EXIT.CONFIG : EXIT.FAILED;
  }
}

/** What `--check` prints, cleaned of the configuration's secrets on the way out. */
interface Output {
  stdout(text: string): void;
  stderr(text: string): void;
}

function scrubbedOutput(scrubber: SecretScrubber): Output {
  return {
    stdout: (text) => process.stdout.write(scrubber.scrub(text)),
    stderr: (text) => process.stderr.write(scrubber.scrub(text)),
  };
}

/** For the last-resort handler below, which prints a stack: the running configuration's secrets. */
let lastScrubber: SecretScrubber | undefined;

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'maintain') {
    const { maintainCommand } = await import('./tools/maintain.js');
    return maintainCommand(argv.slice(1));
  }
  let options: CliOptions;
  try {
    options = parseCli(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${USAGE}`);
      return EXIT.CONFIG;
    }
    throw err;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return EXIT.OK;
  }
  let loaded;
  try {
    loaded = loadConfig({ configDir: path.resolve(options.configDir), overrides: options.overrides });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.issues.length} configuration error${err.issues.length === 1 ? '' : 's'}:\n`);
      for (const issue of err.issues) process.stderr.write(`  ${formatIssue(issue)}\n`);
      return EXIT.CONFIG;
    }
    throw err;
  }
  const scrubber = SecretScrubber.of(loaded.config);
  lastScrubber = scrubber;
  const out = scrubbedOutput(scrubber);
  for (const w of loaded.warnings) out.stderr(`warning: ${w}\n`);
  if (options.check) {
    // Transformers are loaded and compiled against their schemas too: a missing class, SQL the
    // compiler refuses, or output that does not fit the sink is a configuration error.
    const { compileTransforms } = await import('./transform/compile-all.js');
    try {
      await compileTransforms(loaded.config);
    } catch (err) {
      if (isStreamError(err) && err.domain === 'user') {
        const lines = err.message.split('\n');
        out.stderr(`${lines.length} transformation error${lines.length === 1 ? '' : 's'}:\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
        return EXIT.CONFIG;
      }
      throw err;
    }
    const { checkRegistries } = await import('./transform/decode/registry-check.js');
    const registries = await checkRegistries(loaded.config.pipelines);
    for (const w of registries.warnings) out.stderr(`warning: ${w}\n`);
    if (registries.errors.length > 0) {
      out.stderr(`${registries.errors.length} schema registry error${registries.errors.length === 1 ? '' : 's'}:\n${registries.errors.map((l) => `  ${l}`).join('\n')}\n`);
      return EXIT.CONFIG;
    }
    out.stdout(`${describeConfig(loaded.config)}\n`);
    for (const n of registries.notes) out.stdout(`  ${n}\n`);
    if (loaded.config.catalog.type === 'rest') return checkRestCatalog(loaded.config.catalog, out);
    return EXIT.OK;
  }
  if (options.bounded && loaded.config.runtime.scaleOut) {
    // A bounded run reads every partition up to its end; under scale-out a process reads only
    // what the group gives it, and when that ends is not its own to decide.
    out.stderr('--bounded cannot be used with runtime.scale_out.enabled: true (a bounded run reads every partition to the end offsets seen at start; run it in one process without scale_out)\n');
    return EXIT.CONFIG;
  }
  const { runPipelines } = await import('./runtime/run.js');
  return runPipelines(loaded.config, { bounded: options.bounded });
}

/** Runs the command line on this process's arguments and sets its exit code. */
export function runCli(): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
      process.stderr.write(`${lastScrubber ? lastScrubber.scrub(text) : maskUserinfo(text)}\n`);
      process.exitCode = 1;
    },
  );
}
