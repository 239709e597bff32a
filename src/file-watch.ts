import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Clock, TimerHandle } from './clock.js';

/** How often watched files are read, unless told otherwise. Kubernetes takes up to a minute to update a mounted Secret anyway. */
export const DEFAULT_FILE_POLL_MS = 5000;

export interface FileWatcherOptions {
  /** The files to watch; asked at every poll, as a reload may name other files. */
  paths: () => readonly string[];
  /** Called once the files' contents changed and then held still for one more poll. */
  onChange: () => void | Promise<void>;
  clock: Clock;
  intervalMs?: number;
}

export interface FileWatcher {
  /** Starts polling on the clock. */
  start(): void;
  stop(): void;
  /** One poll now: tests call it instead of waiting for the interval. */
  poll(): Promise<void>;
}

/**
 * Watches files by reading them: a fingerprint of their contents (or of why
 * one cannot be read) at every poll. Kubernetes updates a mounted Secret or
 * ConfigMap by swapping a `..data` symlink in the volume's directory, which
 * `fs.watch` on the file itself never sees; reading the path does. A change
 * is acted on when the new contents held still for one more poll (a
 * debounce): a certificate and its key written one after the other are read
 * together, not half-way.
 */
export function watchFiles(options: FileWatcherOptions): FileWatcher {
  const intervalMs = options.intervalMs ?? DEFAULT_FILE_POLL_MS;
  let timer: TimerHandle | undefined;
  let running = false;
  let candidate: string | undefined;
  let inFlight: Promise<void> | undefined;

  const fingerprint = async (): Promise<string> => {
    const paths = options.paths();
    return combine(paths, await Promise.all(paths.map((p) => readFile(p).then(fileDigest, unreadable))));
  };
  // The contents as they are now, when the caller has just read them: a change from here on is seen.
  let seen = combine(
    options.paths(),
    options.paths().map((p) => {
      try {
        return fileDigest(readFileSync(p));
      } catch (err) {
        return unreadable(err);
      }
    }),
  );

  const once = async (): Promise<void> => {
    const now = await fingerprint();
    if (now === seen) {
      candidate = undefined;
      return;
    }
    if (now !== candidate) {
      candidate = now;
      return;
    }
    seen = now;
    candidate = undefined;
    await options.onChange();
  };

  const poll = (): Promise<void> => {
    // Polls never overlap: a slow read or reload is waited for, not doubled.
    inFlight ??= once().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };

  const arm = (): void => {
    timer = options.clock.setTimeout(() => {
      void poll()
        .catch(() => undefined)
        .finally(() => {
          if (running) arm();
        });
    }, intervalMs);
  };

  return {
    start() {
      if (running) return;
      running = true;
      arm();
    },
    stop() {
      running = false;
      if (timer !== undefined) options.clock.clearTimeout(timer);
      timer = undefined;
    },
    poll,
  };
}

function fileDigest(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

function unreadable(err: unknown): string {
  return `unreadable:${(err as NodeJS.ErrnoException).code ?? 'error'}`;
}

function combine(paths: readonly string[], contents: readonly string[]): string {
  return createHash('sha256')
    .update(JSON.stringify([paths, contents]))
    .digest('hex');
}
