import type { Clock, TimerHandle } from '../../src/clock.js';

interface Timer {
  id: number;
  due: number;
  fn: () => void;
}

/**
 * A clock that only moves when the test says so. Real I/O (sockets) keeps
 * running on the real event loop; only what goes through this clock waits.
 *
 * - `advance(ms)` moves time forward, firing due timers in order.
 * - `autoAdvance()` makes every timer fire as soon as the real event loop is
 *   idle, jumping the clock to its due time: backoff waits and intervals
 *   take no real time, and `now()` shows how long they would have taken.
 */
export class ManualClock implements Clock {
  private current: number;
  private timers: Timer[] = [];
  private nextId = 1;
  private auto = false;
  private autoScheduled = false;
  /**
   * Awaited after each timer fires during `advance`, e.g. a scheduler's
   * `whenIdle`, so that work a timer starts (real I/O, gzip on the thread
   * pool) has ended before time moves on.
   */
  afterEachTimer: (() => Promise<void>) | undefined;

  constructor(start: number | Date = Date.UTC(2026, 10, 15, 12, 0, 0)) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: Timer = { id: this.nextId++, due: this.current + Math.max(0, ms), fn };
    this.timers.push(timer);
    this.timers.sort((a, b) => a.due - b.due || a.id - b.id);
    this.kickAuto();
    return { id: timer.id };
  }

  clearTimeout(handle: TimerHandle): void {
    const id = (handle as { id: number }).id;
    this.timers = this.timers.filter((t) => t.id !== id);
  }

  /** Timers waiting to fire, as delays from now. */
  pending(): number[] {
    return this.timers.map((t) => t.due - this.current);
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due, in order.
   * Timers due at the same instant all fire before `afterEachTimer` is
   * awaited: work one of them starts may wait for work another starts (a
   * reader waiting for its peer's first refresh).
   */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      const next = this.timers[0];
      if (!next || next.due > target) break;
      this.current = next.due;
      while (this.timers[0] !== undefined && this.timers[0].due === this.current) {
        const due = this.timers.shift() as Timer;
        due.fn();
      }
      await settle();
      await this.afterEachTimer?.();
    }
    this.current = target;
    await settle();
    await this.afterEachTimer?.();
  }

  /** Sets the time (forward only) firing due timers on the way. */
  async set(time: number | Date): Promise<void> {
    const t = typeof time === 'number' ? time : time.getTime();
    if (t < this.current) throw new Error('ManualClock only moves forward');
    await this.advance(t - this.current);
  }

  /** Waits (in real time) until some timer is pending, e.g. a backoff sleep. */
  async waitForTimer(timeoutMs = 10_000): Promise<void> {
    const start = Date.now();
    while (this.timers.length === 0) {
      if (Date.now() - start > timeoutMs) throw new Error('no timer was scheduled');
      await new Promise((r) => setImmediate(r));
    }
  }

  autoAdvance(on = true): void {
    this.auto = on;
    this.kickAuto();
  }

  private kickAuto(): void {
    if (!this.auto || this.autoScheduled || this.timers.length === 0) return;
    this.autoScheduled = true;
    // Let pending I/O and promise chains run first, then jump to the next timer.
    setTimeout(() => {
      this.autoScheduled = false;
      if (!this.auto) return;
      const next = this.timers.shift();
      if (!next) return;
      this.current = Math.max(this.current, next.due);
      next.fn();
      this.kickAuto();
    }, 1);
  }
}

/** Lets promise chains and already-queued I/O callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}
