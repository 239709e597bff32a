/**
 * Long computations in slices between which the event loop runs (scrapes,
 * timers, I/O), so that a refresh of a large organization never holds the
 * loop for long. A computation is written once, as a generator that yields
 * where it may pause; `runWhole` runs it in one go (tests, `check`), and
 * `runSliced` with a turn of the event loop at every yield: the same result.
 * Slices are counted in work (rows, samples), not timed: the injected clock
 * is the only time src/ reads.
 */

export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A computation that yields where it may pause and returns its result. */
export type Steps<T> = Generator<void, T, void>;

export function runWhole<T>(steps: Steps<T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

export async function runSliced<T>(steps: Steps<T>, pause: () => Promise<void> = nextTurn): Promise<T> {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await pause();
  }
}

/** Rows or series handled between two pauses: each costs a few microseconds (more with the garbage collector's share), so a slice stays well under 10 ms. */
export const SLICE_ITEMS = 500;
