import { LRUCache } from 'lru-cache';
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { scrub } from './secret.js';

export type { Logger };

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Values that must never reach the output, whatever logged them; a function is asked at each line (a key re-read from its file). */
  secrets?: readonly string[] | (() => readonly string[]);
  /** Where the JSON lines go; stdout by default. Tests pass a capturing stream. */
  destination?: DestinationStream;
}

/**
 * JSON logs (pino). Two guards keep the key out: header and key fields are
 * redacted by path, and every line is scrubbed of the secret values before it
 * is written, so an error message or an echoed API body cannot carry it out.
 */
export function createLogger(options: LoggerOptions): Logger {
  const given = options.secrets ?? [];
  const secrets = typeof given === 'function' ? given : () => given;
  const scrubbing = typeof given === 'function' || given.some((s) => s.length > 0);
  return pino(
    {
      level: options.level,
      base: { name: 'mistral-admin-exporter' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          'apiKey',
          '*.apiKey',
          'headers.authorization',
          'headers["x-api-key"]',
          '*.headers.authorization',
          '*.headers["x-api-key"]',
          'req.headers.authorization',
          'req.headers.cookie',
        ],
        censor: '[REDACTED]',
      },
      hooks: scrubbing ? { streamWrite: (line: string) => scrub(line, secrets()) } : {},
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/**
 * Logs each distinct problem once (e.g. a usage category with no price), not
 * at every refresh. The keys are remembered in a bounded LRU, so a stream of
 * ever-new keys (a hostile or broken upstream) cannot grow memory: past
 * `max` distinct keys the oldest may be logged again.
 */
export function warnOnce(max = 1000): (logger: Logger, key: string, fields: Record<string, unknown>, message: string) => void {
  const seen = new LRUCache<string, true>({ max });
  return (logger, key, fields, message) => {
    if (seen.get(key)) return; // get, unlike has, keeps a recurring key recent
    seen.set(key, true);
    logger.warn(fields, message);
  };
}
