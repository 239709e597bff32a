/**
 * The Admin API key, re-read from its file (MISTRAL_ADMIN_API_KEY_FILE) when
 * the file changes: a key rotated in a Kubernetes Secret reaches the exporter
 * without a restart.
 */
import { readFile } from 'node:fs/promises';
import type { Clock } from './clock.js';
import { watchFiles, type FileWatcher } from './file-watch.js';
import type { Logger } from './logger.js';
import { headerValueProblem, Secret } from './secret.js';

/** Keys seen by this process, kept for scrubbing logs: a line about a request sent just before a rotation may carry the old one. */
const HISTORY = 8;

/**
 * A Secret whose value can be replaced. It prints as `[REDACTED]` like any
 * Secret; `reveal()` gives the current value, which the Admin API client reads
 * at each request.
 */
export class RotatingSecret extends Secret {
  #value: string;
  readonly #history: string[];

  constructor(initial: Secret) {
    super(initial.reveal());
    this.#value = initial.reveal();
    this.#history = [this.#value];
  }

  override reveal(): string {
    return this.#value;
  }

  replace(value: string): void {
    this.#value = value;
    this.#history.push(value);
    if (this.#history.length > HISTORY) this.#history.shift();
  }

  /** Every value it held lately, the current one included: for the logger's scrubbing. */
  values(): readonly string[] {
    return this.#history;
  }
}

export interface KeyFileWatchOptions {
  file: string;
  secret: RotatingSecret;
  /** The variable naming the file, for log lines. */
  setting: string;
  logger: Logger;
  clock: Clock;
  intervalMs?: number;
}

/**
 * Watches the key file; a new key is used from the next request on. An empty,
 * unreadable or malformed file keeps the key in use, with an error line saying
 * so (never the key itself).
 */
export function watchKeyFile(options: KeyFileWatchOptions): FileWatcher {
  const { file, secret, logger, setting } = options;
  const origin = `${setting}=${JSON.stringify(file)}`;
  return watchFiles({
    paths: () => [file],
    clock: options.clock,
    intervalMs: options.intervalMs,
    onChange: async () => {
      let value: string;
      try {
        value = (await readFile(file, 'utf8')).trim();
      } catch (err) {
        logger.error(
          { key_file: file },
          `${origin}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'}); keeping the key in use`,
        );
        return;
      }
      if (value === '') {
        logger.error({ key_file: file }, `${origin}: the file is empty now; keeping the key in use (is the Secret mounted?)`);
        return;
      }
      // The same check as at start: what may go in an HTTP header.
      const problem = headerValueProblem(value);
      if (problem !== undefined) {
        logger.error(
          { key_file: file },
          `${origin}: the new key cannot be sent: ${problem}; keeping the key in use (check how it was copied)`,
        );
        return;
      }
      if (value === secret.reveal()) return;
      secret.replace(value);
      logger.info({ key_file: file }, `${origin}: the key changed; the next Admin API request uses the new one`);
    },
  });
}
