import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logger.js';

/** A logger whose JSON lines are kept for assertions. */
export function captureLogs(options: { level?: 'debug' | 'info' | 'trace'; secrets?: string[] } = {}): {
  logger: Logger;
  lines: () => Array<Record<string, unknown> & { msg: string; level: string }>;
  text: () => string;
} {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ level: options.level ?? 'debug', secrets: options.secrets, destination });
  const text = () => chunks.join('');
  return {
    logger,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l)),
  };
}
