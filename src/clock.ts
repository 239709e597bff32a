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

export type TimerHandle = { readonly id: number } | ReturnType<typeof globalThis.setTimeout>;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = globalThis.setTimeout(fn, ms);
    // A pending refresh or backoff must never keep the process alive on its own.
    t.unref();
    return t;
  },
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
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
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
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
