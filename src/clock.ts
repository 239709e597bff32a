/**
 * Time, passed in rather than read from globals, so that tests can run the
 * scheduler, backoff waits and staleness on an injected clock while undici's
 * sockets keep using the real event loop (vitest's global fake timers stall
 * them).
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export type TimerHandle = { readonly id: number } | SystemTimer;

/** A system timer, re-armed in steps when its delay is longer than Node's timers allow. */
interface SystemTimer {
  timer: ReturnType<typeof globalThis.setTimeout> | undefined;
}

/** Node turns a longer delay into 1 ms (with a warning): a 30-day wait would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    if (Number.isNaN(ms)) throw new RangeError('a timer delay is NaN');
    const handle: SystemTimer = { timer: undefined };
    const arm = (remaining: number): void => {
      const step = Math.min(Math.max(0, remaining), MAX_TIMER_MS);
      handle.timer = globalThis.setTimeout(() => (remaining > step ? arm(remaining - step) : fn()), step);
      // A pending refresh or backoff must never keep the process alive on its own.
      handle.timer.unref();
    };
    arm(ms);
    return handle;
  },
  clearTimeout: (handle) => globalThis.clearTimeout((handle as SystemTimer).timer),
};

/**
 * Waits `ms` on `clock`. Rejects with the signal's reason as soon as `signal`
 * aborts, and clears its timer so nothing is left pending.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = clock.setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * An AbortSignal that aborts after `ms` on `clock`, with a `dispose` to clear
 * its timer when the guarded work ends first.
 */
export function deadlineSignal(clock: Clock, ms: number, reason: () => Error): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const handle = clock.setTimeout(() => controller.abort(reason()), ms);
  return { signal: controller.signal, dispose: () => clock.clearTimeout(handle) };
}
