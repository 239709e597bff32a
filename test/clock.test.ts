import { describe, expect, it } from 'vitest';
import { sleep, systemClock } from '../src/clock.js';

/** Lets real timers of a few milliseconds run. */
const aFewMilliseconds = () => new Promise((resolve) => setTimeout(resolve, 30));

describe('systemClock', () => {
  it('fires a short timer', async () => {
    let fired = false;
    systemClock.setTimeout(() => {
      fired = true;
    }, 1);
    await aFewMilliseconds();
    expect(fired).toBe(true);
  });

  it('does not fire a wait longer than Node allows at once (2^31 ms, ~24.8 days): Node would turn it into 1 ms', async () => {
    const fired: number[] = [];
    const handles = [2 ** 31, 30 * 86_400_000, 1e12, Infinity].map((ms) => systemClock.setTimeout(() => fired.push(ms), ms));
    await aFewMilliseconds();
    for (const h of handles) systemClock.clearTimeout(h);
    expect(fired).toEqual([]);
  });

  it('clears a timer before it fires', async () => {
    let fired = false;
    const handle = systemClock.setTimeout(() => {
      fired = true;
    }, 5);
    systemClock.clearTimeout(handle);
    await aFewMilliseconds();
    expect(fired).toBe(false);
  });

  it('refuses a NaN delay instead of firing at once', () => {
    expect(() => systemClock.setTimeout(() => undefined, Number.NaN)).toThrow(RangeError);
  });

  it('sleep rejects with the reason as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const slept = sleep(systemClock, 60_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(slept).rejects.toThrow('stop');
  });
});
