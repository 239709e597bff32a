import { sleep, type Clock } from '../clock.js';

/**
 * Spaces the starts of requests at least 1/rate seconds apart, across
 * every caller: a year of history is hundreds of requests, and the Admin
 * API's own rate limit is not published.
 */
export class RequestPacer {
  private next = 0;
  private readonly intervalMs: number;

  constructor(
    private readonly clock: Clock,
    requestsPerSecond: number,
  ) {
    this.intervalMs = 1000 / requestsPerSecond;
  }

  /** Resolves when the next request may start. */
  async turn(signal?: AbortSignal): Promise<void> {
    const now = this.clock.now();
    const at = Math.max(now, this.next);
    this.next = at + this.intervalMs;
    if (at > now) await sleep(this.clock, at - now, signal);
  }
}
