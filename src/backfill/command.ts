import { systemClock } from '../clock.js';
import type { Config } from '../config/index.js';
import type { Logger } from '../logger.js';
import type { BackfillOptions } from './options.js';
import { BackfillRequestError, runBackfill, summary } from './run.js';

/**
 * Runs the backfill for the CLI: Ctrl-C stops it between requests (what is
 * written stays written), the summary goes to stderr. Exit code: 0 when
 * every file is in place, 1 when some failed, 2 on a request that cannot be
 * met, 130 when interrupted.
 */
export async function backfillCommand(
  config: Config,
  options: BackfillOptions,
  deps: { logger: Logger; stderr: NodeJS.WritableStream & { isTTY?: boolean } },
): Promise<number> {
  const stop = new AbortController();
  const onSigint = () => stop.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  const started = systemClock.now();
  try {
    const result = await runBackfill(config, options, { ...deps, signal: stop.signal });
    deps.stderr.write(summary(options, result, systemClock.now() - started));
    if (result.interrupted) return 130;
    return result.failed.length > 0 ? 1 : 0;
  } catch (err) {
    if (!(err instanceof BackfillRequestError)) throw err;
    deps.stderr.write(`mistral-admin-exporter: ${err.message}\n`);
    return 2;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
