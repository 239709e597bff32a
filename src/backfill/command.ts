import { Writable } from 'node:stream';
import type { LevelWithSilent } from 'pino';
import { systemClock } from '../clock.js';
import type { Config } from '../config/index.js';
import { createLogger } from '../logger.js';
import type { BackfillOptions } from './options.js';
import { BackfillRequestError, runBackfill, summary } from './run.js';

type Stderr = NodeJS.WritableStream & { isTTY?: boolean };

/**
 * Log lines for stderr. On a terminal they wait until the progress bar is
 * done (a line written under it would break its redrawing); piped, they go
 * out at once, between the bar's own lines.
 */
function logSink(stderr: Stderr): { destination: Writable; flush: () => void } {
  const held: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (stderr.isTTY === true) held.push(chunk.toString());
      else stderr.write(chunk.toString());
      done();
    },
  });
  return { destination, flush: () => stderr.write(held.splice(0).join('')) };
}

/**
 * Runs the backfill for the CLI: Ctrl-C stops it between requests (what is
 * written stays written), the summary goes to stderr. Exit code: 0 when
 * every file is in place, 1 when some failed, 2 on a request that cannot be
 * met, 130 when interrupted.
 */
export async function backfillCommand(
  config: Config,
  options: BackfillOptions,
  deps: { level: LevelWithSilent; secrets: readonly string[]; stderr: Stderr },
): Promise<number> {
  const sink = logSink(deps.stderr);
  const logger = createLogger({ level: deps.level, secrets: deps.secrets, destination: sink.destination });
  const stop = new AbortController();
  const onSigint = () => stop.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  const started = systemClock.now();
  try {
    const result = await runBackfill(config, options, { logger, stderr: deps.stderr, signal: stop.signal });
    sink.flush();
    deps.stderr.write(summary(options, result, systemClock.now() - started));
    if (result.interrupted) return 130;
    return result.failed.length > 0 ? 1 : 0;
  } catch (err) {
    sink.flush();
    if (!(err instanceof BackfillRequestError)) throw err;
    deps.stderr.write(`mistral-admin-exporter: ${err.message}\n`);
    return 2;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
