import type { ApiEndpoint } from './endpoints.js';

/**
 * What a reader may know of the other endpoints' last good refreshes: only
 * what an endpoint's reader `share`s (a small digest of its snapshot, e.g.
 * the workspaces listed), and only while that data is served. A reader that
 * follows another endpoint (usage following the workspaces listed) reads it
 * here at fetch time and keeps what it used in its own snapshot, so that its
 * `toFamilies` stays a pure function of that snapshot.
 */
export interface Peers {
  /**
   * What `endpoint` shared at its last good refresh while that data is fresh;
   * undefined when it is not configured, not read yet, or its data was
   * withdrawn (older than MAX_STALENESS).
   */
  latest(endpoint: ApiEndpoint): unknown;
  /**
   * Resolves once `endpoint` has been tried once (at once when it is not
   * configured or already tried); rejects when `signal` aborts. Only an
   * endpoint that waits for no other may be waited for, so that no two wait
   * for each other.
   */
  tried(endpoint: ApiEndpoint, signal: AbortSignal): Promise<void>;
}

/**
 * A reader that follows another endpoint has nothing fresh of it to follow
 * (not answered yet, or its data withdrawn at MAX_STALENESS): its refresh
 * fails rather than read something else in its place, and its own last good
 * data stays until its MAX_STALENESS.
 */
export class PeerUnavailable extends Error {
  override readonly name = 'PeerUnavailable';
}

/** For a reader run alone: no other endpoint is configured. */
export const NO_PEERS: Peers = { latest: () => undefined, tried: async () => {} };

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

/** The first try of each configured endpoint, awaited by its peers: the scheduler's and `check`'s alike. */
export class FirstTries {
  private readonly deferred = new Map<ApiEndpoint, Deferred>();

  constructor(endpoints: Iterable<ApiEndpoint>) {
    for (const endpoint of endpoints) {
      let resolve = () => {};
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.deferred.set(endpoint, { promise, resolve });
    }
  }

  /** `endpoint` was tried (its first refresh ended, well or not); later calls change nothing. */
  done(endpoint: ApiEndpoint): void {
    this.deferred.get(endpoint)?.resolve();
  }

  wait(endpoint: ApiEndpoint, signal: AbortSignal): Promise<void> {
    const d = this.deferred.get(endpoint);
    if (d === undefined) return Promise.resolve();
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      void d.promise.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }
}
