// `npm start`: run the supervisor until SIGTERM/SIGINT (or, with --bounded, until every pipeline
// has reached the end offsets seen at start), then stop with a final checkpoint. Exit codes: 0
// stopped cleanly, 1 a pipeline failed for good, 2 a transformation did not compile.

import { SecretScrubber } from '../config/secrets.js';
import type { AppConfig } from '../config/types.js';
import { isStreamError } from '../errors.js';
import { createLogger } from './log.js';
import { Supervisor } from './supervisor.js';

export async function runPipelines(config: AppConfig, options: { bounded: boolean }): Promise<number> {
  const log = createLogger({ scrubber: SecretScrubber.of(config) });
  const supervisor = new Supervisor({ config, bounded: options.bounded, log });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log.log('warn', `${signal} again: exiting without a final checkpoint`);
      process.exit(130);
    }
    log.log('info', `${signal}: stopping fetches and taking a final checkpoint`);
    void supervisor.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await supervisor.start();
  } catch (err) {
    await supervisor.release().catch(() => {});
    if (isStreamError(err) && err.domain === 'user') {
      log.log('error', err.message, { code: err.code });
      return 2;
    }
    throw err;
  }
  await supervisor.wait();
  await supervisor.release();
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  return supervisor.anyFailed ? 1 : 0;
}
